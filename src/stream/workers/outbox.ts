/**
 * Messages to another thread, gathered for one tick and sent as one
 * postMessage: a hundred streams' packets would otherwise cost a hundred
 * structured clones and wake-ups a tick.
 */
export interface Port {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
}

export class Outbox<Item> {
  private items: Item[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;

  constructor(
    private readonly port: Port,
    /** Called just before a batch goes: the last chance to add to it. */
    private readonly beforeSend: () => void = () => {},
  ) {}

  add(item: Item, transfer?: ArrayBuffer): void {
    this.items.push(item);
    if (transfer) this.transfer.push(transfer);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  /** Makes sure a batch goes this tick, even if nothing is added yet. */
  touch(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.send());
  }

  send(): void {
    this.scheduled = false;
    this.beforeSend();
    if (this.items.length === 0) return;
    const items = this.items;
    const transfer = this.transfer;
    this.items = [];
    this.transfer = [];
    this.port.postMessage({ type: 'batch', items }, transfer);
  }
}

/** The bytes in a buffer of their own, to transfer (a socket's buffer may be shared with other data, and cloning a view clones all of it). */
export function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.prototype.slice.call(bytes) as Uint8Array<ArrayBuffer>;
}

/** A typed array's memory, to transfer, when it is the whole of its buffer; else undefined (it is copied). */
export function transferable(array: Float32Array): ArrayBuffer | undefined {
  const { buffer } = array;
  return buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === buffer.byteLength ? buffer : undefined;
}
