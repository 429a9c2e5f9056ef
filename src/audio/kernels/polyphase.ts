/**
 * The wasm SIMD polyphase kernel (polyphase.wat): about four times the speed
 * of the same loop in JavaScript, which V8 runs one multiply-add at a time.
 * One instance per process: coefficient tables are stored once per ratio and
 * kept, each call copies its input in and its output out of a scratch area.
 */
import fs from 'node:fs';

interface PolyphaseExports {
  memory: WebAssembly.Memory;
  run(coef: number, taps: number, L: number, step: number, carry: number, buf: number, start: number, phase: number, out: number, count: number): void;
}

const kernel = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(new URL('./polyphase.wasm', import.meta.url))), {})
  .exports as unknown as PolyphaseExports;

/** End of the stored tables; the scratch area starts here. */
let tablesEnd = 0;

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

function reserve(bytes: number): void {
  const missing = bytes - kernel.memory.buffer.byteLength;
  if (missing > 0) kernel.memory.grow(Math.ceil(missing / 65536));
}

/** Copy a coefficient table into kernel memory for good; returns its address. */
export function storeTable(coefficients: Float32Array): number {
  const address = tablesEnd;
  reserve(address + coefficients.length * 4);
  new Float32Array(kernel.memory.buffer, address, coefficients.length).set(coefficients);
  tablesEnd = align(address + coefficients.length * 4);
  return address;
}

export interface PolyphaseRun {
  table: number;
  taps: number;
  L: number;
  /** floor(M / L) and M mod L: how far each output's centre moves in the input. */
  step: number;
  carry: number;
  /** First tap of the first output, as an index into `input`, and its phase. */
  start: number;
  phase: number;
  count: number;
}

export function polyphase(input: Float32Array, p: PolyphaseRun): Float32Array {
  const inAddress = tablesEnd;
  const outAddress = align(inAddress + input.length * 4);
  reserve(outAddress + p.count * 4);
  new Float32Array(kernel.memory.buffer, inAddress, input.length).set(input);
  kernel.run(p.table, p.taps, p.L, p.step, p.carry, inAddress, p.start, p.phase, outAddress, p.count);
  return new Float32Array(kernel.memory.buffer, outAddress, p.count).slice();
}
