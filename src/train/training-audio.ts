/**
 * The audio a training run draws its windows from: each clip; the same clip
 * as a telephone line, an Opus link or a 16 kHz stream delivers it
 * (precomputed once per run, so an epoch pays nothing for codecs); and the
 * clips that can continue it as continuous speech (same speaker, same
 * emotion), so a window can be full of speech as the service's windows are.
 */
import { SAMPLE_RATE, WINDOW_SAMPLES } from '../features/recipe.ts';
import type { AugmentOptions } from './augment.ts';
import type { LoadedClip } from './clip-store.ts';
import { MAX_GAP_S } from './conditions/continuous.ts';
import { SCORED_OVERLAP_S } from './conditions/call.ts';
import { via16k, viaOpus, viaTelephone } from './conditions/channel-sim.ts';
import { deriveRandom, type Random, shuffled } from './random.ts';

/** Opus bit rates a clip's Opus copy is drawn from (kbit/s): narrow- to wideband voice. */
const OPUS_KBPS = [8, 12, 16];

export type SimulatedChannel = 'telephone' | 'opus' | '16k';

export interface TrainingAudio {
  /** Per clip, 22050 Hz. */
  clean: Float32Array[];
  /** Per clip, its copy through each of the options' channels, in their order; empty when channel augmentation is off. */
  channels: Float32Array[][];
  /** Per clip, the other clips of its speaker and emotion. */
  siblings: number[][];
}

/** The run's audio; `onProgress` follows the channel simulation, the one slow part. */
export function prepareTrainingAudio(
  clips: readonly LoadedClip[],
  options: AugmentOptions,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): TrainingAudio {
  const groups = new Map<string, number[]>();
  clips.forEach((c, i) => {
    const key = `${c.speaker}\u0000${c.label}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const channels = clips.map((c, i) => {
    if (options.channel <= 0) return [];
    const random = deriveRandom(seed, 5, i);
    const law = random() < 0.5 ? 'mulaw' : 'alaw';
    const kbps = OPUS_KBPS[Math.floor(random() * OPUS_KBPS.length)];
    const heard = options.channels.map((kind) =>
      kind === 'telephone' ? viaTelephone(c.signal, law) : kind === 'opus' ? viaOpus(c.signal, kbps) : via16k(c.signal),
    );
    onProgress?.(i + 1, clips.length);
    return heard;
  });
  return {
    clean: clips.map((c) => c.signal),
    channels,
    siblings: clips.map((c, i) => groups.get(`${c.speaker}\u0000${c.label}`)!.filter((j) => j !== i)),
  };
}

/** Clip `id` as one channel draw hears it: clean, or (with probability `options.channel`) through one of the options' channels. */
export function channelDraw(audio: TrainingAudio, options: AugmentOptions, random: Random): (id: number) => Float32Array {
  if (options.channel <= 0 || random() >= options.channel) return (id) => audio.clean[id];
  const k = Math.floor(random() * options.channels.length);
  return (id) => audio.channels[id][k];
}

/**
 * A 3 s window of continuous speech starting inside clip `id`: the clip
 * from a random sample on (so windows fall on and off any grid), then its
 * siblings in a random order with random gaps, until the window is full.
 * Undefined when the clip has no sibling to continue it.
 */
export function continuousWindow(audio: TrainingAudio, id: number, heard: (id: number) => Float32Array, random: Random): Float32Array | undefined {
  const siblings = audio.siblings[id];
  if (siblings.length === 0) return undefined;
  const window = new Float32Array(WINDOW_SAMPLES);
  const first = heard(id);
  let from = Math.floor(random() * first.length);
  let at = 0;
  let next = first;
  let previous = id;
  while (at < WINDOW_SAMPLES) {
    const piece = next.subarray(from, from + (WINDOW_SAMPLES - at));
    window.set(piece, at);
    at += piece.length + Math.round(random() * MAX_GAP_S * SAMPLE_RATE);
    // Any sibling but the one just heard (when there is another).
    const choices = siblings.length > 1 ? siblings.filter((s) => s !== previous) : siblings;
    previous = choices[Math.floor(random() * choices.length)];
    next = heard(previous);
    from = 0;
  }
  return window;
}

/** A call window's turn holds up to this many clips (the stream rows' turns hold two). */
const TURN_CLIPS = 3;

/**
 * A 3 s window as a call's channel has it around one turn: clip `id` and up
 * to two of its siblings back to back (half the time with pauses of up to
 * MAX_GAP_S between them), silence before and after, the window anywhere
 * that keeps SCORED_OVERLAP_S of it inside the turn (or all of a shorter
 * turn): the windows the stream rows score, speech meeting the line at
 * their edges. The caller lays the line's floor under it.
 */
export function callWindow(audio: TrainingAudio, id: number, heard: (id: number) => Float32Array, random: Random): Float32Array {
  const count = 1 + Math.floor(random() * TURN_CLIPS);
  const pieces = [id, ...shuffled(audio.siblings[id], random).slice(0, count - 1)].map(heard);
  const paused = random() < 0.5;
  const pauses = pieces.map((_, k) => (k > 0 && paused ? Math.round(random() * MAX_GAP_S * SAMPLE_RATE) : 0));
  const turn = new Float32Array(pieces.reduce((n, piece, k) => n + pauses[k] + piece.length, 0));
  let at = 0;
  for (const [k, piece] of pieces.entries()) {
    turn.set(piece, at + pauses[k]);
    at += pauses[k] + piece.length;
  }
  // The window starts at `offset` in the turn; it keeps at least `need` of the turn from `need - WINDOW_SAMPLES` to `turn.length - need`.
  const need = Math.min(Math.round(SCORED_OVERLAP_S * SAMPLE_RATE), turn.length);
  const lowest = need - WINDOW_SAMPLES;
  const offset = lowest + Math.floor(random() * (turn.length - need - lowest + 1));
  const window = new Float32Array(WINDOW_SAMPLES);
  const from = Math.max(0, offset);
  window.set(turn.subarray(from, Math.min(turn.length, offset + WINDOW_SAMPLES)), from - offset);
  return window;
}
