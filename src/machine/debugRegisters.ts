// The debug registers DR0-DR3, DR6 and DR7 (Intel SDM Vol. 3, 18.2): four
// breakpoint addresses, a status register that says which condition fired,
// and a control register that enables each address and says what it watches.
//
//   DR7 bits 2n, 2n+1   L n, G n: breakpoint n enabled (local/global: xk has
//                       no task switches, so both mean "on")
//   DR7 bits 16+4n..    R/W n: 00 instruction fetch, 01 data write,
//                       10 I/O port access (only with CR4.DE=1; with DE clear it is
//                       undefined and xk never fires it), 11 data read or write
//   DR7 bits 18+4n..    LEN n: 00 one byte, 01 two, 11 four, 10 eight bytes
//   DR7 bit 13          GD: a mov to or from any debug register raises #DB first (DR6.BD)
//   DR6 bits 0-3        B n: breakpoint n fired
//   DR6 bit 13, 14      BD (general detect), BS (single step, RFLAGS.TF)
//
// A data breakpoint of length LEN covers the LEN-aligned bytes around its
// address (the low address bits are ignored) and fires when an access touches
// any of them. An I/O breakpoint does the same for the 16-bit port numbers an
// in/out touches (trap after the instruction, like a data breakpoint). An
// instruction breakpoint fires when RIP equals its address.
// This class only matches; debugExceptions.ts decides when to look and what
// to raise. The same class serves an outside debugger (the gdb stub's
// hardware breakpoints and watchpoints), so the two use the same rules.

import { isCanonical, toSignedLinear } from './address.js';

export const DR6_BS = 1 << 14;
export const DR6_BD = 1 << 13;
/** Bits of DR6 that software can change (B0-B3, BD, BS, BT); the others read 1 (4-11, 16-31) or 0 (12). */
const DR6_WRITABLE = 0xe00f;
const DR6_FIXED = 0xffff0ff0;
export const DR7_GD = 1 << 13;
/** DR7: bit 10 reads 1; bits 11, 12, 14, 15 read 0. */
const DR7_WRITABLE = 0xffff23ff;
const DR7_FIXED = 0x400;

export type BreakpointKind = 'execute' | 'write' | 'access';

export class DebugRegisters {
  /** DR0-DR3 as written (low and high halves). */
  private readonly raw = new Uint32Array(8);
  /** DR0-DR3 as signed linear addresses (NaN when not canonical: such a breakpoint never matches). */
  private readonly linear = new Float64Array(4).fill(0);
  private dr6Value = DR6_FIXED;
  private dr7Value = DR7_FIXED;
  /** Bit n: breakpoint n is enabled for instruction fetches / for writes / for reads and writes. */
  executeMask = 0;
  writeMask = 0;
  accessMask = 0;
  /** Bit n: breakpoint n is an I/O breakpoint (R/W = 10; fires only while CR4.DE is set). */
  ioMask = 0;
  /** Bytes each breakpoint covers (a power of two). */
  private readonly lengths = [1, 1, 1, 1];

  get dr6(): number { return this.dr6Value; }
  set dr6(v: number) { this.dr6Value = ((v & DR6_WRITABLE) | DR6_FIXED) >>> 0; }
  get dr7(): number { return this.dr7Value; }
  set dr7(v: number) {
    this.dr7Value = ((v & DR7_WRITABLE) | DR7_FIXED) >>> 0;
    this.executeMask = this.writeMask = this.accessMask = this.ioMask = 0;
    for (let n = 0; n < 4; n++) {
      const enabled = ((v >>> (2 * n)) & 3) !== 0;
      const rw = (v >>> (16 + 4 * n)) & 3;
      const len = (v >>> (18 + 4 * n)) & 3;
      this.lengths[n] = [1, 2, 8, 4][len];
      if (!enabled) continue;
      if (rw === 0) this.executeMask |= 1 << n;
      else if (rw === 1) this.writeMask |= 1 << n;
      else if (rw === 3) this.accessMask |= 1 << n;
      else this.ioMask |= 1 << n;
    }
  }

