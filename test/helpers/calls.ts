/** Clients of the calls path: a Twilio-format media stream, and a reader of a call's Server-Sent Events. */
import WebSocket from 'ws';
import type { CallEvent } from '../../src/protocol/calls.ts';

/** Sends `messages` as Twilio would (no pacing: the service pushes back); resolves with the close code and reason. */
export async function twilioStream(url: string, messages: Iterable<string>, headers: Record<string, string> = {}): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url, { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  for (const m of messages) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(m);
  }
  return closed;
}

/** Reads a call's SSE stream to its end: the events and their SSE ids. */
export async function readSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; events: CallEvent[]; ids: number[] }> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) return { status: res.status, events: [], ids: [] };
  const text = await res.text();
  const events: CallEvent[] = [];
  const ids: number[] = [];
  for (const block of text.split('\n\n')) {
    const data = /^data: (.*)$/m.exec(block);
    const id = /^id: (\d+)$/m.exec(block);
    if (!data || !id) continue;
    events.push(JSON.parse(data[1]) as CallEvent);
    ids.push(Number(id[1]));
  }
  return { status: res.status, events, ids };
}
