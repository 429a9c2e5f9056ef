/**
 * G.711 mu-law and A-law expansion tables (ITU-T G.711, as in the reference
 * g711.c): byte -> linear 16-bit value / 32768, the scaling libsndfile uses.
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
