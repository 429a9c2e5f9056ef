/**
 * Following a call from anywhere: waits for the call to be listed (GET
 * /v1/calls/{id}), then reads its events over Server-Sent Events from the
 * start (or after `since`) to `call_ended`, reconnecting after the last
 * event seen if the connection drops. Any replica sharing the service's
 * bus will do.
 */
import { AerClientError, type CallEvent } from '../../js/src/index.ts';

export interface FollowOptions {
  token?: string;
  /** How long to wait for the call to appear. */
  waitMs?: number;
  signal?: AbortSignal;
}

const headers = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** Calls `onEvent` with each of the call's events, in order, once each; resolves after `call_ended`. */
export async function followCall(service: string, callId: string, onEvent: (e: CallEvent) => void, options: FollowOptions = {}): Promise<void> {
  const base = service.replace(/^ws/, 'http').replace(/\/+$/, '');
  const callUrl = `${base}/v1/calls/${encodeURIComponent(callId)}`;
  for (const end = Date.now() + (options.waitMs ?? 30_000); ; ) {
    const res = await fetch(callUrl, { headers: headers(options.token), signal: options.signal });
    if (res.ok) break;
    if (res.status === 401) throw new AerClientError('unauthorized', `${base} wants a token (--token)`);
    if (res.status !== 404 || Date.now() > end) throw new AerClientError('server_error', `GET ${callUrl} answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let since = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${callUrl}/events?since=${since}`, { headers: headers(options.token), signal: options.signal });
      if (!res.ok || !res.body) throw new AerClientError('server_error', `the call's events answered ${res.status}`);
      const decoder = new TextDecoder();
      let text = '';
      for await (const chunk of res.body) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(text.slice(0, end));
          text = text.slice(end + 2);
          if (!data) continue;
          const event = JSON.parse(data[1]) as CallEvent;
          since = event.seq;
          onEvent(event);
          if (event.type === 'call_ended') return;
        }
      }
    } catch (error) {
      if (options.signal?.aborted || attempt >= 5) throw error;
    }
    // The stream ended without call_ended (a replica went away): resume after the last event seen, a few times.
    if (attempt >= 5) throw new AerClientError('server_error', `the events of ${callId} stopped at ${since} without call_ended (its replica may have gone)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
