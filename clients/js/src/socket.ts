/**
 * The WebSocket to use: the platform's own (browsers, Deno, Node 22+), else
 * the `ws` package in Node, loaded only when needed. Both are used through
 * this small interface.
 */
export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
}

export type SocketFactory = (url: string, headers: Record<string, string>) => SocketLike;

export const OPEN = 1;

/** `ws` where present (it can send an Authorization header), else the platform's WebSocket (the token then goes in the query). */
export async function defaultSocketFactory(): Promise<{ create: SocketFactory; headers: boolean }> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (isNode) {
    try {
      const { default: WebSocket } = (await import('ws')) as unknown as {
        default: new (url: string, options: { headers: Record<string, string> }) => SocketLike;
      };
      return { create: (url, headers) => new WebSocket(url, { headers }), headers: true };
    } catch {
      // Fall through to the platform's WebSocket (Node 22+ has one).
    }
  }
  const Native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (!Native) throw new Error('no WebSocket here: install the ws package (npm install ws)');
  return { create: (url) => new Native(url), headers: false };
}
