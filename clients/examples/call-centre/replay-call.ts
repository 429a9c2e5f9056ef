/**
 * The reference integration of a contact centre: a recorded call replayed
 * into aer-stream the way the telephony platform streams a live one
 * (Twilio Media Streams or Genesys AudioHook: the platform opens the
 * socket, one track per party, mu-law at 8 kHz), while a second
 * connection, as a supervisor's wallboard or a CRM would, follows the
 * call's events: on the same replica, or on another sharing its --bus.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { bandPass } from '../../../src/audio/band-pass.ts';
import { floatToMulaw } from '../../../src/audio/g711.ts';
import { resample } from '../../../src/audio/resample.ts';
import { readWav } from '../../../src/audio/wav.ts';
import { AerClientError, type CallEvent } from '../../js/src/index.ts';
import { commandLine, exitWith } from '../command-line.ts';
import { audioHookCall } from './audiohook-client.ts';
import { followCall } from './follow-call.ts';
import { TWILIO_CHUNK_MS, twilioMessages } from './twilio-media-stream.ts';
import WebSocket from 'ws';

const USAGE = `Replay a recorded call into aer-stream as a telephony platform streams a live one, and follow its events from a second connection.

  node --import tsx clients/examples/call-centre/replay-call.ts CALL.wav [options]

CALL.wav is stereo, agent left and customer right, at any rate: it is put
through a telephone line (8 kHz, 300-3400 Hz, G.711 mu-law) as the platform
would carry it.

  --platform P    twilio (Media Streams) or audiohook (Genesys Cloud) (default twilio)
  --url URL       the service the platform streams to (default http://127.0.0.1:8080)
  --events URL    where to follow the call's events (default: --url; any replica on the same --bus)
  --call-id ID    the call's id (default: a new one)
  --token T       the service's token (Twilio: a custom parameter; AudioHook: the API key; events: bearer)
  --fast          send as fast as the service reads, not in real time
  --json          print every event as a JSON line, not the timeline
  -h, --help      this text`;

const { values, positionals } = commandLine(USAGE, {
  platform: { type: 'string', default: 'twilio' },
  url: { type: 'string', default: 'http://127.0.0.1:8080' },
  events: { type: 'string' },
  'call-id': { type: 'string' },
  token: { type: 'string' },
  fast: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});

const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${(s % 60).toFixed(1).padStart(4, '0')}`;

/** The two parties' tracks as the platform carries them. */
function tracks(file: string): { agent: Uint8Array; customer: Uint8Array; seconds: number } {
  if (!fs.existsSync(file)) throw new AerClientError('unreadable_file', `${file} does not exist`);
  const wav = readWav(new Uint8Array(fs.readFileSync(file)));
  if (wav.channels.length !== 2)
    throw new AerClientError('invalid_argument', `${file} has ${wav.channels.length} channel(s): a call here is stereo, agent left and customer right`);
  const line = (x: Float32Array) => floatToMulaw(bandPass(resample(x, wav.sampleRate, 8000), 8000, 300, 3400));
  return { agent: line(wav.channels[0]), customer: line(wav.channels[1]), seconds: wav.channels[0].length / wav.sampleRate };
}

/** Twilio's messages, two a tick (one per track), at real time unless fast. */
async function replayTwilio(url: string, callId: string, t: ReturnType<typeof tracks>): Promise<void> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/telephony/twilio`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const ids = {
    callSid: callId,
    streamSid: `MZ${crypto.randomUUID().replaceAll('-', '')}`,
    accountSid: 'AC-replay',
    customParameters: values.token ? { token: values.token } : {},
  };
  const start = performance.now();
  let sent = 0;
  for (const message of twilioMessages(ids, { inbound: t.customer, outbound: t.agent })) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(message);
    // Two media messages (one per track) are 20 ms of the call.
    if (!values.fast && message.includes('"event":"media"') && ++sent % 2 === 0)
      await new Promise((r) => setTimeout(r, Math.max(0, start + (sent / 2) * TWILIO_CHUNK_MS - performance.now())));
  }
  const { code, reason } = await closed;
  if (code !== 1000) throw new AerClientError('server_error', `the service closed the media stream ${code}: ${reason}`);
}

function show(e: CallEvent): void {
  if (values.json) return console.log(JSON.stringify(e));
  switch (e.type) {
    case 'call_started':
      return console.log(`== call ${e.call.id} (${e.call.source}): ${e.call.parties.map((p) => `${p.role} on ${p.track}`).join(', ')}`);
    case 'change':
      return console.log(`${clock(e.at_s)}  ${e.party.padEnd(8)}  -> ${e.to} ${Math.round(e.confidence * 100)} %`);
    case 'alert':
      return console.log(`>>> ALERT ${clock(e.at_s)}: ${e.party} ${e.label} since ${clock(e.since_s)} (${Math.round(e.confidence * 100)} %)`);
    case 'warning':
    case 'error':
      return console.log(`[${e.type}] ${e.code}: ${e.message}`);
    case 'call_ended': {
      const s = e.summary;
      console.log(`\ncall ${s.id}: ${s.stats?.audio_s ?? '?'} s, ended (${e.reason}), ${s.last_seq} events`);
      for (const p of s.summary) {
        const total = p.speech_s || 1;
        const labels = Object.entries(p.by_label).map(([l, sec]) => `${l} ${Math.round((sec / total) * 100)} %`);
        console.log(`  ${p.role.padEnd(8)}  speech ${p.speech_s.toFixed(1)} s, mostly ${p.dominant ?? '-'} (${labels.join(', ')}); ${p.changes} change(s)`);
      }
      console.log(`  alerts: ${s.alert_list.map((a) => `${a.party} ${a.label} at ${a.at_s.toFixed(1)} s`).join('; ') || 'none'}`);
      return;
    }
    default:
      return;
  }
}

async function main(): Promise<void> {
  if (positionals.length !== 1) throw new AerClientError('invalid_argument', `one call file, got ${positionals.length}\n\n${USAGE}`);
  if (values.platform !== 'twilio' && values.platform !== 'audiohook')
    throw new AerClientError('invalid_argument', `--platform is twilio or audiohook, got ${values.platform}`);
  const t = tracks(positionals[0]);
  const callId = values['call-id'] ?? (values.platform === 'twilio' ? `CA${crypto.randomUUID().replaceAll('-', '')}` : crypto.randomUUID());
  const following = followCall(values.events ?? values.url, callId, show, { token: values.token });
  const streaming =
    values.platform === 'twilio'
      ? replayTwilio(values.url, callId, t)
      : audioHookCall(
          `${values.url.replace(/^http/, 'ws')}/v1/telephony/audiohook`,
          { conversationId: callId, apiKey: values.token, realTime: !values.fast },
          t.customer,
          t.agent,
        ).then(({ close }) => {
          if (close.code !== 1000) throw new AerClientError('server_error', `the service closed the AudioHook session ${close.code}: ${close.reason}`);
        });
  await Promise.all([streaming, following]);
}

main().catch(exitWith);
