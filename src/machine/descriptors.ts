// Descriptor formats of x86-64 (Intel SDM Vol. 3, sections 3.4.5, 7.2.3, 6.14.1):
// builders (used by the kernel to lay out its GDT, TSS and IDT in memory) and
// parsers (used by the CPU when it loads segments and delivers interrupts).
//
// Segment descriptor, 8 bytes:
//   bytes 0-1 limit 15..0   bytes 2-4 base 23..0
//   byte 5  access: P(7) DPL(6..5) S(4: 1 = code/data, 0 = system) type(3..0)
//   byte 6  G(7) D/B(6) L(5: 64-bit code) AVL(4) limit 19..16
//   byte 7  base 31..24
// In 64-bit mode base and limit of code/data segments are ignored (flat), but
// P, DPL, S, type and L are checked when a selector is loaded.
//
// System descriptors (the TSS) are 16 bytes in long mode: the 8 bytes above,
// then base 63..32 and 4 reserved bytes.
//
// IDT gate, 16 bytes:
//   bytes 0-1 offset 15..0   bytes 2-3 code-segment selector
//   byte 4  IST index (bits 2..0)
//   byte 5  P(7) DPL(6..5) 0 type(3..0): 0xE interrupt gate (clears IF), 0xF trap gate
//   bytes 6-7 offset 31..16   bytes 8-11 offset 63..32   bytes 12-15 reserved

import { PhysicalMemory } from './memory.js';

/** Segment types (the 4-bit type field). */
export const TYPE_CODE = 0x8; // with S = 1: code segment
export const TYPE_CODE_CONFORMING = 0x4;
export const TYPE_CODE_READABLE = 0x2;
export const TYPE_DATA_WRITABLE = 0x2;
export const TYPE_ACCESSED = 0x1;
/** System types (S = 0) in long mode. */
export const TYPE_LDT = 0x2;
export const TYPE_TSS_AVAILABLE = 0x9;
export const TYPE_TSS_BUSY = 0xb;
export const TYPE_INTERRUPT_GATE = 0xe;
export const TYPE_TRAP_GATE = 0xf;

export interface SegmentDescriptor {
  base: number;
  /** 20-bit limit as stored (scaled by 4 KiB when granularity is set). */
  limit: number;
  /** 4-bit type. */
  type: number;
  /** S bit: true for code/data, false for system descriptors. */
  codeOrData: boolean;
  dpl: number;
  present: boolean;
  avl: boolean;
  /** L: 64-bit code segment. */
  long: boolean;
  /** D/B: default operand size 32 (must be 0 when L = 1). */
  defaultBig: boolean;
  granularity: boolean;
}

/** Encode a segment descriptor into 8 bytes. */
export function encodeSegmentDescriptor(d: SegmentDescriptor): Uint8Array {
  const b = new Uint8Array(8);
  const base = d.base >>> 0;
  b[0] = d.limit & 0xff;
  b[1] = (d.limit >>> 8) & 0xff;
  b[2] = base & 0xff;
  b[3] = (base >>> 8) & 0xff;
  b[4] = (base >>> 16) & 0xff;
  b[5] = (d.present ? 0x80 : 0) | ((d.dpl & 3) << 5) | (d.codeOrData ? 0x10 : 0) | (d.type & 0xf);
  b[6] = (d.granularity ? 0x80 : 0) | (d.defaultBig ? 0x40 : 0) | (d.long ? 0x20 : 0) | (d.avl ? 0x10 : 0) |
    ((d.limit >>> 16) & 0xf);
  b[7] = (base >>> 24) & 0xff;
  return b;
}

