/**
 * Bearer tokens: from a file (one per line, # comments) and/or the
 * AER_TOKENS environment variable (comma-separated). A request carries one
 * as `Authorization: Bearer <token>` or `?token=` (browsers cannot set
 * headers on a WebSocket). Compared in constant time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { AerError } from '../errors.ts';

export class Tokens {
  private readonly digests: Buffer[];

  constructor(tokens: string[]) {
    this.digests = tokens.map((t) => crypto.createHash('sha256').update(t).digest());
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  static load(file: string | undefined, env: string | undefined): Tokens {
    const tokens: string[] = [];
    if (file) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        throw new AerError('invalid_argument', `the tokens file ${file} cannot be read`, { hint: 'give a file with one token per line' });
      }
      tokens.push(
        ...text
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      );
      if (tokens.length === 0)
        throw new AerError('invalid_argument', `the tokens file ${file} holds no tokens`, { hint: 'one token per line; lines starting with # are comments' });
    }
    if (env)
      tokens.push(
        ...env
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      );
    const short = tokens.find((t) => t.length < 16);
    if (short !== undefined)
      throw new AerError('invalid_argument', 'a token is shorter than 16 characters', { hint: 'use long random tokens, e.g. openssl rand -hex 24' });
    return new Tokens(tokens);
  }

  /** The token a request presents, if any. */
  static presented(header: string | undefined, url: URL): string | undefined {
    if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
    return url.searchParams.get('token') ?? undefined;
  }

  allows(token: string | undefined): boolean {
    if (!this.enabled) return true;
    if (token === undefined) return false;
    const digest = crypto.createHash('sha256').update(token).digest();
    return this.digests.some((d) => crypto.timingSafeEqual(d, digest));
  }
}
