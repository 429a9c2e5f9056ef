/** Every window of a whole signal, exactly as a stream of it would produce them. */
import { type FeatureWindow, IncrementalMelExtractor } from './incremental.ts';

export function signalWindows(signal: Float32Array, hopMs?: number): { windows: FeatureWindow[]; hopMs: number } {
  const extractor = new IncrementalMelExtractor(hopMs);
  const windows = [...extractor.push(signal), ...extractor.flush()];
  return { windows, hopMs: extractor.hop.ms };
}
