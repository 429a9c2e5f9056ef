/**
 * The latest window drawn for the eye: a log-frequency spectrogram (display
 * only; the model's Mel features are computed by the server) with the
 * model's attention weights as a heat strip above it.
 */
const FRAME = 1024;

/** In-place radix-2 FFT of re/im (length a power of two). */
function fft(re: Float32Array, im: Float32Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const c = Math.cos(step * k);
        const s = Math.sin(step * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b] * c - im[b] * s;
        const ti = re[b] * s + im[b] * c;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** An inferno-like ramp: dark purple -> red -> yellow. */
function heatColor(v: number): [number, number, number] {
  const stops: [number, number, number, number][] = [
    [0, 12, 14, 18],
    [0.3, 72, 18, 110],
    [0.6, 205, 60, 70],
    [0.85, 250, 150, 40],
    [1, 252, 240, 160],
  ];
  const x = Math.max(0, Math.min(1, v));
  for (let i = 1; i < stops.length; i++) {
    const [p1, r1, g1, b1] = stops[i];
    const [p0, r0, g0, b0] = stops[i - 1];
    if (x <= p1) {
      const t = (x - p0) / (p1 - p0);
      return [r0 + t * (r1 - r0), g0 + t * (g1 - g0), b0 + t * (b1 - b0)];
    }
  }
  return [252, 240, 160];
}

export function drawSpectrogram(canvas: HTMLCanvasElement, samples: Float32Array, sampleRate: number): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const image = ctx.createImageData(width, height);
  const hop = Math.max(1, Math.floor((samples.length - FRAME) / width));
  const re = new Float32Array(FRAME);
  const im = new Float32Array(FRAME);
  const topHz = Math.min(8000, sampleRate / 2);
  const columns: Float32Array[] = [];
  let peak = -Infinity;
  for (let x = 0; x < width; x++) {
    const start = Math.min(samples.length - FRAME, x * hop);
    for (let i = 0; i < FRAME; i++) {
      re[i] = start >= 0 ? samples[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME)) : 0;
      im[i] = 0;
    }
    fft(re, im);
    const column = new Float32Array(height);
    for (let y = 0; y < height; y++) {
      // Log-spaced rows from 60 Hz to topHz, low frequencies at the bottom.
      const hz = 60 * (topHz / 60) ** (1 - y / (height - 1));
      const bin = Math.min(FRAME / 2 - 1, Math.round((hz / sampleRate) * FRAME));
      const db = 10 * Math.log10(re[bin] ** 2 + im[bin] ** 2 + 1e-10);
      column[y] = db;
      peak = Math.max(peak, db);
    }
    columns.push(column);
  }
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const [r, g, b] = heatColor((columns[x][y] - (peak - 70)) / 70);
      const o = (y * width + x) * 4;
      image.data[o] = r;
      image.data[o + 1] = g;
      image.data[o + 2] = b;
      image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** One cell per attention step, brighter where the model listened more; the strongest step outlined. */
export function drawAttention(canvas: HTMLCanvasElement, weights: number[]): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(...weights);
  const min = Math.min(...weights);
  // Contrast between steps, but near-uniform attention stays near-uniform in colour.
  const range = Math.max(max - min, 0.5 / weights.length);
  const cell = width / weights.length;
  weights.forEach((w, i) => {
    const [r, g, b] = heatColor(0.12 + 0.88 * ((w - min) / range));
    ctx.fillStyle = `rgb(${r | 0}, ${g | 0}, ${b | 0})`;
    ctx.fillRect(i * cell + 1, 2, cell - 2, height - 4);
  });
  const top = weights.indexOf(max);
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.strokeRect(top * cell + 1, 1, cell - 2, height - 2);
}
