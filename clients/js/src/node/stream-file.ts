/** Streaming a file through a session, at real-time pace (as a live source would) or as fast as the server accepts. */
import type { AerSession, CloseResult, ConnectOptions } from '../session.ts';
import { connect } from '../session.ts';
import { type AudioFileSource, readAudioFile } from './audio-file.ts';

export interface StreamFileOptions {
  /** Pace the audio at real time (default) or send it as fast as the server takes it (backpressure still applies). */
  realtime?: boolean;
  /** Stop early. */
  signal?: AbortSignal;
}

/** Sends every chunk of `source` through `session`; resolves once all is sent (the caller flushes or closes). */
export async function streamFile(session: AerSession, source: AudioFileSource, options: StreamFileOptions = {}): Promise<void> {
  const started = performance.now();
  for (const chunk of source.chunks) {
    if (options.signal?.aborted) return;
    await session.send(chunk.bytes);
    if (options.realtime ?? true) {
      const wait = started + chunk.endS * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Opens a session in the file's format, streams the file, closes, and
 * resolves with the `closed` stats; `onSession` gets the session first, to
 * subscribe to its events.
 */
export async function analyseFile(url: string, path: string, options: ConnectOptions & StreamFileOptions & { onSession?: (session: AerSession) => void } = {}): Promise<CloseResult> {
  const source = await readAudioFile(path);
  const session = await connect(url, { ...options, ...source.format });
  options.onSession?.(session);
  await streamFile(session, source, options);
  return session.close();
}
