/**
 * libopus compiled to WebAssembly, from the @evan/opus package, bound here
 * to its C API directly. The package's own wrapper (and opusscript's) always
 * passes the largest frame size to opus_decode, which makes packet-loss
 * concealment return 60-120 ms whatever was lost; calling opus_decode
 * ourselves lets concealment fill exactly the missing duration.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

interface LibopusExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(state: number, sampleRate: number, channels: number): number;
  opus_decode(state: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_decoder_ctl_set(state: number, request: number, value: number): number;
  opus_strerror(code: number): number;
}

/** The most samples per channel one call can return: 120 ms at 48 kHz. */
export const MAX_FRAME_SAMPLES = 5760;
/** The largest Opus packet: 48 frames of 1275 bytes plus framing. */
export const MAX_PACKET_BYTES = 61440;

function instantiate(): LibopusExports {
  const require = createRequire(import.meta.url);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(fs.readFileSync(require.resolve('@evan/opus/wasm/simd.wasm')));
  } catch {
    module = new WebAssembly.Module(fs.readFileSync(require.resolve('@evan/opus/wasm/opus.wasm')));
  }
  const instance = new WebAssembly.Instance(module, {
    // The library never does I/O; these satisfy the WASI imports of its C runtime.
    wasi_snapshot_preview1: {
      fd_seek: () => 0,
      fd_write: () => 0,
      fd_close: () => 0,
      proc_exit: (code: number) => {
        throw new Error(`libopus exited with code ${code}`);
      },
    },
    env: { emscripten_notify_memory_growth: () => undefined },
  });
  const exports = instance.exports as unknown as LibopusExports;
  exports._initialize?.();
  return exports;
}

export const libopus = instantiate();

/** Scratch memory shared by all decoders (JavaScript never runs two calls at once). */
const packetPointer = libopus.malloc(MAX_PACKET_BYTES);
const pcmPointer = libopus.malloc(MAX_FRAME_SAMPLES * 2 * 2);

export function packetScratch(): { pointer: number; bytes: Uint8Array } {
  return { pointer: packetPointer, bytes: new Uint8Array(libopus.memory.buffer, packetPointer, MAX_PACKET_BYTES) };
}

export function pcmScratch(): { pointer: number; samples: Int16Array } {
  return { pointer: pcmPointer, samples: new Int16Array(libopus.memory.buffer, pcmPointer, MAX_FRAME_SAMPLES * 2) };
}

export function opusErrorText(code: number): string {
  const heap = new Uint8Array(libopus.memory.buffer);
  let text = '';
  for (let p = libopus.opus_strerror(code); heap[p] !== 0 && text.length < 200; p++) text += String.fromCharCode(heap[p]);
  return text;
}
