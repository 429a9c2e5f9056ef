/**
 * POST /v1/classify: a whole WAV or Ogg Opus file through the same session
 * pipeline a stream uses (VAD, windows every hop, batched model, smoothing),
 * answered with every window's result at once.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { decodeAudioFile } from '../audio/load.ts';
import { AerError } from '../errors.ts';
import { Session, type SessionDeps } from '../stream/session.ts';
import { MAX_STREAM_CHANNELS, type ServerMessage, type StreamConfig } from './protocol.ts';

/** Interleaved float32 bytes of planar channels. */
function interleave(channels: Float32Array[]): Uint8Array {
  const frames = channels[0].length;
  const out = new Float32Array(frames * channels.length);
  for (let f = 0; f < frames; f++) for (let c = 0; c < channels.length; c++) out[f * channels.length + c] = channels[c][f];
  return new Uint8Array(out.buffer);
}

export async function classifyFile(body: Uint8Array, options: Pick<StreamConfig, 'hopMs' | 'vad' | 'attention' | 'smoothing'>, deps: SessionDeps, id: string): Promise<{ format: string; duration_s: number; channels: number; events: ServerMessage[] }> {
  const audio = decodeAudioFile(body);
  if (audio.channels.length > MAX_STREAM_CHANNELS) {
    throw new AerError('too_many_channels', `the file has ${audio.channels.length} channels; /v1/classify analyses up to ${MAX_STREAM_CHANNELS}`, { hint: 'split or mix the channels first, e.g. ffmpeg -i in.wav -ac 2 out.wav' });
  }
  const session = new Session(id, { hopMs: options.hopMs, vad: options.vad, attention: options.attention, smoothing: options.smoothing, encoding: 'pcm_f32le', sampleRate: audio.sampleRate, channels: audio.channels.length }, deps);
  const events = lastValueFrom(session.events$.pipe(toArray()));
  const bytes = interleave(audio.channels);
  // Fed a second at a time, as a stream would be: windows go to the scheduler while the rest is cut.
  const step = audio.sampleRate * audio.channels.length * 4;
  for (let i = 0; i < bytes.length; i += step) session.audio(bytes.subarray(i, i + step));
  session.closeStream();
  return { format: audio.format, duration_s: audio.channels[0].length / audio.sampleRate, channels: audio.channels.length, events: await events };
}
