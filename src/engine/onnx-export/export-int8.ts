/**
 * model.int8.onnx: the model with its costly convolutions in int8, beside
 * model.onnx. Calibrated on windows of real speech, and checked against the
 * float graph on other windows: it is written only when it names the same
 * label on at least MIN_LABEL_AGREEMENT of them.
 */
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { INT8_FILE, INT8_SESSION_OPTIONS } from '../int8-session.ts';
import type { LoadedModel } from '../../model/model-dir.ts';
import { weightsDigest, writeAtomically } from '../../model/model-files.ts';
import { calibrate } from './calibrate.ts';
import { exportOnnx, onnxMetadata } from './export.ts';
import { type Agreement, checkAgreement, MIN_LABEL_AGREEMENT } from './parity.ts';
import type { Calibration } from './quantize.ts';

export interface Int8Export {
  file: string;
  calibration: Calibration;
  agreement: Agreement;
}

/** `calibrationWindows` set the ranges; `checkWindows` (other clips) measure the agreement. */
export async function exportInt8ModelDir(
  loaded: LoadedModel,
  calibrationWindows: Float32Array,
  checkWindows: Float32Array,
  source: string,
): Promise<Int8Export> {
  const calibration = await calibrate(loaded.model, calibrationWindows);
  const metadata = onnxMetadata(loaded, await weightsDigest(loaded.dir));
  const bytes = exportOnnx(loaded.model, { ...metadata, precision: 'int8', calibration: source }, { quantize: calibration });
  const agreement = await checkAgreement(exportOnnx(loaded.model, metadata), bytes, checkWindows, INT8_SESSION_OPTIONS);
  const file = path.join(loaded.dir, INT8_FILE);
  if (agreement.labels < MIN_LABEL_AGREEMENT) {
    throw new AerError(
      'unsupported_model',
      `int8 names the float model's label on ${(agreement.labels * 100).toFixed(1)} % of ${agreement.windows} check windows, under ${MIN_LABEL_AGREEMENT * 100} %; ${file} was not written`,
      {
        hint: 'calibrate on data like what the service will hear, or serve with --precision fp32',
      },
    );
  }
  await writeAtomically(file, bytes);
  return { file, calibration, agreement };
}
