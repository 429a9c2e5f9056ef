/** A real redis-server (Debian; .ci/run installs it) on a free loopback port, without persistence, one per test suite. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, needsTools } from './tools.ts';

export const needsRedis = needsTools('redis-server');

export interface RedisProcess {
  url: string;
  port: number;
  /** Stops answering (SIGSTOP) without losing anything, as a stalled or partitioned Redis; resume() brings it back. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server exited before it was ready:\n${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
