/** Starting `aer serve` where it cannot listen: one line that says why, a hint, and a failing exit status. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/shared.ts';

/** Runs `aer serve ARGS` to its exit: status and stderr. */
function serve(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/aer.js'), 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (status) => (clearTimeout(timer), resolve({ status, stderr }))));
}

describe('aer serve on a port it cannot have', () => {
  test('a busy port (service or metrics) names the address and the flag, and exits 1', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      for (const [args, flag] of [
        [['--port', String(busy)], '--port N \\(or AER_PORT\\)'],
        [['--port', '0', '--metrics-port', String(busy)], '--metrics-port N \\(or AER_METRICS_PORT\\)'],
      ] as const) {
        const { status, stderr } = await serve([...args]);
        assert.equal(status, 1);
        assert.match(
          stderr,
          new RegExp(
            `^error \\[io_error\\]: 127\\.0\\.0\\.1:${busy} is already in use\\n  hint: stop what listens there, or pick another port with ${flag}\\n$`,
            'm',
          ),
        );
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      holder.close();
    }
  });
});
