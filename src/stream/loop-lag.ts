/**
 * How late the event loop runs a 20 ms timer: when it is over
 * `OVERLOAD.saturatedLagMs` behind, the thread is saturated (decoding, Mel and VAD for every stream
 * before any window reaches the scheduler), and live streams must skip
 * audio to keep their latency bounded.
 */
import { OVERLOAD } from './overload.ts';

const INTERVAL_MS = 20;
/** Per tick, the lag estimate keeps this much of its last value: a spike fades in a few hundred ms. */
const DECAY = 0.8;

export class LoopLag {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  /** Recent lateness, ms: jumps up at once, decays. */
  lagMs = 0;

  start(): this {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(now - this.last - INTERVAL_MS, this.lagMs * DECAY);
      this.last = now;
    }, INTERVAL_MS);
    this.timer.unref();
    return this;
  }

  get saturated(): boolean {
    return this.lagMs > OVERLOAD.saturatedLagMs;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
