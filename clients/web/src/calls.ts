/**
 * The supervisor view at /calls: every live call (and those just ended),
 * each party's current emotion and its last minute, alerts in red. The
 * list comes from GET /v1/calls every few seconds; each call's events from
 * a WebSocket on /v1/calls/{id}/events, which replays the call so far and
 * resumes after the last event seen when it reconnects.
 */
import type { CallEvent, CallInfo, PartyState } from '../../js/src/index.ts';
import { colorOf } from './colors.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const tokenInput = $<HTMLInputElement>('token');
tokenInput.value = params.get('token') ?? '';
const LIST_EVERY_MS = 3000;
const HISTORY_S = 60;
const RECONNECT_MS = 2000;

interface Party {
  state: PartyState;
  row: HTMLElement;
  now: HTMLElement;
  strip: HTMLCanvasElement;
  /** Speech windows heard: where each ended (call seconds) and its label. */
  windows: { end: number; label: string }[];
}

interface Tracked {
  info: CallInfo;
  card: HTMLElement;
  meta: HTMLElement;
  alerts: HTMLUListElement;
  parties: Map<number, Party>;
  lastSeq: number;
  /** The call's latest audio time heard (seconds). */
  at: number;
  socket: WebSocket | undefined;
  ended: boolean;
}

const calls = new Map<string, Tracked>();
let events = 0;
let alertCount = 0;

function token(): string {
  return tokenInput.value.trim();
}

function setStatus(state: 'live' | 'error', text: string): void {
  document.body.dataset.state = state;
  $('status').textContent = text;
}

function showMessage(text: string | undefined): void {
  const box = $('message');
  box.hidden = !text;
  box.textContent = text ?? '';
}

function counts(): void {
  document.body.dataset.calls = String(calls.size);
  document.body.dataset.live = String([...calls.values()].filter((c) => !c.ended).length);
  document.body.dataset.alerts = String(alertCount);
  document.body.dataset.events = String(events);
  $('empty').hidden = calls.size > 0;
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

function renderParty(p: Party, at: number): void {
  const { label, confidence } = p.state;
  p.now.textContent = label ? `${label} ${Math.round((confidence ?? 0) * 100)} %` : '(no speech yet)';
  p.now.style.color = label ? colorOf(label) : 'var(--muted)';
  const ctx = p.strip.getContext('2d')!;
  const { width, height } = p.strip;
  ctx.fillStyle = '#0f1115';
  ctx.fillRect(0, 0, width, height);
  const from = Math.max(0, at - HISTORY_S);
  let previous = from;
  for (const w of p.windows) {
    if (w.end <= from) continue;
    const x0 = ((Math.max(previous, from) - from) / HISTORY_S) * width;
    const x1 = ((w.end - from) / HISTORY_S) * width;
    ctx.fillStyle = colorOf(w.label);
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), height);
    previous = w.end;
  }
  // Older windows are off the strip for good.
  while (p.windows.length > 0 && p.windows[0].end < from) p.windows.shift();
}

function renderMeta(c: Tracked): void {
  const { info } = c;
  const started = new Date(info.started_at).toLocaleTimeString();
  c.meta.textContent = `${info.source} · ${started} · ${clock(c.at)}${c.ended ? ' · ended' : ''}`;
  c.card.classList.toggle('ended', c.ended);
}

function track(info: CallInfo): Tracked {
  const card = element('section', 'card call');
  card.dataset.call = info.id;
  const head = element('header', '');
  head.append(element('span', 'id', info.id));
  const meta = element('span', 'meta');
  head.append(meta);
  card.append(head);
  const parties = new Map<number, Party>();
  for (const state of info.parties) {
    const row = element('div', 'party');
    row.dataset.role = state.role;
    const now = element('span', 'now');
    const strip = element('canvas', '');
    strip.width = 300;
    strip.height = 14;
    row.append(element('span', 'role', state.role), now, strip);
    card.append(row);
    parties.set(state.channel, { state: { ...state }, row, now, strip, windows: [] });
  }
  const alerts = element('ul', 'alerts');
  card.append(alerts);
  $('calls').prepend(card);
  const c: Tracked = { info, card, meta, alerts, parties, lastSeq: 0, at: 0, socket: undefined, ended: false };
  for (const p of parties.values()) renderParty(p, 0);
  renderMeta(c);
  subscribe(c);
  return c;
}

