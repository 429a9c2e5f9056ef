/** Debian command-line tools some tests use to make or check audio (.ci/run installs them). */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { prerequisite } from './shared.ts';

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** false when all tools are installed, else the reason to skip. */
export function needsTools(...commands: string[]): false | string {
  const missing = commands.filter((c) => !has(c));
  return prerequisite(
    missing.length === 0,
    `needs ${missing.join(', ')} (apt-get install ${missing.map((m) => (m === 'opusenc' || m === 'opusdec' ? 'opus-tools' : m === 'promtool' ? 'prometheus' : m)).join(' ')})`,
  );
}

export function run(command: string, args: string[]): Buffer {
  return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}

const made: string[] = [];

/** A fresh temporary directory, removed when the process exits (one exit listener for all of them). */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aer-test-'));
  if (made.length === 0) process.on('exit', () => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  made.push(dir);
  return dir;
}

/** ffmpeg's own decoding of a file to float32 samples, interleaved. */
export function ffmpegDecodeF32(file: string): Float32Array {
  const out = run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'f32le', '-acodec', 'pcm_f32le', '-']);
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

/** A TCP port free on 127.0.0.1 now (for a process the test starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
