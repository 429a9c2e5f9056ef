/**
 * The web demo: the microphone or a dropped file streamed to the server
 * this page came from, with the current label, the smoothed scores over
 * time (label changes marked) and the attention of the latest window over
 * its spectrogram. A stereo file is a call: its two channels stream as the
 * session's two parties and are shown side by side.
 */
import { connectMicrophone } from '../../js/src/browser/index.ts';
import { type AerSession, AerClientError, connect, type EmotionMessage, sendPaced, topLabel } from '../../js/src/index.ts';
import { AudioHistory } from './audio-history.ts';
import { drawChart, type PartyTrace } from './chart.ts';
import { colorOf } from './colors.ts';
import { drawAttention, drawSpectrogram } from './spectrogram.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const streamUrl = `${location.origin.replace(/^http/, 'ws')}/v1/stream`;
const params = new URLSearchParams(location.search);
$<HTMLInputElement>('token').value = params.get('token') ?? '';

let session: AerSession | undefined;
let stopSource: (() => Promise<void> | void) | undefined;
/** Per channel: what it heard, for the spectrogram under the attention strip. */
let history: AudioHistory[] = [];
let labels: string[] = [];
let parties: PartyTrace[] = [];
let events = 0;
let warnings = 0;

function setState(state: 'idle' | 'connecting' | 'live' | 'done' | 'error', text: string): void {
  document.body.dataset.state = state;
  $('status').textContent = text;
  $<HTMLButtonElement>('mic').disabled = state === 'connecting' || state === 'live';
  $<HTMLButtonElement>('stop').disabled = state !== 'live';
}

function showMessage(text: string | undefined): void {
  const box = $('message');
  box.hidden = !text;
  box.textContent = text ?? '';
}

/** A party's name: the microphone or a mono file is one voice; a stereo file is a call, left and right. */
const partyName = (channel: number, channels: number) => (channels === 1 ? 'Now' : channel === 0 ? 'Left channel' : 'Right channel');

function buildParties(channels: number): void {
  parties = Array.from({ length: channels }, (_, c) => ({ name: partyName(c, channels), points: [], changes: [] }));
  const bars = labels
    .map(
      (l) =>
        `<li><span>${l}</span><span class="track"><span class="fill" data-label="${l}" style="background:${colorOf(l)}"></span></span><span class="value" data-value="${l}">–</span></li>`,
    )
    .join('');
  $('parties').innerHTML = parties
    .map(
      (p, c) =>
        `<section class="card now" data-party="${c}"><h2>${p.name}</h2><div class="label">–</div><div class="confidence">waiting for speech</div><ul class="bars">${bars}</ul></section>`,
    )
    .join('');
  $('legend').innerHTML = labels.map((l) => `<li><i style="background:${colorOf(l)}"></i>${l}</li>`).join('');
}

function onEmotion(e: EmotionMessage): void {
  const party = parties[e.channel];
  const card = document.querySelector<HTMLElement>(`[data-party="${e.channel}"]`);
  if (!party || !card) return;
  const in$ = <T extends HTMLElement>(selector: string) => card.querySelector<T>(selector)!;
  events++;
  document.body.dataset.events = String(events);
  $('count').textContent = String(events);
  $('latency').textContent = `${Math.round(e.latency_ms)} ms`;
  const scores = e.smoothed ?? e.scores;
  party.points.push({ t: e.end_s, scores: e.speech ? scores : null });
  party.points = party.points.filter((p) => p.t > e.end_s - 40);
  if (!e.speech || !scores) {
    in$('.confidence').textContent = 'no speech in the last 3 s';
    in$('.label').style.opacity = '0.35';
    return;
  }
  const top = topLabel(scores);
  in$('.label').textContent = top;
  in$('.label').style.color = colorOf(top);
  in$('.label').style.opacity = '1';
  in$('.confidence').textContent = `${Math.round(scores[top] * 100)} % smoothed · window ${e.start_s.toFixed(1)}–${e.end_s.toFixed(1)} s`;
  for (const l of labels) {
    in$(`[data-label="${l}"]`).style.width = `${(scores[l] * 100).toFixed(1)}%`;
    in$(`[data-value="${l}"]`).textContent = `${Math.round(scores[l] * 100)}%`;
  }
  const heard = history[e.channel];
  if (e.attention && heard) {
    drawSpectrogram($<HTMLCanvasElement>('spectrogram'), heard.slice(e.start_s, e.end_s), heard.sampleRate);
    drawAttention($<HTMLCanvasElement>('heat'), e.attention);
    $('window-party').textContent = parties.length > 1 ? `${party.name.toLowerCase()}, ` : '';
    $('window-start').textContent = `${e.start_s.toFixed(1)} s`;
    $('window-end').textContent = `${e.end_s.toFixed(1)} s`;
    document.body.dataset.attention = String(Number(document.body.dataset.attention ?? 0) + 1);
  }
}

