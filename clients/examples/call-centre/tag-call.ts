/**
 * Live tagging of one call: a stereo recording (agent left, customer
 * right), or two mono recordings as the two channels of one session,
 * streamed to aer-stream; a console timeline per speaker, emotion segments,
 * alerts when a watched speaker holds a watched emotion, and a summary.
 */
import { AerClientError, bytesPerFrame, type ChangeMessage, connect, type EmotionMessage, topLabel } from '../../js/src/index.ts';
import { type AudioFileSource, readAudioFile, streamFile } from '../../js/src/node/index.ts';
import { type Segment, Segmenter } from './segments.ts';
import { type Alert, type CallSummary, summarise } from './summary.ts';

export interface TagCallOptions {
  url: string;
  speakers?: string[];
  /** Alert when this speaker's smoothed scores have been led by one of these for `alertAfterS`. */
  alertOn?: { speaker: string; labels: string[] };
  /**
   * Seconds of audio the label must hold before it alerts (default 2): the
   * first window of a turn, with a fraction of a second of speech, can read
   * a confident wrong label that the next windows correct.
   */
  alertAfterS?: number;
  realtime?: boolean;
  token?: string;
  /** Console lines (the timeline, alerts); default none. */
  log?: (line: string) => void;
  onAlert?: (alert: Alert) => void;
}

export interface TaggedCall {
  segments: Segment[];
  summary: CallSummary;
}

export const DEFAULT_ALERT_AFTER_S = 2;

const bar = (v: number) => '█'.repeat(Math.round(v * 10)).padEnd(10, '░');
const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${(s % 60).toFixed(1).padStart(4, '0')}`;

/** Two mono WAV recordings as one stereo source (the first left). */
export async function pairAsStereo(left: string, right: string): Promise<AudioFileSource> {
  const [a, b] = await Promise.all([readAudioFile(left), readAudioFile(right)]);
  for (const s of [a, b]) {
    if (s.format.encoding === 'ogg_opus' || s.format.channels !== 1)
      throw new AerClientError('unreadable_file', `${s.path}: two live sources must each be mono WAV`);
  }
  if (a.format.sampleRate !== b.format.sampleRate || a.format.encoding !== b.format.encoding)
    throw new AerClientError(
      'unreadable_file',
      `${left} and ${right} differ in rate or sample format; convert both: ffmpeg -i IN -ac 1 -ar 16000 -c:a pcm_s16le OUT.wav`,
    );
  const width = bytesPerFrame(a.format);
  const join = (s: AudioFileSource) => {
    const out = new Uint8Array(s.chunks.reduce((n, c) => n + c.bytes.length, 0));
    s.chunks.reduce((o, c) => (out.set(c.bytes, o), o + c.bytes.length), 0);
    return out;
  };
  const [l, r] = [join(a), join(b)];
  const frames = Math.max(l.length, r.length) / width;
  const stereo = new Uint8Array(frames * 2 * width);
  for (let f = 0; f < frames; f++) {
    if (f * width < l.length) stereo.set(l.subarray(f * width, (f + 1) * width), f * 2 * width);
    if (f * width < r.length) stereo.set(r.subarray(f * width, (f + 1) * width), (f * 2 + 1) * width);
  }
  const rate = a.format.sampleRate;
  const step = Math.round(rate / 10) * 2 * width;
  const chunks = [];
  for (let i = 0; i < stereo.length; i += step)
    chunks.push({ bytes: stereo.subarray(i, i + step), endS: Math.min(stereo.length, i + step) / (2 * width) / rate });
  return { path: `${left} + ${right}`, format: { ...a.format, channels: 2 }, durationS: frames / rate, chunks };
}

export async function tagCall(source: AudioFileSource, options: TagCallOptions): Promise<TaggedCall> {
  const named = options.speakers ?? (source.format.channels === 2 ? ['agent', 'customer'] : ['caller']);
  if (named.length < source.format.channels)
    throw new AerClientError('invalid_audio', `${source.path} has ${source.format.channels} channels but ${named.length} speaker name(s) were given`);
  // A party per channel: a mono file has one, whatever names were given.
  const speakers = named.slice(0, source.format.channels);
  const log = options.log ?? (() => {});
  const session = await connect(options.url, { ...source.format, token: options.token });
  // An 8 kHz call is heard by the server's telephone-band model, when it has one.
  if (session.ready.model.band === 'narrow') log('(heard by the telephone-band model)');
  const segmenter = new Segmenter(speakers, session.ready.config.hop_ms / 1000);
  const changes: ChangeMessage[] = [];
  const alerts: Alert[] = [];
  const alertAfterS = options.alertAfterS ?? DEFAULT_ALERT_AFTER_S;
  // The watched channel's stretch of speech windows led by a watched label: the end of its first window, whether it has alerted.
  const watching = new Map<number, { sinceS: number; alerted: boolean }>();
  const latest = new Map<number, EmotionMessage>();
  let nextRow = 0;
  const row = (at: number) => {
    const cells = speakers.map((speaker, channel) => {
      const e = latest.get(channel);
      const scores = e?.smoothed ?? e?.scores;
      if (!e?.speech || !scores) return `${speaker.padEnd(9)} ${'·'.repeat(10)} ${'(silence)'.padEnd(13)}`;
      const label = topLabel(scores);
      return `${speaker.padEnd(9)} ${bar(scores[label])} ${`${label} ${Math.round(scores[label] * 100)} %`.padEnd(13)}`;
    });
    log(`${clock(at)}  ${cells.join('  ')}`);
  };
  const watch = (e: EmotionMessage, smoothed: Record<string, number>, label: string) => {
    // From one watched label to another the stretch goes on; the alert names the label leading when it fires.
    const held = watching.get(e.channel) ?? { sinceS: e.end_s, alerted: false };
    watching.set(e.channel, held);
    if (held.alerted || e.end_s - held.sinceS + 1e-9 < alertAfterS) return;
    held.alerted = true;
    const speaker = speakers[e.channel];
    const confidence = smoothed[label];
    const alert: Alert = {
      at_s: e.end_s,
      speaker,
      label,
      confidence,
      message: `${speaker} ${label} since ${clock(held.sinceS)}, at ${clock(e.end_s)} (${Math.round(confidence * 100)} %)`,
    };
    alerts.push(alert);
    log(`>>> ALERT: ${alert.message}`);
    options.onAlert?.(alert);
  };
  session.on('emotion', (e) => {
    segmenter.add(e);
    latest.set(e.channel, e);
    if (options.alertOn && speakers[e.channel] === options.alertOn.speaker && e.smoothed) {
      const label = topLabel(e.smoothed);
      if (options.alertOn.labels.includes(label)) watch(e, e.smoothed, label);
      else watching.delete(e.channel);
    }
    // One timeline row per second of the call, once every channel has reached it.
    const reached = Math.min(...speakers.map((_, c) => latest.get(c)?.end_s ?? 0));
    while (reached >= nextRow + 1) row(++nextRow);
  });
  session.on('change', (c) => changes.push(c));
  session.on('warning', (w) => log(`(warning: ${w.message})`));
  await streamFile(session, source, { realtime: options.realtime ?? true });
  const closed = await session.close();
  const segments = segmenter.finish();
  const lost = closed.lost.reduce((t, l) => t + l.seconds, 0);
  return { segments, summary: summarise(source.path, closed.stats.audio_s || source.durationS, speakers, segments, changes, alerts, lost) };
}
