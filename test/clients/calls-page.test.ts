/**
 * The supervisor view at /calls, end to end in real headless Chromium: two
 * calls streamed through the Twilio endpoint at real-time pace (espeak-ng
 * speech, the customer then the agent) appear as they start, each party
 * with its current emotion and its last minute, alerts highlighted; both
 * are shown ended when they end. A screenshot is saved in test-artifacts/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { twilioMessages } from '../../clients/examples/call-centre/twilio-media-stream.ts';
import { telephoneBytes } from '../../src/train/conditions/channel-sim.ts';
import { launchChromium, needsChromium } from '../helpers/chromium.ts';
import { type Service, startService } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { needsSpeech, speech } from '../helpers/speech.ts';

const skip = needsChromium || needsSpeech;
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
const TOKEN = 'calls-page-token-0123456789';
const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'];

/** A call: the customer's sentences, then the agent's, as mu-law tracks at 8 kHz. */
function call(k: number): { inbound: Uint8Array; outbound: Uint8Array } {
  const customer = speech(k, { pitch: 70, speed: 150 });
  const agent = speech(k + 1, { pitch: 30, speed: 170 });
  const n = customer.length + agent.length;
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  left.set(customer);
  right.set(agent, customer.length);
  return { inbound: telephoneBytes(left, 'mulaw'), outbound: telephoneBytes(right, 'mulaw') };
}

/** Streams a call as Twilio does, 20 ms of each track every 20 ms. */
async function realTime(url: string, callSid: string, audio: { inbound: Uint8Array; outbound: Uint8Array }): Promise<number> {
  const ws = new WebSocket(url);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve) => ws.once('open', resolve));
  const messages = twilioMessages({ callSid, streamSid: `MZ${callSid}`, accountSid: 'AC0', customParameters: { token: TOKEN } }, audio);
  const timer = setInterval(() => {
    for (let k = 0; k < 2; k++) {
      const next = messages.next();
      if (next.done) return clearInterval(timer);
      ws.send(next.value);
    }
  }, 20);
  return closed;
}

describe('the supervisor view in headless Chromium', { skip, timeout: 180_000 }, () => {
  let service: Service;
  before(async () => {
    // Every label alerts at once: the page must show alerts, whatever the test model hears.
    service = await startService({ alerts: { labels: LABELS, afterS: 0 } }, [TOKEN]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(() => service?.stop());

  test('two calls through the Twilio endpoint: both listed live, parties labelled, alerts in red, then ended', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${service.http}/calls?token=${TOKEN}`);
      await page.waitForFunction(`document.body.dataset.state === 'live'`, undefined, { timeout: 10_000 });
      assert.equal(await page.isVisible('#empty'), true, 'no calls yet');
      const twilio = `${service.http.replace('http', 'ws')}/v1/telephony/twilio`;
      const calls = [realTime(twilio, 'CA-page-1', call(0)), realTime(twilio, 'CA-page-2', call(2))];
      await page.waitForFunction(`Number(document.body.dataset.live) === 2 && Number(document.body.dataset.alerts) >= 1`, undefined, { timeout: 60_000 });
      for (const id of ['CA-page-1', 'CA-page-2']) {
        const card = page.locator(`[data-call="${id}"]`);
        assert.deepEqual(await card.locator('.party .role').allTextContents(), ['customer', 'agent']);
      }
      const labelled = await page.locator('.party .now').allTextContents();
      assert.ok(
        labelled.some((t) => new RegExp(`^(${LABELS.join('|')}) \\d+ %$`).test(t)),
        `a party's emotion is shown: ${labelled}`,
      );
      assert.ok((await page.locator('.call.alerting').count()) >= 1);
      assert.match((await page.locator('.alerts li').first().textContent()) ?? '', /(customer|agent) \w+ since/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'calls-page.png') });
      assert.deepEqual(await Promise.all(calls), [1000, 1000]);
      await page.waitForFunction(`Number(document.body.dataset.live) === 0`, undefined, { timeout: 20_000 });
      assert.equal(await page.locator('.call.ended').count(), 2);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