function attach(s: AerSession): void {
  session = s;
  labels = s.ready.labels;
  events = 0;
  buildParties(s.ready.config.channels);
  const band = s.ready.model.band === 'narrow' ? ' · telephone-band model' : '';
  $('model').textContent = `model ${s.ready.model.variant}${band} · ${s.ready.model.engine}`;
  s.on('emotion', onEmotion);
  s.on('change', (c) => parties[c.channel]?.changes.push({ t: c.at_s, label: c.to }));
  s.on('warning', (w) => {
    warnings++;
    $('warnings').textContent = String(warnings);
    if (w.code === 'overloaded') showMessage(`The server is overloaded and skipped ${w.windows ?? 'some'} windows.`);
  });
  s.on('reconnecting', (r) => setState('connecting', `reconnecting (attempt ${r.attempt})`));
  s.on('reconnected', (r) => {
    setState('live', 'live');
    showMessage(`Reconnected; ${r.lost.seconds.toFixed(1)} s of audio (${r.lost.from_s.toFixed(1)}–${r.lost.to_s.toFixed(1)} s) was not analysed.`);
  });
  s.on('failed', (error) => fail(error));
  s.on('closed', (c) => setState('done', `done: ${c.stats.audio_s.toFixed(1)} s analysed, ${c.stats.speech_windows} speech windows`));
  setState('live', 'live');
}

function fail(error: unknown): void {
  const message = error instanceof AerClientError ? `${error.message} [${error.code}]` : String(error);
  showMessage(message);
  setState('error', 'error');
}

function options() {
  const token = $<HTMLInputElement>('token').value.trim();
  return { token: token || undefined, reconnect: { attempts: 5 } };
}

async function startMicrophone(): Promise<void> {
  showMessage(undefined);
  setState('connecting', 'connecting…');
  history = [];
  try {
    const { session: s, microphone } = await connectMicrophone(streamUrl, {
      ...options(),
      onAudio: (samples, rate) => {
        history[0] ??= new AudioHistory(rate);
        history[0].push(samples);
      },
    });
    attach(s);
    stopSource = () => microphone.stop();
  } catch (error) {
    fail(error);
  }
}

async function streamFile(file: File): Promise<void> {
  showMessage(undefined);
  setState('connecting', `decoding ${file.name}…`);
  try {
    const context = new AudioContext();
    let decoded: AudioBuffer;
    try {
      decoded = await context.decodeAudioData(await file.arrayBuffer());
    } catch {
      throw new AerClientError('unreadable_file', `${file.name}: this browser cannot decode it; try WAV, MP3, Ogg or WebM audio`);
    } finally {
      void context.close();
    }
    // Two channels or more: a call, its first two channels its parties; else one voice.
    const tracks = decoded.numberOfChannels >= 2 ? [decoded.getChannelData(0), decoded.getChannelData(1)] : [decoded.getChannelData(0)];
    const s = await connect(streamUrl, { ...options(), encoding: 'pcm_s16le', sampleRate: decoded.sampleRate, channels: tracks.length });
    history = tracks.map(() => new AudioHistory(decoded.sampleRate));
    attach(s);
    const stopped = new AbortController();
    stopSource = () => stopped.abort();
    const chunk = Math.round(decoded.sampleRate * 0.02);
    function* pieces() {
      for (let i = 0; i < decoded.length; i += chunk) {
        const parts = tracks.map((t) => t.subarray(i, i + chunk));
        parts.forEach((part, c) => history[c].push(part));
        const frames = parts[0].length;
        const interleaved = new Float32Array(frames * parts.length);
        for (let f = 0; f < frames; f++) for (let c = 0; c < parts.length; c++) interleaved[f * parts.length + c] = parts[c][f];
        yield { audio: interleaved, endS: (i + frames) / decoded.sampleRate };
      }
    }
    await sendPaced(s, pieces(), { signal: stopped.signal });
    if (!stopped.signal.aborted) await stop();
  } catch (error) {
    fail(error);
  }
}

async function stop(): Promise<void> {
  await stopSource?.();
  stopSource = undefined;
  if (session?.connected) await session.close().catch(fail);
}

function render(): void {
  if (session && labels.length) {
    drawChart($<HTMLCanvasElement>('chart'), labels, parties, session.audioSeconds);
    $('audio').textContent = `${session.audioSeconds.toFixed(1)} s`;
  }
  requestAnimationFrame(render);
}

$('mic').addEventListener('click', () => void startMicrophone());
$('stop').addEventListener('click', () => void stop());
const drop = $('drop');
$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void streamFile(file);
});
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void streamFile(file);
});
setState('idle', 'not connected');
requestAnimationFrame(render);
