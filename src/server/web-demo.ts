/**
 * The web pages (clients/web): the demo at `/` and the supervisor view at
 * `/calls`, their stylesheet, and their scripts, bundled from the
 * TypeScript sources (with the client SDK and RxJS) by esbuild on first
 * request and kept in memory, so the pages need no build step and cannot
 * go stale.
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
  '/calls': { file: 'calls.html', type: 'text/html; charset=utf-8' },
};

/** Each page's script and the source it is bundled from. */
const SCRIPTS: Record<string, string> = { '/app.js': 'src/main.ts', '/calls.js': 'src/calls.ts' };

export class WebDemo {
  private readonly scripts = new Map<string, Promise<string>>();
  /** Whether the demo's files are there (an install without clients/ has no demo, and `/` is a 404). */
  private readonly available: boolean;

  constructor(private readonly dir = WEB_DIR) {
    this.available = existsSync(path.join(dir, 'index.html'));
  }

  /** The reply for a demo path, or undefined for any other path (without touching the disk). */
  async reply(pathname: string): Promise<HttpReply | undefined> {
    const asset = STATIC[pathname];
    const source = SCRIPTS[pathname];
    if (!this.available || (!asset && !source)) return undefined;
    if (asset) return { status: 200, contentType: asset.type, body: readFileSync(path.join(this.dir, asset.file), 'utf8') };
    let script = this.scripts.get(pathname);
    if (!script) {
      script = this.bundle(source);
      this.scripts.set(pathname, script);
    }
    return { status: 200, contentType: 'text/javascript; charset=utf-8', body: await script };
  }

  private async bundle(source: string): Promise<string> {
    const result = await build({
      entryPoints: [path.join(this.dir, source)],
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
