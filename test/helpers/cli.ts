/** Runs the `aer` command line as a user would, from the project root. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './shared.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function aer(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/aer.js'), ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `aer` and sends SIGINT once stderr matches `when`; resolves when it exits. */
export function aerInterrupted(when: RegExp, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/aer.js'), ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
