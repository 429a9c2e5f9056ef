// Entry of a worker thread that runs a TypeScript module (workerData.entry): registers tsx in this
// thread first, as loader hooks registered in the parent thread do not reach workers.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
