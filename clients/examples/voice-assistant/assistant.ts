/**
 * A voice assistant that reacts to how the user sounds: when they have
 * sounded angry or sad for more than a few seconds, it changes what it
 * would say. On a file, or on the microphone (through sox's `rec`).
 */
import { spawn } from 'node:child_process';
import { AerClientError, type AerSession, connect } from '../../js/src/index.ts';
import { commandLine, exitWith } from '../command-line.ts';
import { readAudioFile, streamFile } from '../../js/src/node/index.ts';
import { type EmotionFired, onEmotion } from './on-emotion.ts';

const USAGE = `A voice assistant that changes what it says when the user has sounded angry or sad for a while.

  node --import tsx clients/examples/voice-assistant/assistant.ts FILE.wav [options]
  node --import tsx clients/examples/voice-assistant/assistant.ts --mic [--seconds 30] [options]

  --url URL       the service (default ws://127.0.0.1:8080)
  --for-ms MS     how long the emotion must hold before the assistant reacts (default 2000)
  --min P         the confidence it must hold at (default 0.6)
  --mic           listen to the default microphone (sox's rec) instead of a file
  --seconds S     how long to listen with --mic (default 30)
  --fast          send the file as fast as the server reads, not in real time
  --token T       bearer token, when the service asks for one
  -h, --help      this text`;

const { values, positionals } = commandLine(USAGE, {
  url: { type: 'string', default: 'ws://127.0.0.1:8080' },
  'for-ms': { type: 'string', default: '2000' },
  min: { type: 'string', default: '0.6' },
  mic: { type: 'boolean', default: false },
  seconds: { type: 'string', default: '30' },
  fast: { type: 'boolean', default: false },
  token: { type: 'string' },
});

const REACTIONS: Record<string, string> = {
  angry: 'I can hear this is frustrating. Let me get a person to help you right away.',
  sad: 'That sounds hard. Would you like me to take it slowly, one step at a time?',
};

function react(fired: EmotionFired): void {
  const held = (fired.at_s - fired.since_s).toFixed(1);
  console.log(`[${fired.at_s.toFixed(1)} s] the user has sounded ${fired.label} for ${held} s (${Math.round(fired.confidence * 100)} %)`);
  console.log(`  assistant: "${REACTIONS[fired.label]}"`);
}

/** The default microphone as 16 kHz mono s16 through sox, for `seconds`. */
async function streamMicrophone(session: AerSession, seconds: number): Promise<void> {
  const rec = spawn('rec', ['-q', '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-', 'trim', '0', String(seconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  rec.stderr.on('data', (d) => (said += d));
  const failed = new Promise<never>((_, reject) =>
    rec.on('error', () => reject(new AerClientError('microphone_denied', 'no microphone: --mic needs sox (apt-get install sox) and an input device'))),
  );
  // rec that cannot open a device exits non-zero having sent nothing: that is a failure, not a quiet user.
  const exited = new Promise<void>((resolve, reject) =>
    rec.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new AerClientError(
              'microphone_denied',
              `the microphone could not be read (rec exited ${code}${said.trim() ? `: ${said.trim().split('\n').at(-1)}` : ''}); check the input device, or pass a file instead of --mic`,
            ),
          ),
    ),
  );
  const done = (async () => {
    for await (const chunk of rec.stdout) await session.send(new Uint8Array(chunk));
  })();
  await Promise.race([Promise.all([done, exited]), failed]);
}

async function main(): Promise<void> {
  const condition = { minConfidence: Number(values.min), forMs: Number(values['for-ms']) };
  if (values.mic) {
    const session = await connect(values.url!, { token: values.token });
    onEmotion(session, { label: ['angry', 'sad'], ...condition }, react);
    console.log(`listening for ${values.seconds} s...`);
    await streamMicrophone(session, Number(values.seconds));
    await session.close();
    return;
  }
  if (positionals.length !== 1) throw new AerClientError('unreadable_file', 'give one audio file (WAV or Ogg Opus), or --mic');
  const source = await readAudioFile(positionals[0]);
  const session = await connect(values.url!, { ...source.format, token: values.token });
  let reactions = 0;
  onEmotion(session, { label: ['angry', 'sad'], ...condition }, (fired) => {
    reactions++;
    react(fired);
  });
  await streamFile(session, source, { realtime: !values.fast });
  const closed = await session.close();
  console.log(`${closed.stats.audio_s.toFixed(1)} s of audio, ${closed.stats.speech_windows} speech windows, ${reactions} reaction(s)`);
}

main().catch(exitWith);
