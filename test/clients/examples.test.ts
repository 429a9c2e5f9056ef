/** The call-centre and voice-assistant examples: their pure parts on made-up events, then end to end on EmoDB speech against the shipped model. */
import assert from 'node:assert/strict';
import type { CallEvent } from '../../src/protocol/calls.ts';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { connect, type EmotionMessage } from '../../clients/js/src/index.ts';
import { readAudioFile, streamFile } from '../../clients/js/src/node/index.ts';
import { makeSampleCall, overTelephone } from '../../clients/examples/call-centre/make-sample-call.ts';
import { Segmenter, segmentsAsCsv, segmentsAsJsonl } from '../../clients/examples/call-centre/segments.ts';
import { tagCall } from '../../clients/examples/call-centre/tag-call.ts';
import { type EmotionFired, onEmotion } from '../../clients/examples/voice-assistant/on-emotion.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { DEFAULT_MODEL_DIR, DEFAULT_NARROWBAND_MODEL_DIR } from '../../src/model/default-model.ts';
import { type Service, startService, voiced } from '../helpers/service.ts';
import { needsEmodb, PROJECT_ROOT, SHARED_DIR } from '../helpers/shared.ts';
import { emotionEvent } from '../helpers/events.ts';
import { tempDir } from '../helpers/tools.ts';

describe('call-centre segments', () => {
  test('runs of one label become a segment each window adding its last hop; silence and another label end it; channels apart', () => {
    const s = new Segmenter(['agent', 'customer'], 0.5);
    for (let i = 0; i < 4; i++) s.add(emotionEvent(0, i, 'neutral', 0.6 + i * 0.1));
    s.add(emotionEvent(1, 0, 'angry'));
    s.add(emotionEvent(0, 4, null));
    s.add(emotionEvent(0, 5, 'happy'));
    s.add(emotionEvent(0, 6, 'sad'));
    const segments = s.finish();
    assert.deepEqual(
      segments.map((g) => [g.speaker, g.label, g.start_s, g.end_s, g.windows]),
      [
        ['agent', 'neutral', 2.5, 4.5, 4],
        ['customer', 'angry', 2.5, 3, 1],
        ['agent', 'happy', 5, 5.5, 1],
        ['agent', 'sad', 5.5, 6, 1],
      ],
    );
    assert.ok(Math.abs(segments[0].mean_confidence - 0.75) < 1e-9);
    const csv = segmentsAsCsv(segments).trim().split('\n');
    assert.equal(csv[0], 'speaker,channel,start_s,end_s,label,mean_confidence,windows');
    assert.equal(csv[1], 'agent,0,2.500,4.500,neutral,0.750,4');
    assert.deepEqual(JSON.parse(segmentsAsJsonl(segments).split('\n')[0]), {
      channel: 0,
      speaker: 'agent',
      start_s: 2.5,
      end_s: 4.5,
      label: 'neutral',
      mean_confidence: 0.75,
      windows: 4,
    });
  });
});

describe('voice-assistant onEmotion', () => {
  test('fires once when the label has held for forMs of audio, arms again after it falls, per channel', () => {
    const emotions$ = new Subject<EmotionMessage>();
    const fired: EmotionFired[] = [];
    const off = onEmotion({ emotions$ }, { label: ['angry', 'sad'], minConfidence: 0.6, forMs: 1000 }, (f) => fired.push(f));
    for (let i = 0; i < 4; i++) emotions$.next(emotionEvent(0, i, 'angry', 0.7));
    assert.deepEqual(
      fired.map((f) => [f.label, f.channel, f.since_s, f.at_s]),
      [['angry', 0, 3, 4]],
    );
    for (let i = 4; i < 8; i++) emotions$.next(emotionEvent(0, i, 'angry', 0.7));
    assert.equal(fired.length, 1, 'fired twice in one stretch');
    emotions$.next(emotionEvent(0, 8, 'angry', 0.5));
    emotions$.next(emotionEvent(1, 0, 'sad', 0.9));
    for (let i = 9; i < 12; i++) emotions$.next(emotionEvent(0, i, 'angry', 0.65));
    assert.deepEqual(
      fired.map((f) => f.at_s),
      [4, 8.5],
    );
    emotions$.next(emotionEvent(1, 1, 'sad', 0.9));
    emotions$.next(emotionEvent(1, 2, 'sad', 0.9));
    assert.deepEqual(fired.at(-1), { label: 'sad', channel: 1, confidence: 0.9, since_s: 3, at_s: 4 });
    off();
    for (let i = 3; i < 9; i++) emotions$.next(emotionEvent(1, i, 'sad', 0.9));
    assert.equal(fired.length, 3);
  });
});

