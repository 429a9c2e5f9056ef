/** `aer serve` as its own process, as users run it: for what only a whole process can show (it stays up; its defaults). */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './shared.ts';

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  http: string;
  url: string;
  /** Everything it has logged so far. */
  log(): string;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGTERM, then its exit status. */
  stop(): Promise<number | null>;
}

/** Starts `aer serve ARGS` (add `--port 0`) and resolves once it logs the address it listens on. */
export function serveProcess(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/aer.js'), 'serve', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  let running = true;
  void exited.then(() => (running = false));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      log += d;
      const match = /listening on http:\/\/([^:\s]+):(\d+)/.exec(log);
      if (match) {
        const port = Number(match[2]);
        resolve({
          child,
          port,
          http: `http://127.0.0.1:${port}`,
          url: `ws://127.0.0.1:${port}/v1/stream`,
          log: () => log,
          alive: () => running,
          stop: () => {
            if (running) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((status) => reject(new Error(`aer serve exited (${status}) before listening:\n${log}`)));
  });
}
