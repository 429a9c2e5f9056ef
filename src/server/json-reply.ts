/** The service's JSON answers, and its error shape `{"error": {"code", "message", "hint"?}}` (docs/protocol.md), for every route. */
import type { HttpReply } from './transport/transport.ts';

export function json(status: number, body: unknown, headers?: Record<string, string>): HttpReply {
  return { status, contentType: 'application/json', body: JSON.stringify(body), headers };
}

export function httpError(status: number, code: string, message: string, hint?: string, headers?: Record<string, string>): HttpReply {
  return json(status, { error: { code, message, ...(hint ? { hint } : {}) } }, headers);
}