/** Decode the first 8 bytes of `b` (starting at `offset`) as a segment descriptor. */
export function parseSegmentDescriptor(b: Uint8Array, offset = 0): SegmentDescriptor {
  const access = b[offset + 5];
  const flags = b[offset + 6];
  return {
    base: (b[offset + 2] | (b[offset + 3] << 8) | (b[offset + 4] << 16) | (b[offset + 7] << 24)) >>> 0,
    limit: b[offset] | (b[offset + 1] << 8) | ((flags & 0xf) << 16),
    type: access & 0xf,
    codeOrData: (access & 0x10) !== 0,
    dpl: (access >>> 5) & 3,
    present: (access & 0x80) !== 0,
    avl: (flags & 0x10) !== 0,
    long: (flags & 0x20) !== 0,
    defaultBig: (flags & 0x40) !== 0,
    granularity: (flags & 0x80) !== 0,
  };
}

/** A present 64-bit code segment (readable, non-conforming) at privilege `dpl`. */
export function codeSegment64(dpl: number): Uint8Array {
  return encodeSegmentDescriptor({
    base: 0, limit: 0xfffff, type: TYPE_CODE | TYPE_CODE_READABLE, codeOrData: true, dpl, present: true,
    avl: false, long: true, defaultBig: false, granularity: true,
  });
}

/** A present writable data segment at privilege `dpl` (used for SS/DS in 64-bit mode). */
export function dataSegment(dpl: number): Uint8Array {
  return encodeSegmentDescriptor({
    base: 0, limit: 0xfffff, type: TYPE_DATA_WRITABLE, codeOrData: true, dpl, present: true,
    avl: false, long: false, defaultBig: true, granularity: true,
  });
}

/** The null descriptor (GDT entry 0). */
export function nullDescriptor(): Uint8Array {
  return new Uint8Array(8);
}

export const isCodeSegment = (d: SegmentDescriptor): boolean => d.codeOrData && (d.type & TYPE_CODE) !== 0;
export const isConforming = (d: SegmentDescriptor): boolean => isCodeSegment(d) && (d.type & TYPE_CODE_CONFORMING) !== 0;
export const isWritableData = (d: SegmentDescriptor): boolean =>
  d.codeOrData && (d.type & TYPE_CODE) === 0 && (d.type & TYPE_DATA_WRITABLE) !== 0;

// ---------------------------------------------------------------------------
// The 64-bit TSS and its descriptor.

/** Offsets in the 64-bit TSS (104 bytes). */
export const TSS_RSP0 = 4;
export const TSS_RSP1 = 12;
export const TSS_RSP2 = 20;
/** IST n (1..7) is at TSS_IST1 + 8*(n-1). */
export const TSS_IST1 = 36;
export const TSS_IOMAP_BASE = 102;
export const TSS_SIZE = 104;

/** A 16-byte available-TSS descriptor for a TSS at linear `base` (signed or unsigned) of `limit` bytes - 1. */
export function tssDescriptor(base: number, limit = TSS_SIZE - 1, dpl = 0): Uint8Array {
  const b = new Uint8Array(16);
  const [lo, hi] = splitAddress(base);
  b.set(encodeSegmentDescriptor({
    base: lo, limit, type: TYPE_TSS_AVAILABLE, codeOrData: false, dpl, present: true,
    avl: false, long: false, defaultBig: false, granularity: false,
  }));
  new DataView(b.buffer).setUint32(8, hi, true);
  return b;
}

export interface TssDescriptor extends SegmentDescriptor {
  /** Full 64-bit base as a signed canonical number (the low 32 bits are in `base` too). */
  base64: number;
}

/** Decode a 16-byte system (TSS) descriptor. */
export function parseTssDescriptor(b: Uint8Array, offset = 0): TssDescriptor {
  const d = parseSegmentDescriptor(b, offset);
  const hi = (b[offset + 8] | (b[offset + 9] << 8) | (b[offset + 10] << 16) | (b[offset + 11] << 24)) >>> 0;
  return { ...d, base64: joinAddress(d.base, hi) };
}

