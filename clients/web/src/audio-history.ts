/** The last seconds of the audio sent, mono, addressed by the session's clock, so a window's spectrogram can be drawn. */
export class AudioHistory {
  private buffer: Float32Array;
  /** Samples written since the start. */
  private written = 0;

  constructor(
    readonly sampleRate: number,
    seconds = 8,
  ) {
    this.buffer = new Float32Array(Math.round(sampleRate * seconds));
  }

  push(samples: Float32Array): void {
    for (let i = 0; i < samples.length; i++) this.buffer[(this.written + i) % this.buffer.length] = samples[i];
    this.written += samples.length;
  }

  /** The samples from startS to endS (zeros where not held). */
  slice(startS: number, endS: number): Float32Array {
    const from = Math.round(startS * this.sampleRate);
    const out = new Float32Array(Math.max(0, Math.round(endS * this.sampleRate) - from));
    const oldest = this.written - this.buffer.length;
    for (let i = 0; i < out.length; i++) {
      const at = from + i;
      if (at >= oldest && at < this.written && at >= 0) out[i] = this.buffer[at % this.buffer.length];
    }
    return out;
  }
}
