/**
 * A call as Genesys Cloud's AudioHook client sends it (protocol version 2,
 * Genesys Cloud Developer Center: "AudioHook Protocol Specification"):
 * the API key in X-API-KEY, `open` offering PCMU at 8000 Hz with the
 * external (customer) and internal (agent) channels, audio as binary
 * frames of interleaved samples once `opened` came, a `ping` now and then,
 * and `close` answered by `closed`. What the reference integration
 * replays into the service, and what the tests and the benchmark use.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';

export interface AudioHookCall {
  conversationId: string;
  organizationId?: string;
  apiKey?: string;
  /** Milliseconds of audio a frame (Genesys sends 100-200 ms). */
  frameMs?: number;
  /** Send at real time (as a live call) instead of as fast as the service takes it. */
  realTime?: boolean;
}

export interface AudioHookResult {
  /** The server's messages, parsed. */
  messages: { type: string; parameters: Record<string, unknown> }[];
  close: { code: number; reason: string };
}

/** Streams two mu-law channels (same length: external, internal) as one AudioHook session; resolves once the server closed. */
export async function audioHookCall(url: string, call: AudioHookCall, external: Uint8Array, internal: Uint8Array): Promise<AudioHookResult> {
  const id = crypto.randomUUID();
  const ws = new WebSocket(url, {
    headers: {
      'Audiohook-Organization-Id': call.organizationId ?? crypto.randomUUID(),
      'Audiohook-Correlation-Id': id,
      'Audiohook-Session-Id': id,
      ...(call.apiKey ? { 'X-API-KEY': call.apiKey } : {}),
    },
  });
  const messages: AudioHookResult['messages'] = [];
  let seq = 0;
  let serverseq = 0;
  let samples = 0;
  const position = () => `PT${(samples / 8000).toFixed(3)}S`;
  const send = (type: string, parameters: Record<string, unknown>) =>
    ws.send(JSON.stringify({ version: '2', type, seq: ++seq, serverseq, id, position: position(), parameters }));
  const waiters = new Map<string, () => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(String(data)) as { type: string; seq: number; parameters: Record<string, unknown> };
    serverseq = m.seq;
    messages.push({ type: m.type, parameters: m.parameters });
    waiters.get(m.type)?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const answered = (type: string) => Promise.race([new Promise<boolean>((resolve) => waiters.set(type, () => resolve(true))), closed.then(() => false)]);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  send('open', {
    organizationId: call.organizationId ?? crypto.randomUUID(),
    conversationId: call.conversationId,
    participant: { id: crypto.randomUUID(), ani: '+1-555-555-0100', aniName: 'Customer', dnis: '+1-800-555-0199' },
    media: [
      { type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 },
      { type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 },
    ],
    language: 'de-DE',
  });
  if (await answered('opened')) {
    const frame = Math.round(((call.frameMs ?? 100) * 8000) / 1000);
    const start = performance.now();
    for (let at = 0; at < external.length && ws.readyState === WebSocket.OPEN; at += frame) {
      const n = Math.min(frame, external.length - at);
      const bytes = new Uint8Array(n * 2);
      for (let i = 0; i < n; i++) {
        bytes[2 * i] = external[at + i];
        bytes[2 * i + 1] = internal[at + i] ?? 0xff;
      }
      ws.send(bytes);
      samples += n;
      // A ping every 5 s of audio, as the client keeps the session alive.
      if (samples % 40_000 < n) send('ping', {});
      if (call.realTime) await new Promise((r) => setTimeout(r, Math.max(0, start + (samples / 8000) * 1000 - performance.now())));
    }
    if (ws.readyState === WebSocket.OPEN) {
      send('close', { reason: 'end' });
      if (await answered('closed')) ws.close(1000);
    }
  }
  return { messages, close: await closed };
}