describe('the examples end to end on EmoDB speech', { skip: needsEmodb }, () => {
  let service: Service;
  let dir: string;
  let callWav: string;
  before(async () => {
    // As `aer serve` runs the shipped models: the default, and the telephone-band one for 8 kHz calls.
    service = await startService({}, [], undefined, DEFAULT_MODEL_DIR, DEFAULT_NARROWBAND_MODEL_DIR);
    dir = tempDir();
    const call = makeSampleCall(path.join(SHARED_DIR, 'datasets/emodb'));
    callWav = path.join(dir, 'sample-call.wav');
    fs.writeFileSync(callWav, writeWav({ sampleRate: call.sampleRate, channels: call.channels }));
    fs.writeFileSync(path.join(dir, 'sample-call-telephone.wav'), writeWav(overTelephone(call)));
    for (const [i, name] of ['agent', 'customer'].entries())
      fs.writeFileSync(path.join(dir, `${name}.wav`), writeWav({ sampleRate: call.sampleRate, channels: [call.channels[i]] }));
  });
  after(() => service?.stop());

  test('the sample call: the customer turns angry (an alert), both speakers get segments, the summary adds up', async () => {
    const lines: string[] = [];
    const { segments, summary } = await tagCall(await readAudioFile(callWav), {
      url: service.url,
      realtime: false,
      alertOn: { speaker: 'customer', labels: ['angry'] },
      log: (l) => lines.push(l),
    });
    assert.deepEqual(
      summary.speakers.map((s) => s.speaker),
      ['agent', 'customer'],
    );
    assert.equal(summary.duration_s, 38);
    const [agent, customer] = summary.speakers;
    assert.ok(agent.speech_s > 5 && customer.speech_s > 10, JSON.stringify(summary));
    assert.equal(customer.dominant, 'angry');
    // The customer's angry turns are 20.5-25 s and 28-32.5 s: the first alert comes in the first, and none outside them.
    assert.ok(summary.alerts.length >= 1);
    assert.ok(summary.alerts[0].at_s > 20.5 && summary.alerts[0].at_s < 26, JSON.stringify(summary.alerts));
    assert.ok(
      summary.alerts.every((a) => a.at_s > 20.5 && a.at_s < 34),
      JSON.stringify(summary.alerts),
    );
    assert.ok(segments.some((s) => s.channel === 0) && segments.some((s) => s.channel === 1 && s.label === 'angry'));
    assert.ok(lines.filter((l) => /^\d\d:\d\d\.\d {2}agent/.test(l)).length >= 36, 'a timeline row per second');
    assert.ok(lines.some((l) => l.startsWith('>>> ALERT: customer angry since')));
  });

  test('the sample call over a telephone line is heard by the telephone-band model: the sad and angry turns found, the alert in an angry turn', async () => {
    const lines: string[] = [];
    const { summary, segments } = await tagCall(await readAudioFile(path.join(dir, 'sample-call-telephone.wav')), {
      url: service.url,
      realtime: false,
      alertOn: { speaker: 'customer', labels: ['angry'] },
      log: (l) => lines.push(l),
    });
    assert.equal(lines[0], '(heard by the telephone-band model)');
    const [agent, customer] = summary.speakers;
    assert.equal(agent.dominant, 'neutral');
    // Her sad turns are 13-17.5 s, the angry ones 20.5-25 s and 28-32.5 s.
    assert.ok(
      segments.some((g) => g.channel === 1 && g.label === 'sad' && g.start_s < 17.5 && g.end_s > 13),
      JSON.stringify(segments),
    );
    assert.ok(summary.alerts.length >= 1 && summary.alerts.every((a) => a.at_s > 20.5 && a.at_s < 34), JSON.stringify(summary.alerts));
    assert.ok((customer.by_label.angry ?? 0) > 0.15 * customer.speech_s, JSON.stringify(customer));
  });

  test('the reference integration: the sample call replayed as Twilio Media Streams and as AudioHook and followed from a second connection: the same events either way, the customer angry in her angry turns', async () => {
    const replay = async (platform: string) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(PROJECT_ROOT, 'clients/examples/call-centre/replay-call.ts'),
          callWav,
          '--platform',
          platform,
          '--url',
          service.http,
          '--fast',
          '--json',
        ],
        { cwd: PROJECT_ROOT },
      );
      return stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CallEvent);
    };
    const [twilio, audiohook] = [await replay('twilio'), await replay('audiohook')];
    // Each party's events are in order; how the two parties interleave depends on batching.
    const changes = (events: CallEvent[]) => events.flatMap((e) => (e.type === 'change' ? [`${e.party} ${e.at_s} ${e.to}`] : [])).sort();
    assert.deepEqual(changes(twilio), changes(audiohook), 'the platform does not change what is heard');
    assert.deepEqual(
      twilio.map((e) => e.seq),
      twilio.map((_, i) => i + 1),
    );
    const ended = twilio.at(-1)!;
    assert.ok(ended.type === 'call_ended');
    assert.equal(ended.summary.source, 'twilio');
    const customer = ended.summary.summary.find((p) => p.role === 'customer')!;
    assert.ok((customer.by_label.angry ?? 0) > 0.15 * customer.speech_s, JSON.stringify(customer));
    const alerts = twilio.filter((e) => e.type === 'alert');
    assert.ok(alerts.length >= 1 && alerts.every((a) => a.type === 'alert' && a.party === 'customer' && a.at_s > 20.5 && a.at_s < 34), JSON.stringify(alerts));
  });

  test('the CLI takes two mono sources as one call and writes CSV segments and the summary', async () => {
    const out = path.join(dir, 'tags');
    const script = path.join(PROJECT_ROOT, 'clients/examples/call-centre/call-centre.ts');
    // Asynchronously: the server runs in this process.
    const { stdout: printed } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        script,
        '--agent',
        path.join(dir, 'agent.wav'),
        '--customer',
        path.join(dir, 'customer.wav'),
        '--url',
        service.url,
        '--fast',
        '--format',
        'csv',
        '--out',
        out,
      ],
      { cwd: PROJECT_ROOT },
    );
    assert.match(printed, /customer +speech [\d.]+ s, mostly angry/);
    const csv = fs.readFileSync(path.join(out, 'agent.segments.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'speaker,channel,start_s,end_s,label,mean_confidence,windows');
    assert.ok(csv.some((row) => row.startsWith('customer,1,')));
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'agent.summary.json'), 'utf8'));
    assert.ok(
      summary.alerts.some((a: { label: string; at_s: number }) => a.label === 'angry' && a.at_s > 20.5 && a.at_s < 26),
      JSON.stringify(summary.alerts),
    );
  });

  test('the assistant hook fires on the angry customer and not on the calm agent', async () => {
    const customer = await readAudioFile(path.join(dir, 'customer.wav'));
    const session = await connect(service.url, customer.format);
    const fired: EmotionFired[] = [];
    onEmotion(session, { label: ['angry', 'sad'], minConfidence: 0.6, forMs: 2000 }, (f) => fired.push(f));
    await streamFile(session, customer, { realtime: false });
    await session.close();
    // Her first angry turn is 20.5-25 s: the held anger began in it.
    assert.ok(
      fired.some((f) => f.label === 'angry' && f.since_s > 20.5 && f.since_s < 25),
      JSON.stringify(fired),
    );
    assert.ok(
      fired.every((f) => f.at_s > 13),
      `fired during the neutral start: ${JSON.stringify(fired)}`,
    );
  });
});

