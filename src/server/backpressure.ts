/**
 * When a connection stops reading its client (TCP pushes back) and when it
 * reads again: by the windows a session has in flight and the audio waiting
 * for its worker (stream/overload.ts has the thresholds).
 */
import { OVERLOAD } from '../stream/overload.ts';
import type { SessionHandle } from '../stream/session-handle.ts';

export function shouldPause({ pendingWindows, backlogBytes, config }: SessionHandle): boolean {
  return pendingWindows > OVERLOAD.pauseAboveWindows * config.channels || backlogBytes > OVERLOAD.pauseAboveBytes;
}

export function mayResume({ pendingWindows, backlogBytes, config }: SessionHandle): boolean {
  return pendingWindows <= OVERLOAD.resumeAtWindows * config.channels && backlogBytes <= OVERLOAD.resumeAtBytes;
}
