/**
 * Which web pages may use the service from a browser. A browser sends an
 * Origin header with every WebSocket and every cross-site POST, and lets any
 * page open a WebSocket to any address, a service on 127.0.0.1 included: so
 * without this check, any site a user visits could stream to (or through)
 * their local instance. By default only the service's own pages (same
 * origin) and clients that send no Origin (programs, not browsers) are let
 * in; `--allowed-origins` adds exact origins, or `*` for any.
 */
import { AerError } from '../errors.ts';

export class OriginPolicy {
  private readonly origins: Set<string>;
  readonly any: boolean;

  constructor(allowed: readonly string[] = []) {
    this.any = allowed.includes('*');
    this.origins = new Set(allowed.filter((o) => o !== '*').map(normalise));
  }

  /** `origin`: the request's Origin header; `host`: its Host header (what same-origin compares with). */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.any) return true;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      // "null" (sandboxed frames, file: pages) and junk are nobody's origin.
      return false;
    }
    if (host !== undefined && parsed.host === host.toLowerCase()) return true;
    return this.origins.has(parsed.origin);
  }

  /** Whether a cross-origin page's request is allowed by name (and so may read the answer: CORS). */
  listed(origin: string | undefined): boolean {
    if (origin === undefined) return false;
    if (this.any) return true;
    try {
      return this.origins.has(new URL(origin).origin);
    } catch {
      return false;
    }
  }
}

function normalise(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new AerError('invalid_argument', `--allowed-origins: ${JSON.stringify(origin)} is not an origin`, {
      hint: 'give origins as scheme://host[:port], e.g. https://app.example.com, comma-separated, or * for any',
    });
  }
  if (url.origin === 'null' || url.pathname !== '/' || url.search || url.hash) {
    throw new AerError('invalid_argument', `--allowed-origins: ${JSON.stringify(origin)} is not an origin (no path, query or fragment)`, {
      hint: 'e.g. https://app.example.com',
    });
  }
  return url.origin;
}