  /** DR0-DR3 as [lo, hi]. */
  address(n: number): [number, number] {
    return [this.raw[2 * n], this.raw[2 * n + 1]];
  }
  /** Is DRn (0-3) hi:lo already? */
  holds(n: number, lo: number, hi: number): boolean {
    return this.raw[2 * n] === lo >>> 0 && this.raw[2 * n + 1] === hi >>> 0;
  }
  /** DR0-DR3 into `out` as [lo0, hi0, lo1, hi1, ...] (the VMM's vCPU keeps them so). */
  addressesInto(out: number[]): void {
    for (let i = 0; i < 8; i++) out[i] = this.raw[i];
  }
  setAddress(n: number, lo: number, hi: number): void {
    this.raw[2 * n] = lo;
    this.raw[2 * n + 1] = hi;
    this.linear[n] = isCanonical(lo, hi) ? toSignedLinear(lo, hi) : NaN;
  }

  /** Does DR7 enable any breakpoint? */
  get enabled(): boolean {
    return (this.executeMask | this.writeMask | this.accessMask | this.ioMask) !== 0;
  }
  /** Does DR7 enable a data breakpoint (so every data access must be looked at)? */
  get watchesData(): boolean {
    return (this.writeMask | this.accessMask) !== 0;
  }

  /** Breakpoints (as DR6 B bits) that an instruction fetch at linear `rip` fires. */
  executeHits(rip: number): number {
    let bits = 0;
    for (let n = 0, m = this.executeMask; m !== 0; n++, m >>>= 1) {
      if ((m & 1) !== 0 && this.linear[n] === rip) bits |= 1 << n;
    }
    return bits;
  }

  /** Breakpoints (as DR6 B bits) that a data access of `bytes` at linear `addr` fires. */
  dataHits(addr: number, bytes: number, write: boolean): number {
    let bits = 0;
    const mask = write ? this.writeMask | this.accessMask : this.accessMask;
    for (let n = 0, m = mask; m !== 0; n++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const len = this.lengths[n];
      const lo = this.linear[n] - (this.raw[2 * n] & (len - 1)); // aligned down to LEN
      if (addr < lo + len && addr + bytes > lo) bits |= 1 << n;
    }
    return bits;
  }

  /** Breakpoints (as DR6 B bits) that an in/out of `bytes` at `port` fires (the caller checks CR4.DE). */
  ioHits(port: number, bytes: number): number {
    let bits = 0;
    for (let n = 0, m = this.ioMask; m !== 0; n++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const len = this.lengths[n];
      const lo = (this.raw[2 * n] & 0xffff) - (this.raw[2 * n] & (len - 1));
      if (port < lo + len && port + bytes > lo) bits |= 1 << n;
    }
    return bits;
  }

  /** Install breakpoint `n` (what an outside debugger does with DR7 and DRn). */
  set(n: number, kind: BreakpointKind, address: number, length: 1 | 2 | 4 | 8): void {
    const lo = address >>> 0, hi = Math.floor(address / 0x100000000) >>> 0;
    this.setAddress(n, lo, hi);
    const rw = kind === 'execute' ? 0 : kind === 'write' ? 1 : 3;
    const len = { 1: 0, 2: 1, 8: 2, 4: 3 }[length];
    const field = (rw | (len << 2)) << (16 + 4 * n);
    const cleared = this.dr7Value & ~((0xf << (16 + 4 * n)) | (3 << (2 * n)));
    this.dr7 = (cleared | field | (2 << (2 * n))) >>> 0; // G n
  }
  /** Remove breakpoint `n`. */
  clear(n: number): void {
    this.dr7 = this.dr7Value & ~(3 << (2 * n));
  }
  /** Is slot `n` enabled? */
  inUse(n: number): boolean {
    return ((this.dr7Value >>> (2 * n)) & 3) !== 0;
  }
}
