/**
 * A model replica in a worker thread: it receives weights and a shard of a
 * batch, and returns the shard's gradients (or predictions). Each replica has
 * its own TF.js backend, so replicas train on separate cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildAerNet } from '../../model/aernet.ts';
import { selectBackend } from '../../model/backend.ts';
import { buildEnsemble } from '../../model/ensemble.ts';
import { packVariables, unpackWeights } from '../../model/weights.ts';
import { seedMathRandom } from '../random.ts';
import { predictFeatures, shardGradients } from '../step.ts';
import type { FromReplica, ReplicaData, ToReplica } from './protocol.ts';

const port = parentPort!;
const data = workerData as ReplicaData;
const send = (message: FromReplica, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  const backend = await selectBackend(data.backend, { training: true });
  const model = (data.members ?? 1) > 1 ? buildEnsemble(data.modelOptions, data.members!) : buildAerNet(data.modelOptions);
  port.on('message', (message: ToReplica) => {
    try {
      if (message.type === 'step') {
        unpackWeights(model, message.weights);
        seedMathRandom(message.seed);
        const result = shardGradients(model, message, message.batchSize);
        const frozen = packVariables(model.nonTrainableWeights);
        send({ type: 'step', id: message.id, ...result, frozen }, [result.gradients.buffer as ArrayBuffer, frozen.buffer as ArrayBuffer]);
      } else {
        if (message.weights) unpackWeights(model, message.weights);
        const result = predictFeatures(model, message.features);
        send({ type: 'predict', id: message.id, ...result }, [result.probabilities.buffer as ArrayBuffer, result.attention.buffer as ArrayBuffer]);
      }
    } catch (error) {
      send({ type: 'error', id: message.id, message: (error as Error).message, stack: (error as Error).stack });
    }
  });
  send({ type: 'ready', backend: backend.name, detail: backend.detail });
} catch (error) {
  send({ type: 'error', message: (error as Error).message, stack: (error as Error).stack });
}
