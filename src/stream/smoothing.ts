/**
 * Per-channel smoothing of window scores and change detection with
 * hysteresis. The EMA's weight follows from a time constant and the hop, so
 * the same setting means the same thing at any hop. A change is announced
 * only when a new label has led the smoothed scores by at least `margin`
 * for at least `holdS` seconds of audio: a label flickering for one window
 * is not a change.
 */

export interface SmoothingOptions {
  /** 'none' passes scores through (changes are still detected on them). */
  kind: 'ema' | 'none';
  /** EMA time constant in seconds. */
  tauS: number;
  /** Lead over the current label that a challenger needs. */
  margin: number;
  /** How long the challenger must keep that lead. */
  holdS: number;
}

export const DEFAULT_SMOOTHING: SmoothingOptions = { kind: 'ema', tauS: 1.5, margin: 0.1, holdS: 1 };

export interface ChangeEvent {
  from: string | null;
  to: string;
  /** Audio time (end of the window) at which the change was confirmed. */
  atS: number;
  confidence: number;
}

export class ChannelSmoother {
  private smoothed: Float32Array | undefined;
  private current: number | undefined;
  private challenger: { index: number; sinceS: number } | undefined;

  private readonly options: SmoothingOptions;

  constructor(
    private readonly labels: string[],
    options: SmoothingOptions = DEFAULT_SMOOTHING,
  ) {
    this.options = { ...options };
  }

  /** Switch between EMA and raw scores mid-stream; the label and its hysteresis carry on. */
  setKind(kind: SmoothingOptions['kind']): void {
    this.options.kind = kind;
  }

  get label(): string | null {
    return this.current === undefined ? null : this.labels[this.current];
  }

  /** A speech window's scores, ending at `endS` after `hopS` since the last: the smoothed scores, and a change if one is confirmed. */
  update(scores: Float32Array, endS: number, hopS: number): { smoothed: Float32Array; change?: ChangeEvent } {
    if (!this.smoothed || this.options.kind === 'none') {
      this.smoothed = Float32Array.from(scores);
    } else {
      const alpha = 1 - Math.exp(-hopS / this.options.tauS);
      for (let i = 0; i < scores.length; i++) this.smoothed[i] += alpha * (scores[i] - this.smoothed[i]);
    }
    const s = this.smoothed;
    let best = 0;
    for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
    if (this.current === undefined) {
      // The first speech sets the label at once: there is nothing to hold against.
      this.current = best;
      return { smoothed: Float32Array.from(s), change: { from: null, to: this.labels[best], atS: endS, confidence: s[best] } };
    }
    if (best === this.current || s[best] - s[this.current] < this.options.margin) {
      this.challenger = undefined;
      return { smoothed: Float32Array.from(s) };
    }
    if (this.challenger?.index !== best) this.challenger = { index: best, sinceS: endS - hopS };
    if (endS - this.challenger.sinceS + 1e-9 < this.options.holdS) return { smoothed: Float32Array.from(s) };
    const from = this.labels[this.current];
    this.current = best;
    this.challenger = undefined;
    return { smoothed: Float32Array.from(s), change: { from, to: this.labels[best], atS: endS, confidence: s[best] } };
  }
}
