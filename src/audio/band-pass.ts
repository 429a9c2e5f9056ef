/**
 * Butterworth band-pass filtering as cascaded biquads (the RBJ cookbook's
 * high- and low-pass sections, Q set for a maximally flat response): the
 * 300-3400 Hz band of a telephone line, and the high-pass a microphone's
 * or a VoIP stack's path puts under speech. Small enough to write here; no
 * maintained npm filter library does IIR design without a DSP framework.
 */

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function section(kind: 'low' | 'high', frequency: number, rate: number, q: number): Biquad {
  const w0 = (2 * Math.PI * frequency) / rate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b = kind === 'low' ? [(1 - cos) / 2, 1 - cos, (1 - cos) / 2] : [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
  return { b0: b[0] / a0, b1: b[1] / a0, b2: b[2] / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Q of each second-order section of an order-`order` Butterworth filter (order even). */
function butterworthQs(order: number): number[] {
  return Array.from({ length: order / 2 }, (_, k) => 1 / (2 * Math.cos(((2 * k + 1) * Math.PI) / (2 * order))));
}

function run(signal: Float32Array, s: Biquad): Float32Array {
  const out = new Float32Array(signal.length);
  // Transposed direct form II, in double precision.
  let z1 = 0;
  let z2 = 0;
  for (let i = 0; i < signal.length; i++) {
    const x = signal[i];
    const y = s.b0 * x + z1;
    z1 = s.b1 * x - s.a1 * y + z2;
    z2 = s.b2 * x - s.a2 * y;
    out[i] = y;
  }
  return out;
}

/** `signal` at `rate` through a Butterworth high-pass at `low` Hz of order `order` (even). */
export function highPass(signal: Float32Array, rate: number, low: number, order = 4): Float32Array {
  let out = signal;
  for (const q of butterworthQs(order)) out = run(out, section('high', low, rate, q));
  return out;
}

/** `signal` at `rate` through a Butterworth band-pass from `low` to `high` Hz, each edge of order `order` (even). */
export function bandPass(signal: Float32Array, rate: number, low: number, high: number, order = 4): Float32Array {
  let out = highPass(signal, rate, low, order);
  for (const q of butterworthQs(order)) out = run(out, section('low', high, rate, q));
  return out;
}
