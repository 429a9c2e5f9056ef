/**
 * The web demo (clients/web) at `/`: the page, its stylesheet, and its
 * script, bundled from the TypeScript sources (with the client SDK and
 * RxJS) by esbuild on first request and kept in memory, so the demo needs
 * no build step and cannot go stale.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { HttpReply } from './transport/transport.ts';

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../clients/web');

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

export class WebDemo {
  private script?: Promise<string>;
  /** Whether the demo's files are there (an install without clients/ has no demo, and `/` is a 404). */
  private readonly available: boolean;

  constructor(private readonly dir = WEB_DIR) {
    this.available = existsSync(path.join(dir, 'index.html'));
  }

  /** The reply for a demo path, or undefined for any other path (without touching the disk). */
  async reply(pathname: string): Promise<HttpReply | undefined> {
    const asset = STATIC[pathname];
    if (!this.available || (!asset && pathname !== '/app.js')) return undefined;
    if (asset) return { status: 200, contentType: asset.type, body: readFileSync(path.join(this.dir, asset.file), 'utf8') };
    return { status: 200, contentType: 'text/javascript; charset=utf-8', body: await (this.script ??= this.bundle()) };
  }

  private async bundle(): Promise<string> {
    const result = await build({
      entryPoints: [path.join(this.dir, 'src/main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      // The SDK loads ws only in Node; the browser has its own WebSocket.
      external: ['ws'],
      logLevel: 'silent',
    });
    return result.outputFiles[0].text;
  }
}
