/** What a benchmark ran on, printed above its figures so they can be compared. */
import os from 'node:os';

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

export function header(title: string): void {
  process.stdout.write(`\n${title}\n${'='.repeat(title.length)}\nmachine: ${machine()}\n\n`);
}

/** CPU seconds (user + system) of this process spent in fn. */
export function cpuSeconds(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Median wall time of fn in microseconds over `rounds` rounds of `iterations` calls, after a warm-up. */
export function microseconds(fn: () => void, iterations: number, rounds = 5): number {
  for (let i = 0; i < Math.max(3, iterations / 4); i++) fn();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e3 / iterations);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function table(rows: (string | number)[][], heading: string[]): void {
  const cells = [heading, ...rows.map((r) => r.map(String))];
  const widths = heading.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  process.stdout.write(
    `${line(cells[0])}\n|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|\n${cells.slice(1).map(line).join('\n')}\n`,
  );
}
