/**
 * The platforms' protocols on 10,000 mutated messages each (seeded;
 * AER_FUZZ_SEED): fields dropped, retyped or replaced, JSON cut short,
 * binary noise. Whatever comes, a protocol answers with steps (a problem
 * for what it refuses) and never throws: a connection cannot be crashed
 * through it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AudioHookSession } from '../../src/telephony/audiohook.ts';
import type { MediaForkProtocol } from '../../src/telephony/media-fork.ts';
import { TwilioMediaStream } from '../../src/telephony/twilio.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { random } from '../helpers/signals.ts';

const SEED = Number(process.env.AER_FUZZ_SEED ?? 7);
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/telephony', name), 'utf8')) as Record<string, unknown>;
const ODD: unknown[] = [null, -1, 1e308, '', '0', 'PT-1S', [], {}, true, 'x'.repeat(2000), '😀', { nested: { deeper: [1, 2] } }, Number.NaN];

/** A copy of `value` with one field somewhere dropped or replaced by something odd. */
function mutate(value: unknown, next: () => number): unknown {
  if (typeof value !== 'object' || value === null) return ODD[Math.floor(next() * ODD.length)];
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return ODD[Math.floor(next() * ODD.length)];
  const key = keys[Math.floor(next() * keys.length)];
  const r = next();
  if (r < 0.2) delete copy[key];
  else if (r < 0.6) copy[key] = mutate(copy[key], next);
  else copy[key] = ODD[Math.floor(next() * ODD.length)];
  return copy;
}

function fuzz(make: () => MediaForkProtocol, messages: unknown[], next: () => number): number {
  let problems = 0;
  for (let i = 0; i < 10_000; i++) {
    // A fresh session now and then, so that states from the first message on are reached.
    const protocol = make();
    const count = 1 + Math.floor(next() * 4);
    for (let k = 0; k < count; k++) {
      const base = messages[Math.floor(next() * messages.length)];
      const r = next();
      const steps =
        r < 0.1
          ? protocol.binary(Uint8Array.from({ length: Math.floor(next() * 400) }, () => Math.floor(next() * 256)))
          : r < 0.2
            ? protocol.text(JSON.stringify(base).slice(0, Math.floor(next() * 200)))
            : protocol.text(JSON.stringify(r < 0.4 ? base : mutate(base, next)));
      assert.ok(Array.isArray(steps));
      problems += steps.filter((s) => s.kind === 'problem').length;
      protocol.refuse?.('error', 'fuzz');
    }
  }
  return problems;
}

test(`Twilio Media Streams: 10,000 mutated sessions never throw (seed ${SEED})`, () => {
  const m = fixture('twilio-media-streams.json');
  const problems = fuzz(() => new TwilioMediaStream(), [m.connected, m.start, m.media, m.mark, m.dtmf, m.stop], random(SEED));
  assert.ok(problems > 1000, 'mutations were refused');
});

test(`AudioHook: 10,000 mutated sessions never throw (seed ${SEED})`, () => {
  const m = fixture('audiohook.json');
  const problems = fuzz(() => new AudioHookSession(), [m.open, m.open, m.ping, m.update, m.paused, m.resumed, m.close], random(SEED + 1));
  assert.ok(problems > 1000, 'mutations were refused');
});