/** Write a fresh 64-bit TSS at physical `phys`: rsp0 and optional IST stacks, no I/O bitmap. */
export function writeTss(memory: PhysicalMemory, phys: number, rsp0: number, ist: number[] = []): void {
  for (let i = 0; i < TSS_SIZE; i++) memory.write8(phys + i, 0);
  writeAddress(memory, phys + TSS_RSP0, rsp0);
  ist.forEach((v, i) => writeAddress(memory, phys + TSS_IST1 + 8 * i, v));
  memory.write16(phys + TSS_IOMAP_BASE, TSS_SIZE); // bitmap beyond the limit: no port is allowed at CPL > IOPL
}

// ---------------------------------------------------------------------------
// IDT gates.

export interface Gate {
  /** Handler address, signed canonical linear. */
  offset: number;
  selector: number;
  /** IST index 0..7 (0 = no stack switch by IST). */
  ist: number;
  /** 0xE interrupt gate or 0xF trap gate (other values are invalid in long mode). */
  type: number;
  dpl: number;
  present: boolean;
}

/** Encode a 16-byte IDT gate. */
export function encodeGate(g: Gate): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  const [lo, hi] = splitAddress(g.offset);
  v.setUint16(0, lo & 0xffff, true);
  v.setUint16(2, g.selector & 0xffff, true);
  b[4] = g.ist & 7;
  b[5] = (g.present ? 0x80 : 0) | ((g.dpl & 3) << 5) | (g.type & 0xf);
  v.setUint16(6, lo >>> 16, true);
  v.setUint32(8, hi, true);
  return b;
}

/** Decode a 16-byte IDT gate. `offsetHigh` is kept so that callers can check canonicality. */
export function parseGate(b: Uint8Array, offset = 0): Gate & { offsetLow: number; offsetHigh: number } {
  const v = new DataView(b.buffer, b.byteOffset + offset, 16);
  const lo = (v.getUint16(0, true) | (v.getUint16(6, true) << 16)) >>> 0;
  const hi = v.getUint32(8, true);
  const attr = b[offset + 5];
  return {
    offset: joinAddress(lo, hi),
    offsetLow: lo,
    offsetHigh: hi,
    selector: v.getUint16(2, true),
    ist: b[offset + 4] & 7,
    type: attr & 0xf,
    dpl: (attr >>> 5) & 3,
    present: (attr & 0x80) !== 0,
  };
}

/** An interrupt gate (IF cleared on entry) to `handler` in code segment `selector`. */
export function interruptGate(handler: number, selector: number, dpl = 0, ist = 0): Uint8Array {
  return encodeGate({ offset: handler, selector, ist, type: TYPE_INTERRUPT_GATE, dpl, present: true });
}

/** A trap gate (IF unchanged on entry). */
export function trapGate(handler: number, selector: number, dpl = 0, ist = 0): Uint8Array {
  return encodeGate({ offset: handler, selector, ist, type: TYPE_TRAP_GATE, dpl, present: true });
}

// ---------------------------------------------------------------------------
// Selectors and 64-bit address halves.

/** A selector: index into the GDT, table indicator 0 (GDT), requested privilege level. */
export function selector(index: number, rpl: number): number {
  return (index << 3) | (rpl & 3);
}

/** A canonical 64-bit value as a signed number; non-canonical values are sign-extended from bit 47 anyway. */
export function joinAddress(lo: number, hi: number): number {
  const hi16 = hi & 0xffff;
  const signed = hi16 >= 0x8000 ? hi16 - 0x10000 : hi16;
  return signed * 0x100000000 + (lo >>> 0);
}

/** Split a signed canonical number into its unsigned 32-bit halves. */
export function splitAddress(n: number): [number, number] {
  const lo = n >>> 0; // ToUint32 is exact for integers below 2^53 in magnitude
  const hi = Math.floor(n / 0x100000000) >>> 0;
  return [lo, hi];
}

/** Write a 64-bit address (signed canonical number) at physical `phys`. */
export function writeAddress(memory: PhysicalMemory, phys: number, n: number): void {
  const [lo, hi] = splitAddress(n);
  memory.write64(phys, lo, hi);
}
