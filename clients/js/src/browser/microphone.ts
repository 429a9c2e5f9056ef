/**
 * The microphone in a browser: an AudioWorklet hands 20 ms of float samples
 * at a time to the main thread, which sends them as PCM at the audio
 * context's own rate (the service resamples; resampling here would only
 * add latency and error).
 */
import { AerClientError } from '../errors.ts';
import { type AerSession, type ConnectOptions, connect } from '../session.ts';

/** The worklet, inline so that pages need not host a second file. */
const WORKLET = `
class AerCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options.processorOptions.chunkFrames;
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
  }
  process(inputs) {
    const input = inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.buffer[this.filled++] = input[i];
      if (this.filled === this.size) {
        this.port.postMessage(this.buffer);
        this.buffer = new Float32Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor('aer-capture', AerCapture);
`;

export interface Microphone {
  sampleRate: number;
  /** Releases the microphone and the audio context. */
  stop(): Promise<void>;
}

export interface MicrophoneOptions {
  /** Samples per chunk handed on (default 20 ms). */
  chunkMs?: number;
  /** A specific input device. */
  deviceId?: string;
  onChunk: (samples: Float32Array) => void;
}

/** Opens the microphone (mono, without the browser's echo cancellation, noise suppression and gain control, which change how a voice sounds). */
export async function captureMicrophone(options: MicrophoneOptions): Promise<Microphone> {
  if (!globalThis.navigator?.mediaDevices?.getUserMedia)
    throw new AerClientError('microphone_denied', 'this browser gives no microphone here: pages need https (or localhost) for getUserMedia');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: false,
        noiseSuppression: false,
        autoGainControl: false,
        ...(options.deviceId ? { deviceId: { exact: options.deviceId } } : {}),
      },
    });
  } catch (e) {
    const name = (e as DOMException).name;
    const why =
      name === 'NotAllowedError'
        ? 'the user or the browser refused it; allow the microphone in the site settings, or stream a file instead'
        : name === 'NotFoundError'
          ? 'there is no microphone'
          : (e as Error).message;
    throw new AerClientError('microphone_denied', `no microphone (${name}): ${why}`);
  }
  const context = new AudioContext();
  const url = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'aer-capture', {
    processorOptions: { chunkFrames: Math.round((context.sampleRate * (options.chunkMs ?? 20)) / 1000) },
  });
  node.port.onmessage = (event: MessageEvent<Float32Array>) => options.onChunk(event.data);
  source.connect(node);
  let stopped: Promise<void> | undefined;
  return {
    sampleRate: context.sampleRate,
    // Once only: the page's stop button and the session's end may both ask.
    stop: () =>
      (stopped ??= (async () => {
        node.port.onmessage = null;
        source.disconnect();
        for (const track of stream.getTracks()) track.stop();
        await context.close();
      })()),
  };
}

/** Opens the microphone and a session at its rate, and streams one to the other until the session ends or stop() is called. */
export async function connectMicrophone(
  url: string,
  options: ConnectOptions & { deviceId?: string; onAudio?: (samples: Float32Array, sampleRate: number) => void } = {},
): Promise<{ session: AerSession; microphone: Microphone }> {
  let session: AerSession | undefined;
  let sampleRate = 0;
  const early: Float32Array[] = [];
  const microphone = await captureMicrophone({
    deviceId: options.deviceId,
    onChunk: (samples) => {
      options.onAudio?.(samples, sampleRate);
      if (!session) early.push(samples);
      else if (session.connected) void session.send(samples).catch(() => {});
    },
  });
  sampleRate = microphone.sampleRate;
  try {
    session = await connect(url, { ...options, encoding: 'pcm_s16le', sampleRate, channels: 1 });
  } catch (e) {
    await microphone.stop();
    throw e;
  }
  for (const samples of early.splice(0)) void session.send(samples);
  const release = () => void microphone.stop();
  session.on('closed', release);
  session.on('failed', release);
  return { session, microphone };
}
