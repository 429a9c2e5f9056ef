/**
 * G.711 mu-law and A-law (ITU-T G.711, as in the reference g711.c): the
 * expansion tables, byte -> linear 16-bit value / 32768 (the scaling
 * libsndfile uses), and the compressors, float -> byte, for audio made to
 * sound as a telephone line delivers it.
 */

function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  let t = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) t += 8;
  else if (segment === 1) t += 0x108;
  else t = (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

function table(expand: (byte: number) => number): Float32Array {
  const out = new Float32Array(256);
  for (let i = 0; i < 256; i++) out[i] = expand(i) / 32768;
  return out;
}

export const mulawToFloat = table(mulawToLinear);
export const alawToFloat = table(alawToLinear);

/** The segment of a magnitude: the first end it does not exceed (8 when past the last). */
function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]) return i;
  return ends.length;
}

const MULAW_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const MULAW_BIAS = 0x84;
const MULAW_CLIP = 8159;

/** A float in [-1, 1) as the 16-bit value G.711 starts from. */
function pcm16(value: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(value * 32768)));
}

function linearToMulaw(sample: number): number {
  let pcm = sample >> 2;
  let mask = 0xff;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  }
  pcm = Math.min(pcm, MULAW_CLIP) + (MULAW_BIAS >> 2);
  const seg = segment(pcm, MULAW_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}

function linearToAlaw(sample: number): number {
  let pcm = sample >> 3;
  let mask = 0xd5;
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm, ALAW_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  const quantised = seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return ((seg << 4) | quantised) ^ mask;
}

export function floatToMulaw(samples: Float32Array): Uint8Array {
  return Uint8Array.from(samples, (v) => linearToMulaw(pcm16(v)));
}

export function floatToAlaw(samples: Float32Array): Uint8Array {
  return Uint8Array.from(samples, (v) => linearToAlaw(pcm16(v)));
}
