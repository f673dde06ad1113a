// Physical memory: a flat array of bytes starting at physical address 0.
// Addresses at or beyond `size` are an unbacked bus: reads return all ones and
// writes are dropped, as on a PC with nothing decoding the address.

export class PhysicalMemory {
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** The same bytes as little-endian 32-bit words (the JIT's aligned loads and stores; hosts are little-endian). */
  readonly words: Uint32Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new Error(`physical memory size must be a positive multiple of 4096 bytes, got ${size}`);
    }
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.words = new Uint32Array(this.bytes.buffer);
  }

  read8(phys: number): number {
    return phys >= 0 && phys < this.size ? this.bytes[phys] : 0xff;
  }
  read16(phys: number): number {
    if (phys >= 0 && phys + 2 <= this.size) return this.view.getUint16(phys, true);
    return this.read8(phys) | (this.read8(phys + 1) << 8);
  }
  read32(phys: number): number {
    if (phys >= 0 && phys + 4 <= this.size) return this.view.getUint32(phys, true);
    return (this.read16(phys) | (this.read16(phys + 2) << 16)) >>> 0;
  }
  /** 64-bit read as [low 32 bits, high 32 bits]. */
  read64(phys: number): [number, number] {
    return [this.read32(phys), this.read32(phys + 4)];
  }

  write8(phys: number, v: number): void {
    if (phys >= 0 && phys < this.size) this.bytes[phys] = v;
  }
  write16(phys: number, v: number): void {
    if (phys >= 0 && phys + 2 <= this.size) this.view.setUint16(phys, v, true);
    else { this.write8(phys, v & 0xff); this.write8(phys + 1, (v >>> 8) & 0xff); }
  }
  write32(phys: number, v: number): void {
    if (phys >= 0 && phys + 4 <= this.size) this.view.setUint32(phys, v >>> 0, true);
    else { this.write16(phys, v & 0xffff); this.write16(phys + 2, (v >>> 16) & 0xffff); }
  }
  write64(phys: number, lo: number, hi: number): void {
    this.write32(phys, lo);
    this.write32(phys + 4, hi);
  }

  /** Copy `data` into memory at `phys` (bytes beyond the end are dropped). */
  load(phys: number, data: Uint8Array): void {
    if (phys >= 0 && phys + data.length <= this.size) this.bytes.set(data, phys);
    else for (let i = 0; i < data.length; i++) this.write8(phys + i, data[i]);
  }
  /** Copy `length` bytes out of memory starting at `phys`. */
  slice(phys: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(phys + i);
    return out;
  }
}
