/**
 * The web demo at `/`, end to end in real headless Chromium (Debian's, via
 * playwright-core): its fake microphone plays EmoDB speech, the page
 * connects, events arrive, and the chart, spectrogram and attention strip
 * render; a dropped file streams the same way; a refused microphone is a
 * typed error on the page. A screenshot is saved in test-artifacts/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { readWav } from '../../src/audio/wav.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { launchChromium, needsChromium } from '../helpers/chromium.ts';
import { type Service, startService } from '../helpers/service.ts';
import { EMODB_DIR, emodbFiles, needsEmodb, PROJECT_ROOT } from '../helpers/shared.ts';
import { tempDir } from '../helpers/tools.ts';

const skip = needsChromium || needsEmodb;
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

/** 12 s of EmoDB speech (angry and sad clips, one after another), 16-bit mono, for Chromium's fake microphone. */
function speechWav(dir: string): string {
  const clips = emodbFiles().filter((f) => /\d\da\d\d[WT]/.test(path.basename(f)));
  const parts: Float32Array[] = [];
  let total = 0;
  let rate = 0;
  for (const file of clips) {
    const audio = readWav(new Uint8Array(fs.readFileSync(path.join(EMODB_DIR, file))));
    rate = audio.sampleRate;
    parts.push(audio.channels[0]);
    total += audio.channels[0].length;
    if (total > 12 * rate) break;
  }
  const joined = new Float32Array(total);
  parts.reduce((o, p) => (joined.set(p, o), o + p.length), 0);
  const file = path.join(dir, 'speech.wav');
  fs.writeFileSync(file, writeWav({ sampleRate: rate, channels: [joined] }));
  return file;
}

/** Pixels of a canvas that differ from its background. (In-page code is given as text: this file is compiled without the DOM's types.) */
async function drawnPixels(page: Page, id: string): Promise<number> {
  return page.evaluate(`(() => {
    const canvas = document.getElementById(${JSON.stringify(id)});
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && data[i] + data[i + 1] + data[i + 2] > 60) n++;
    return n;
  })()`);
}

/** Waits until the page's body says so (its data-state, data-events, data-attention). */
function untilBody(page: Page, condition: string, timeout: number): Promise<unknown> {
  return page.waitForFunction(`(() => { const b = document.body.dataset; return ${condition}; })()`, undefined, { timeout });
}

describe('web demo in headless Chromium', { skip, timeout: 180_000 }, () => {
  let service: Service;
  let wav: string;
  before(async () => {
    // The shipped model, so that the screenshot shows real predictions.
    service = await startService({}, [], undefined, DEFAULT_MODEL_DIR);
    wav = speechWav(tempDir());
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(() => service?.stop());

  test('the microphone streams: events arrive, the chart, spectrogram and attention strip render', async () => {
    const browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Nothing the page asks for is missing (a browser asks for an icon by itself) and the console stays clean.
      page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${service.http}/`);
      await page.click('#mic');
      await untilBody(page, 'Number(b.events) >= 8 && Number(b.attention ?? 0) >= 2', 60_000);
      assert.equal(await page.getAttribute('body', 'data-state'), 'live');
      assert.match((await page.textContent('[data-party="0"] .label')) ?? '', /^(angry|disgust|fear|happy|neutral|sad)$/);
      assert.equal(await page.locator('[data-party]').count(), 1, 'the microphone is one party');
      for (const canvas of ['chart', 'spectrogram', 'heat']) assert.ok((await drawnPixels(page, canvas)) > 2000, `${canvas} is blank`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-demo.png') });
      await page.click('#stop');
      await untilBody(page, "b.state === 'done'", 20_000);
      assert.match((await page.textContent('#status')) ?? '', /analysed/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test('a dropped audio file streams the same way', async () => {
    const browser = await launchChromium([]);
    try {
      const page = await browser.newPage();
      await page.goto(`${service.http}/`);
      await page.setInputFiles('#file', wav);
      await untilBody(page, 'Number(b.events) >= 3', 60_000);
      assert.ok((await drawnPixels(page, 'heat')) > 1000);
    } finally {
      await browser.close();
    }
  });

  test('a stereo file is a call: its two parties side by side, each with its own label', async () => {
    const speech = readWav(new Uint8Array(fs.readFileSync(wav)));
    const voice = speech.channels[0];
    // The right party speaks the same speech a few seconds later, so both have speech and changes of their own.
    const lag = 4 * speech.sampleRate;
    const right = new Float32Array(voice.length + lag);
    right.set(voice, lag);
    const left = new Float32Array(right.length);
    left.set(voice);
    const call = path.join(tempDir(), 'call.wav');
    fs.writeFileSync(call, writeWav({ sampleRate: speech.sampleRate, channels: [left, right] }));
    const browser = await launchChromium([]);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${service.http}/`);
      await page.setInputFiles('#file', call);
      await untilBody(page, "b.state === 'done'", 90_000);
      assert.deepEqual(await page.locator('[data-party] h2').allTextContents(), ['Left channel', 'Right channel']);
      for (const party of [0, 1]) assert.match((await page.textContent(`[data-party="${party}"] .label`)) ?? '', /^(angry|disgust|fear|happy|neutral|sad)$/);
      assert.ok((await drawnPixels(page, 'chart')) > 2000, 'the chart is blank');
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-demo-call.png') });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test('a refused microphone is shown as a typed error the user can act on', async () => {
    const browser = await launchChromium(['--deny-permission-prompts', '--use-fake-device-for-media-stream']);
    try {
      const page = await browser.newPage();
      await page.goto(`${service.http}/`);
      await page.click('#mic');
      await untilBody(page, "b.state === 'error'", 20_000);
      assert.match((await page.textContent('#message')) ?? '', /microphone_denied/);
      assert.match((await page.textContent('#message')) ?? '', /allow the microphone/);
    } finally {
      await browser.close();
    }
  });
});
