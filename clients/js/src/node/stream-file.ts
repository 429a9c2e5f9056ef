/** Streaming a file through a session, at real-time pace (as a live source would) or as fast as the server accepts. */
import type { AerSession, CloseResult, ConnectOptions } from '../session.ts';
import { type PaceOptions, sendPaced } from '../paced.ts';
import { connect } from '../session.ts';
import { type AudioFileSource, readAudioFile } from './audio-file.ts';

/** Real-time pace (default) or as fast as the server takes it (backpressure still applies); a signal stops early. */
export type StreamFileOptions = PaceOptions;

/** Sends every chunk of `source` through `session`; resolves once all is sent (the caller flushes or closes). */
export async function streamFile(session: AerSession, source: AudioFileSource, options: StreamFileOptions = {}): Promise<void> {
  await sendPaced(
    session,
    source.chunks.map((c) => ({ audio: c.bytes, endS: c.endS })),
    options,
  );
}

/**
 * Opens a session in the file's format, streams the file, closes, and
 * resolves with the `closed` stats; `onSession` gets the session first, to
 * subscribe to its events.
 */
export async function analyseFile(
  url: string,
  path: string,
  options: ConnectOptions & StreamFileOptions & { onSession?: (session: AerSession) => void } = {},
): Promise<CloseResult> {
  const source = await readAudioFile(path);
  const session = await connect(url, { ...options, ...source.format });
  options.onSession?.(session);
  await streamFile(session, source, options);
  return session.close();
}
