import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredEvent } from '../../src/calls/bus.ts';
import { type CallOutlet, LiveCall } from '../../src/calls/live-call.ts';
import type { CallEvent, CallSummary } from '../../src/protocol/calls.ts';
import type { ChangeMessage } from '../../src/protocol/wire.ts';
import { emotionEvent } from '../helpers/events.ts';

function recorder() {
  const events: CallEvent[] = [];
  const snapshots: CallSummary[] = [];
  let ended = 0;
  const outlet: CallOutlet = {
    event: (_call, e: StoredEvent) => {
      const parsed = JSON.parse(e.json) as CallEvent;
      assert.equal(parsed.seq, e.seq);
      assert.equal(parsed.type, e.type);
      events.push(parsed);
    },
    snapshot: (s) => snapshots.push(s),
    ended: () => ended++,
  };
  return { events, snapshots, outlet, ended: () => ended };
}

const start = {
  id: 'CA1',
  source: 'twilio' as const,
  external: { callSid: 'CA1' },
  parties: [
    { channel: 0, role: 'customer' as const, track: 'inbound' },
    { channel: 1, role: 'agent' as const, track: 'outbound' },
  ],
};
const change = (channel: number, to: string, at_s: number): ChangeMessage => ({ type: 'change', channel, from: null, to, at_s, confidence: 0.9 });

test("a session's events become the call's: numbered without gaps, each with its party's role, no attention weights", () => {
  const r = recorder();
  const call = new LiveCall(start, { labels: ['angry'], afterS: 6 }, r.outlet);
  call.message({ ...emotionEvent(0, 0, 'happy'), attention: [0.5, 0.5], attention_hop_s: 0.1 });
  call.message(emotionEvent(1, 0, 'neutral'));
  call.message(change(1, 'neutral', 3));
  assert.deepEqual(
    r.events.map((e) => [e.seq, e.type, 'party' in e ? e.party : undefined]),
    [
      [1, 'call_started', undefined],
      [2, 'emotion', 'customer'],
      [3, 'emotion', 'agent'],
      [4, 'change', 'agent'],
    ],
  );
  assert.ok(!('attention' in r.events[1]));
  assert.equal(
    r.events.every((e) => e.call_id === 'CA1'),
    true,
  );
  const agent = r.snapshots.at(-1)!.parties[1];
  assert.equal(agent.label, 'neutral', "the snapshot shows each party's current label");
});

test('a party held on an alert label for long enough alerts once; the summary holds the totals and the alert', () => {
  const r = recorder();
  const call = new LiveCall(start, { labels: ['angry'], afterS: 6 }, r.outlet);
  call.message(change(0, 'angry', 3));
  for (let k = 0; k < 16; k++) call.message({ ...emotionEvent(0, k, 'angry'), start_s: k * 0.5, end_s: 3 + k * 0.5 });
  const alerts = r.events.filter((e) => e.type === 'alert');
  assert.equal(alerts.length, 1);
  assert.ok(alerts[0].type === 'alert');
  assert.equal(alerts[0].party, 'customer');
  assert.equal(alerts[0].at_s, 9);
  call.message({
    type: 'closed',
    reason: 'close_stream',
    stats: { audio_s: 10.5, unanalysed_s: 0, windows: 16, speech_windows: 16, shed_windows: 0, events: 18, bytes: 1, decode_errors: 0 },
  });
  const last = r.events.at(-1)!;
  assert.ok(last.type === 'call_ended');
  assert.equal(last.summary.status, 'ended');
  assert.equal(last.summary.alert_list.length, 1);
  assert.equal(last.summary.summary[0].dominant, 'angry');
  assert.equal(last.summary.summary[1].speech_s, 0);
  assert.equal(r.ended(), 1);
  call.message(emotionEvent(0, 99, 'angry'));
  assert.equal(r.events.at(-1), last, 'nothing after the end');
});
