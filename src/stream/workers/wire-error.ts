/** Errors as they cross between threads: structured cloning keeps only a plain Error, losing the code, hint and close code the client is told. */
import { AerError, type ErrorCode, isAerError } from '../../errors.ts';
import { ProtocolError } from '../../protocol/stream-config.ts';
import type { WireError } from './messages.ts';

export function toWire(error: unknown): WireError {
  if (error instanceof ProtocolError) return { message: error.message, code: error.code, hint: error.hint, closeCode: error.closeCode };
  if (isAerError(error)) return { message: error.message, code: error.code, hint: error.hint };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The error a thread reported, as the class it was thrown as. */
export function fromWire(error: WireError): Error {
  if (error.closeCode !== undefined) return new ProtocolError(error.message, error.closeCode, error.code as ErrorCode);
  if (error.code !== undefined) return new AerError(error.code as ErrorCode, error.message, error.hint ? { hint: error.hint } : {});
  return new Error(error.message);
}
