/**
 * The wasm SIMD polyphase kernel (polyphase.wat): about four times the speed
 * of the same loop in JavaScript, which V8 runs one multiply-add at a time.
 *
 * One instance per process. Coefficient tables stay in JavaScript; the
 * kernel's memory holds a fixed number of them in equal slots, most recently
 * used first, so its size is bounded whatever sample rates clients choose.
 * Each call copies its input into a scratch area after the slots and its
 * output back out.
 */
import fs from 'node:fs';

interface PolyphaseExports {
  memory: WebAssembly.Memory;
  run(coef: number, taps: number, L: number, step: number, carry: number, buf: number, start: number, phase: number, out: number, count: number): void;
  run_interpolated(
    coef: number,
    taps: number,
    L: number,
    step: number,
    carry: number,
    buf: number,
    start: number,
    phase: number,
    out: number,
    count: number,
    P: number,
  ): void;
}

/** Coefficients as the kernel reads them: `rows` rows of `taps` (a multiple of 4). */
export interface KernelTable {
  taps: number;
  coefficients: Float32Array;
  /** 0 for one row per phase; P for rows at positions j / P, interpolated between. */
  interpolationSteps: number;
}

export interface PolyphaseRun {
  L: number;
  /** floor(M / L) and M mod L: how far each output's centre moves in the input. */
  step: number;
  carry: number;
  /** First tap of the first output, as an index into the input, and its phase. */
  start: number;
  phase: number;
  count: number;
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

export class PolyphaseKernel {
  private readonly wasm: PolyphaseExports;
  private readonly slotBytes: number;
  private readonly slots: (KernelTable | undefined)[];
  private readonly lastUse: number[];
  private readonly slotOf = new WeakMap<KernelTable, number>();
  private clock = 0;

  /** Room for `slots` resident tables of at most `slotValues` coefficients each. */
  constructor(slotValues: number, slots: number) {
    this.wasm = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(new URL('./polyphase.wasm', import.meta.url))), {})
      .exports as unknown as PolyphaseExports;
    this.slotBytes = align(slotValues * 4);
    this.slots = new Array(slots).fill(undefined);
    this.lastUse = new Array(slots).fill(0);
  }

  run(table: KernelTable, input: Float32Array, p: PolyphaseRun): Float32Array {
    const coef = this.resident(table);
    const inAddress = this.slots.length * this.slotBytes;
    const outAddress = align(inAddress + input.length * 4);
    this.reserve(outAddress + p.count * 4);
    new Float32Array(this.wasm.memory.buffer, inAddress, input.length).set(input);
    if (table.interpolationSteps === 0) {
      this.wasm.run(coef, table.taps, p.L, p.step, p.carry, inAddress, p.start, p.phase, outAddress, p.count);
    } else {
      this.wasm.run_interpolated(coef, table.taps, p.L, p.step, p.carry, inAddress, p.start, p.phase, outAddress, p.count, table.interpolationSteps);
    }
    return new Float32Array(this.wasm.memory.buffer, outAddress, p.count).slice();
  }

  /** The table's address in kernel memory, copying it into the least recently used slot if it is not there. */
  private resident(table: KernelTable): number {
    let slot = this.slotOf.get(table);
    if (slot === undefined || this.slots[slot] !== table) {
      if (table.coefficients.length * 4 > this.slotBytes) throw new RangeError(`a ${table.coefficients.length}-value table does not fit a kernel slot`);
      slot = this.slots.indexOf(undefined);
      if (slot < 0) slot = this.lastUse.indexOf(Math.min(...this.lastUse));
      this.reserve((slot + 1) * this.slotBytes);
      new Float32Array(this.wasm.memory.buffer, slot * this.slotBytes, table.coefficients.length).set(table.coefficients);
      this.slots[slot] = table;
      this.slotOf.set(table, slot);
    }
    this.lastUse[slot] = ++this.clock;
    return slot * this.slotBytes;
  }

  private reserve(bytes: number): void {
    const missing = bytes - this.wasm.memory.buffer.byteLength;
    if (missing > 0) this.wasm.memory.grow(Math.ceil(missing / 65536));
  }
}
