/** `aer serve` of a checkout (this one, or another given by --root) as its own process on 127.0.0.1, measured from outside. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BenchServer {
  child: ChildProcess;
  port: number;
  /** Its resident memory now, MiB (from /proc). */
  rssMiB(): number;
}

/** Starts it on a free port with `args`, resolving once it logs where it listens. */
export function startServer(root: string, args: string[]): Promise<BenchServer> {
  const child = spawn(process.execPath, [path.join(root, 'bin/aer.js'), 'serve', '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m)
        resolve({ child, port: Number(m[1]), rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024 });
    });
    child.on('close', () => reject(new Error(`the server exited:\n${log}`)));
  });
}
