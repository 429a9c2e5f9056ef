/**
 * What GET /v1/models tells a client about the model: its labels, variant,
 * engine and measured figures, and nothing of the machine it runs on. The
 * model's aer.json records where it was trained (commands, data folders,
 * output paths); those never leave the server.
 */
import type { ServedBand } from '../protocol/wire.ts';
import type { Engine } from '../engine/engine.ts';
import { melFminOf, windowInputOf } from '../model/model-files.ts';

/** Keys of aer.json's records that name the machine's files or how it was run there. */
const PRIVATE_KEYS = new Set(['command', 'root', 'dir', 'path', 'out', 'cache']);

function looksLikePath(value: string): boolean {
  return /^(\/|~|\.\.?\/|[A-Za-z]:[\\/]|\\\\)/.test(value) || value.includes('/../');
}

/** A deep copy without private keys or path-like strings. */
export function withoutPaths(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => typeof v !== 'string' || !looksLikePath(v)).map(withoutPaths);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (PRIVATE_KEYS.has(key) || (typeof v === 'string' && looksLikePath(v))) continue;
      out[key] = withoutPaths(v);
    }
    return out;
  }
  return value;
}

/** `band`: wide for the default model, narrow for the telephone-band companion. */
export function describeModel(engine: Engine, band: ServedBand): Record<string, unknown> {
  const m = engine.metadata;
  return {
    id: band === 'wide' ? 'default' : 'narrowband',
    band,
    labels: m.labels,
    variant: m.variant,
    version: m.version,
    created: m.created,
    engine: engine.detail,
    attention_steps: m.attention_steps,
    attention_hop_s: m.attention_hop_s,
    feature_recipe: m.feature_recipe.name,
    window_input: windowInputOf(m),
    mel_fmin: melFminOf(m),
    // An ensemble's networks (aer ensemble): each window is scored by every one and their answers averaged.
    networks: m.ensemble?.length ?? 1,
    metrics: withoutPaths(m.metrics),
  };
}
