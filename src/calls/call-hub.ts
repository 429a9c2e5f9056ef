/**
 * The calls this replica owns and where their events go: the bus (for
 * subscribers on any replica) and the listeners (webhooks, metrics). A call
 * id is the platform's (Twilio's callSid, AudioHook's conversation id):
 * one that is live already, here or on another replica, is refused.
 */
import { AerError } from '../errors.ts';
import type { CallSummary } from '../protocol/calls.ts';
import { type AlertOptions, DEFAULT_ALERTS } from './alerts.ts';
import type { CallBus, StoredEvent } from './bus.ts';
import { type CallOutlet, type CallStart, LiveCall } from './live-call.ts';

export interface CallListener {
  event(callId: string, event: StoredEvent): void;
}

export class CallHub implements CallOutlet {
  private readonly live = new Map<string, LiveCall>();
  private readonly listeners: CallListener[] = [];

  constructor(
    readonly bus: CallBus,
    private readonly alerts: AlertOptions = DEFAULT_ALERTS,
    private readonly onCount: (live: number) => void = () => {},
  ) {}

  listen(listener: CallListener): void {
    this.listeners.push(listener);
  }

  /** Opens the call, after checking no replica has it live. */
  async open(start: CallStart): Promise<LiveCall> {
    // A bus that cannot be read (Redis away) does not stop a call: only this replica's calls are checked then.
    const elsewhere = this.live.has(start.id) ? undefined : await this.bus.call(start.id).catch(() => undefined);
    if (this.live.has(start.id) || elsewhere?.status === 'live')
      throw new AerError('invalid_argument', `call ${start.id} is already being analysed`, {
        hint: 'stream each call once; a second stream of the same call needs its own call id',
      });
    // The check awaited: another stream of the same call may have opened meanwhile.
    if (this.live.has(start.id)) throw new AerError('invalid_argument', `call ${start.id} is already being analysed`);
    const call = new LiveCall(start, this.alerts, this);
    this.live.set(call.id, call);
    this.onCount(this.live.size);
    return call;
  }

  event(call: LiveCall, event: StoredEvent): void {
    this.bus.publish(call.id, event);
    for (const l of this.listeners) l.event(call.id, event);
  }

  snapshot(summary: CallSummary): void {
    this.bus.putCall(summary);
  }

  ended(call: LiveCall): void {
    this.live.delete(call.id);
    this.onCount(this.live.size);
  }

  /** Shutdown: every call still live here ends (their connections end first; this is what is left). */
  endAll(reason: string): void {
    for (const call of [...this.live.values()]) call.end(reason);
  }
}
