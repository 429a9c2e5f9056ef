/**
 * Sends audio at the pace it was recorded: each chunk once as much time has
 * passed since the first as the audio up to its end lasts (or as fast as the
 * server accepts, with `realtime: false`). Platform-neutral, so file
 * streaming in Node and the web demo's dropped files pace alike.
 */
import type { AudioInput } from './audio.ts';
import type { AerSession } from './session.ts';

export interface PacedChunk {
  audio: AudioInput;
  /** Where the chunk ends in the audio, in seconds from its start. */
  endS: number;
}

export interface PaceOptions {
  /** Wait for real time between chunks (default true). */
  realtime?: boolean;
  /** Stops sending; what was sent stays sent. */
  signal?: AbortSignal;
}

export async function sendPaced(session: AerSession, chunks: Iterable<PacedChunk>, options: PaceOptions = {}): Promise<void> {
  const started = performance.now();
  for (const chunk of chunks) {
    if (options.signal?.aborted) return;
    await session.send(chunk.audio);
    if (options.realtime ?? true) {
      const wait = started + chunk.endS * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