describe("the examples' command lines", () => {
  const run = (script: string, args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'clients/examples', script), ...args], { cwd: PROJECT_ROOT }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  test('--help prints the usage and exits 0; an unknown option says so, with the usage, and exits 2', async () => {
    for (const script of ['call-centre/call-centre.ts', 'voice-assistant/assistant.ts']) {
      const help = await run(script, ['--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /--url URL/);
      const wrong = await run(script, ['--colour']);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /Unknown option '--colour'[\s\S]*--url URL/);
    }
    const hold = await run('call-centre/call-centre.ts', ['call.wav', '--alert-after=-1']);
    assert.equal(hold.code, 2);
    assert.match(hold.stderr, /--alert-after is seconds, 0 or more, not -1[\s\S]*--url URL/);
  });

  test('a folder: what is not audio is named, an unreadable call is named and the others tagged, a mono call has one party, outputs go to a temporary folder; a microphone that cannot be read fails', async () => {
    const service = await startService();
    try {
      const folder = tempDir();
      fs.writeFileSync(path.join(folder, 'a-mono.wav'), writeWav({ sampleRate: 16000, channels: [voiced(4)] }));
      fs.writeFileSync(path.join(folder, 'b-broken.wav'), 'RIFF but nothing else');
      fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a call');
      const result = await run('call-centre/call-centre.ts', [folder, '--url', service.url, '--fast']);
      assert.equal(result.code, 1);
      assert.match(result.stdout, /not tagging 1 file\(s\) that are not \.wav, \.ogg or \.opus \(notes\.txt\)/);
      assert.match(result.stdout, /b-broken\.wav: not tagged: /);
      assert.match(result.stderr, /1 of 2 call\(s\) could not be read: .*b-broken\.wav/);
      const written = /written: (\S+)\.segments\.jsonl/.exec(result.stdout)?.[1];
      assert.ok(written?.startsWith(os.tmpdir()), result.stdout);
      if (!written) return;
      const summary = JSON.parse(fs.readFileSync(`${written}.summary.json`, 'utf8')) as { speakers: { speaker: string }[] };
      assert.deepEqual(
        summary.speakers.map((s) => s.speaker),
        ['caller'],
      );
      fs.rmSync(path.dirname(written), { recursive: true, force: true });
      // A microphone that cannot be opened (no device here) is an error, not a quiet user.
      const mic = await run('voice-assistant/assistant.ts', ['--mic', '--seconds', '2', '--url', service.url]);
      assert.equal(mic.code, 1);
      assert.match(mic.stderr, /error \[microphone_denied\]: (no microphone|the microphone could not be read)/);
    } finally {
      await service.stop();
    }
  });
});