function onEvent(c: Tracked, e: CallEvent): void {
  c.lastSeq = e.seq;
  events++;
  switch (e.type) {
    case 'emotion': {
      c.at = Math.max(c.at, e.end_s);
      const p = c.parties.get(e.channel);
      if (p && e.speech && e.label) p.windows.push({ end: e.end_s, label: e.label });
      break;
    }
    case 'change': {
      const p = c.parties.get(e.channel);
      if (p) Object.assign(p.state, { label: e.to, confidence: e.confidence, at_s: e.at_s });
      break;
    }
    case 'alert': {
      alertCount++;
      c.card.classList.add('alerting');
      const item = element('li', '', `${clock(e.at_s)} ${e.party} ${e.label} since ${clock(e.since_s)} (${Math.round(e.confidence * 100)} %)`);
      c.alerts.append(item);
      break;
    }
    case 'call_ended':
      c.ended = true;
      c.info = e.summary;
      c.socket?.close(1000);
      break;
    default:
      break;
  }
  for (const p of c.parties.values()) renderParty(p, c.at);
  renderMeta(c);
  counts();
}

/** The call's events from after the last seen; a dropped socket reconnects and resumes there. */
function subscribe(c: Tracked): void {
  const url = new URL(`/v1/calls/${encodeURIComponent(c.info.id)}/events`, location.href);
  url.protocol = url.protocol.replace('http', 'ws');
  url.searchParams.set('since', String(c.lastSeq));
  if (token()) url.searchParams.set('token', token());
  const socket = new WebSocket(url);
  c.socket = socket;
  socket.onmessage = (m) => onEvent(c, JSON.parse(String(m.data)) as CallEvent);
  socket.onclose = (close) => {
    if (c.ended || close.code === 1000) return;
    // 4400 and 1008 (a gone call, a bad token) are not worth retrying.
    if (close.code === 4400 || close.code === 1008) return showMessage(`${c.info.id}: ${close.reason || `closed ${close.code}`}`);
    setTimeout(() => subscribe(c), RECONNECT_MS);
  };
}

async function refresh(): Promise<void> {
  try {
    const res = await fetch('/v1/calls', { headers: token() ? { authorization: `Bearer ${token()}` } : {} });
    if (res.status === 401) {
      setStatus('error', 'token needed');
      return showMessage('The server needs a token: enter it above (or open /calls?token=...).');
    }
    if (!res.ok) {
      setStatus('error', `calls: ${res.status}`);
      return showMessage(((await res.json()) as { error?: { message?: string } }).error?.message ?? `GET /v1/calls answered ${res.status}`);
    }
    const { calls: listed } = (await res.json()) as { calls: CallInfo[] };
    showMessage(undefined);
    setStatus('live', `${listed.filter((c) => c.status === 'live').length} live`);
    for (const info of listed) if (!calls.has(info.id)) calls.set(info.id, track(info));
    // Calls the server no longer lists leave the page.
    const ids = new Set(listed.map((c) => c.id));
    for (const [id, c] of calls)
      if (!ids.has(id)) {
        c.socket?.close(1000);
        c.card.remove();
        calls.delete(id);
      }
    counts();
  } catch (error) {
    setStatus('error', 'server unreachable');
    showMessage(`The server cannot be reached: ${(error as Error).message}`);
  }
}

tokenInput.addEventListener('change', () => void refresh());
void refresh();
setInterval(() => void refresh(), LIST_EVERY_MS);
