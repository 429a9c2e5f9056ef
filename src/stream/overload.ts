/**
 * The overload policy, in one place (docs/architecture.md, "Overload"):
 * what the service does when it cannot keep up, and every threshold of it.
 * The modules that act read their numbers here.
 *
 * 1. A client ahead of real time (a file sent as fast as it goes) is never
 *    shed. Its transport stops reading its socket while too many of its
 *    windows are in flight, or too much of its audio waits for its worker,
 *    and TCP slows the sender (stream-connection.ts; /v1/classify's reading
 *    likewise, with more room: classify.ts). uWS cannot stop reading, so it
 *    holds what arrives and closes the client past a limit (uws-transport.ts).
 * 2. A live client (at real-time pace) gets its newest audio analysed: a
 *    channel that falls behind (its oldest window in analysis, or its audio
 *    waiting to be taken in, older than `skipBehindMs`; or, while the event
 *    loop is saturated, its audio read late) skips audio until it has
 *    caught up (channel.ts, session.ts, loop-lag.ts), and the scheduler
 *    coalesces a stream's queued windows to its newest and sheds stale ones
 *    (scheduler.ts). The client hears of it in `warning: overloaded`, at
 *    most once a `warningIntervalMs` per channel.
 * 3. A client that does not read its events has them dropped, then is
 *    closed (stream-connection.ts).
 * 4. Past `--max-sessions` new streams are refused (1013); past
 *    `--max-classify` files get 503 (server.ts): flags, not here.
 */

export const OVERLOAD = {
  /** A client whose audio is this far ahead of the wall clock is a fast sender (paused, never shed), not a live one. */
  aheadOfRealTimeS: 2,
  /** A live stream's socket: windows in flight per channel above which it stops being read, and at or below which it is read again. */
  pauseAboveWindows: 6,
  resumeAtWindows: 2,
  /** ... and audio bytes waiting for its worker. */
  pauseAboveBytes: 256 * 1024,
  resumeAtBytes: 64 * 1024,
  /** /v1/classify's reading of its body: bulk work may run further ahead. */
  classify: { pauseAboveWindows: 16, resumeAtWindows: 8, pauseAboveBytes: 1024 * 1024, resumeAtBytes: 256 * 1024 },
  /** uWS cannot stop reading: bytes it holds for a paused client before closing it 1008 rate_exceeded. */
  uwsMaxHeldBytes: 16 * 1024 * 1024,
  /** A live channel this far behind skips audio... */
  skipBehindMs: 1000,
  /** ...until it is no further behind than this. */
  resumeBehindMs: 250,
  /** An event loop this late runs saturated (not paused by a garbage collection). */
  saturatedLagMs: 100,
  /** Overload warnings per channel: at most one this often, counting the windows since. */
  warningIntervalMs: 1000,
  /** The scheduler: windows queued per stream before its oldest are coalesced, in all, and how old a window's audio may be at batch time. */
  scheduler: { maxPerStream: 2, maxQueue: 4096, staleMs: 500 },
  /** A client that does not read: events waiting past the first are dropped, past the second it is closed, as after dropping this long. */
  outgoing: { dropAboveBytes: 256 * 1024, closeAboveBytes: 1024 * 1024, closeAfterDroppingMs: 30_000 },
  /** Dropped events are told at most this often. */
  dropWarningIntervalMs: 5000,
} as const;
