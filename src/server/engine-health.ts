/**
 * Whether the engine is answering sound probabilities now. A batch with
 * non-finite or non-probability scores marks it faulty (its windows already
 * failed alone, in the scheduler), and /readyz says 503 so a load balancer
 * sends new work elsewhere; the next sound batch, or the fixed check that
 * /readyz reruns at most every few seconds while faulty, clears it.
 */
import { checkEngine } from '../engine/output-check.ts';
import type { Engine } from '../engine/engine.ts';

const RECHECK_MS = 5000;

export class EngineHealth {
  private problem: string | undefined;
  private since = 0;
  private lastCheck = -Infinity;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly onChange: (healthy: boolean) => void,
  ) {}

  /** Whether the last verdict was a fault (without rechecking). */
  get faulty(): boolean {
    return this.problem !== undefined;
  }

  /** A batch's verdict (the scheduler's observer). */
  observe(problem: string | undefined): void {
    if (problem && !this.problem) {
      this.problem = problem;
      this.since = Date.now();
      this.onChange(false);
    } else if (!problem && this.problem) {
      this.problem = undefined;
      this.onChange(true);
    }
  }

  /** What is wrong now, if anything; while faulty, reruns the fixed check (rate-limited) to see whether it has passed. */
  async fault(): Promise<string | undefined> {
    if (!this.problem) return undefined;
    if (performance.now() - this.lastCheck >= RECHECK_MS) {
      this.lastCheck = performance.now();
      this.checking ??= checkEngine(this.engine)
        .then(() => this.observe(undefined))
        .catch(() => {})
        .finally(() => (this.checking = undefined));
      await this.checking;
    }
    return this.problem ? `the engine answered non-probabilities since ${new Date(this.since).toISOString()} (${this.problem})` : undefined;
  }
}
