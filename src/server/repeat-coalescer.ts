/**
 * Repeated non-fatal errors and warnings of one kind (a thousand bad
 * frames, a run of damaged packets) go to the client as the first one at
 * once, then at most one a second carrying `count`: how many occurred since
 * the last one sent. The latest message's text stands for them.
 */
import type { ErrorMessage, ServerMessage, WarningMessage } from '../protocol/wire.ts';

export type Repeatable = ErrorMessage | WarningMessage;

interface Held {
  message: Repeatable;
  /** Occurrences not yet reported. */
  count: number;
  lastSent: number;
}

export const COALESCE_INTERVAL_MS = 1000;

/** Whether a message is one that repeats: non-fatal errors and audio warnings (overload warnings carry their own counts). */
export function isRepeatable(m: ServerMessage): boolean {
  return (m.type === 'error' && !m.fatal) || (m.type === 'warning' && m.code === 'audio_problem');
}

export class RepeatCoalescer {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (m: ServerMessage) => void,
    private readonly intervalMs = COALESCE_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  offer(message: Repeatable): void {
    const key = `${message.type}/${message.code}/${'channel' in message ? (message.channel ?? '') : ''}`;
    const now = this.now();
    const entry = this.held.get(key);
    if (entry && now - entry.lastSent < this.intervalMs) {
      entry.count++;
      entry.message = message;
      this.arm();
      return;
    }
    if (entry && entry.count > 0) {
      // The interval has passed: what was held goes out with this one.
      this.emit({ ...message, count: entry.count + 1 });
    } else this.emit(message);
    this.held.set(key, { message, count: 0, lastSent: now });
  }

  /** Sends every count still held (before `closed`, or a fatal error). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const entry of this.held.values()) this.send(entry);
    this.held.clear();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }

  private send(entry: Held): void {
    if (entry.count === 0) return;
    this.emit({ ...entry.message, count: entry.count });
    entry.count = 0;
    entry.lastSent = this.now();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = this.now();
      for (const [key, entry] of this.held) {
        if (entry.count > 0 && now - entry.lastSent >= this.intervalMs) this.send(entry);
        else if (entry.count === 0 && now - entry.lastSent >= this.intervalMs) this.held.delete(key);
      }
      if ([...this.held.values()].some((e) => e.count > 0)) this.arm();
    }, this.intervalMs);
    this.timer.unref?.();
  }
}
