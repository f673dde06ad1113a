// Lazy arithmetic flags.
//
// Most instructions set CF PF AF ZF SF OF, and most of those flags are never
// read: the next instruction overwrites them. So the CPU does not compute them
// when an instruction executes. It records WHAT happened (the operation, the
// operand size, both inputs and the result) and computes a flag only when
// something reads it (a jcc, setcc, adc, pushf, an interrupt saving RFLAGS).
//
// Values of 8, 16 and 32 bits are kept as unsigned numbers masked to their
// size, with the high half 0. 64-bit values are [lo, hi] uint32 halves.

import { PRODUCT, mulS64 } from './wideMultiply.js';

export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const RF = 1 << 16;
/** The six arithmetic flags. */
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** Kinds of recorded operation. */
export const LAZY_NONE = 0; // the flags are all in `bits`
export const LAZY_ADD = 1; // r = a + b + carryIn
export const LAZY_SUB = 2; // r = a - b - carryIn (also cmp, neg with a = 0)
export const LAZY_LOGIC = 3; // r = a op b; CF = OF = AF = 0
export const LAZY_INC = 4; // r = a + 1; CF kept in `bits`
export const LAZY_DEC = 5; // r = a - 1; CF kept in `bits`
export const LAZY_SHIFT = 6; // shl/shr/sar/shld/shrd result r; CF and OF given (in carryIn), AF set
export const LAZY_MUL = 7; // mul/imul: CF = OF = overflow (given, or computed from the operands); SF ZF AF PF those of the record before

/** Parity flag: set when the low byte of the result has an even number of 1 bits. */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  PARITY[i] = n % 2 === 0 ? PF : 0;
}

/** Mask for an operand size of 8, 16 or 32 bits. */
export function sizeMask(size: number): number {
  return size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff;
}

/** The flags state a Cpu carries. */
export class Flags {
  /** Materialized RFLAGS bits (every flag; arithmetic ones valid only when op = LAZY_NONE, except CF for inc/dec). */
  bits = 2;
  op = LAZY_NONE;
  size = 32;
  aLo = 0; aHi = 0;
  bLo = 0; bHi = 0;
  rLo = 0; rHi = 0;
  carryIn = 0;

  // LAZY_MUL: the record of the operation before the multiply (whose SF ZF AF PF
  // the multiply keeps), and the multiply's overflow: `mulOverflow` (CF|OF or 0),
  // or, when `mulLazy`, that of the signed 64x64 product of mx and my.
  private sOp = LAZY_NONE; private sSize = 32;
  private saLo = 0; private saHi = 0; private sbLo = 0; private sbHi = 0; private srLo = 0; private srHi = 0;
  private sCarryIn = 0;
  private mulOverflow = 0;
  private mulLazy = false;
  private mxLo = 0; private mxHi = 0; private myLo = 0; private myHi = 0;

  /** Record an operation (values already masked to `size`). */
  set(op: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number, rLo: number, rHi: number, carryIn: number): void {
    this.op = op; this.size = size;
    this.aLo = aLo; this.aHi = aHi; this.bLo = bLo; this.bHi = bHi; this.rLo = rLo; this.rHi = rHi;
    this.carryIn = carryIn;
  }

  /** Record a logical result (and, or, xor, test): CF = OF = 0. AF is cleared too (the SDM leaves it undefined; the host CPU clears it). */
  setLogic(size: number, rLo: number, rHi: number): void {
    this.op = LAZY_LOGIC; this.size = size; this.rLo = rLo; this.rHi = rHi;
  }

  /** Record a shift's result with its CF and OF (CF|OF bits); SF ZF PF come from the result, AF is set (executeLogic.ts). */
  setShift(size: number, rLo: number, rHi: number, cfOf: number): void {
    this.op = LAZY_SHIFT; this.size = size; this.rLo = rLo; this.rHi = rHi; this.carryIn = cfOf;
  }

  /** A multiply: CF = OF = `overflow`, SF ZF AF PF unchanged (executeArithmetic.ts). */
  setMul(overflow: boolean): void {
    this.keepForMul();
    this.mulLazy = false;
    this.mulOverflow = overflow ? CF | OF : 0;
  }

  /** A 64-bit imul of x and y: CF = OF = whether the signed product overflows 64 bits, computed only if read. */
  setImul64(xLo: number, xHi: number, yLo: number, yHi: number): void {
    this.keepForMul();
    this.mulLazy = true;
    this.mxLo = xLo; this.mxHi = xHi; this.myLo = yLo; this.myHi = yHi;
  }

  /** Move the current record aside (its SF ZF AF PF survive the multiply); a multiply's own record stays as it is. */
  private keepForMul(): void {
    if (this.op === LAZY_MUL) return;
    this.sOp = this.op; this.sSize = this.size;
    this.saLo = this.aLo; this.saHi = this.aHi; this.sbLo = this.bLo; this.sbHi = this.bHi;
    this.srLo = this.rLo; this.srHi = this.rHi; this.sCarryIn = this.carryIn;
    this.op = LAZY_MUL;
  }

  /** Turn a LAZY_MUL record into plain bits: the kept record's flags, then the multiply's CF and OF. */
  private resolveMul(): void {
    const overflow = this.mulLazy ? (imul64Overflows(this.mxLo, this.mxHi, this.myLo, this.myHi) ? CF | OF : 0) : this.mulOverflow;
    this.op = this.sOp; this.size = this.sSize;
    this.aLo = this.saLo; this.aHi = this.saHi; this.bLo = this.sbLo; this.bHi = this.sbHi;
    this.rLo = this.srLo; this.rHi = this.srHi; this.carryIn = this.sCarryIn;
    this.materialize();
    this.bits = (this.bits & ~(CF | OF)) | overflow;
  }

  /** Set the six arithmetic flags explicitly (multiply, bit tests...). */
  setArith(flags: number): void {
    // All six are replaced, so the recorded operation need not be computed first.
    this.op = LAZY_NONE;
    this.bits = (this.bits & ~ARITH) | (flags & ARITH);
  }

  /**
   * Fold the current CF into `bits` (before recording an inc or dec, which
   * keep CF): only CF is computed, the other five flags come from the new record.
   */
  keepCarry(): void {
    if (this.op === LAZY_MUL) this.resolveMul();
    this.bits = (this.bits & ~CF) | this.cf();
  }

  /** Compute the recorded flags into `bits`. */
  materialize(): void {
    if (this.op === LAZY_NONE) return;
    if (this.op === LAZY_MUL) { this.resolveMul(); return; }
    const cf = this.op === LAZY_INC || this.op === LAZY_DEC ? this.bits & CF : this.cf();
    this.bits = (this.bits & ~ARITH) | cf | this.pf() | this.af() | this.zf() | this.sf() | this.of();
    this.op = LAZY_NONE;
  }

  cf(): number {
    switch (this.op) {
      case LAZY_ADD: {
        // Unsigned overflow: the result is below an input, or equal to it with a carry in.
        const c = cmpU(this.rLo, this.rHi, this.aLo, this.aHi);
        return c < 0 || (c === 0 && this.carryIn !== 0) ? CF : 0;
      }
      case LAZY_SUB: {
        const c = cmpU(this.aLo, this.aHi, this.bLo, this.bHi);
        return c < 0 || (c === 0 && this.carryIn !== 0) ? CF : 0;
      }
      case LAZY_LOGIC: return 0;
      case LAZY_SHIFT: return this.carryIn & CF;
      case LAZY_MUL: this.resolveMul(); return this.bits & CF;
      default: return this.bits & CF;
    }
  }
  zf(): number {
    if (this.op === LAZY_NONE) return this.bits & ZF;
    if (this.op === LAZY_MUL) { this.resolveMul(); return this.bits & ZF; }
    return (this.rLo | this.rHi) === 0 ? ZF : 0;
  }
  sf(): number {
    if (this.op === LAZY_NONE) return this.bits & SF;
    if (this.op === LAZY_MUL) { this.resolveMul(); return this.bits & SF; }
    const top = this.size === 64 ? this.rHi >>> 31 : (this.rLo >>> (this.size - 1)) & 1;
    return top ? SF : 0;
  }
  pf(): number {
    if (this.op === LAZY_NONE) return this.bits & PF;
    if (this.op === LAZY_MUL) { this.resolveMul(); return this.bits & PF; }
    return PARITY[this.rLo & 0xff];
  }
  af(): number {
    switch (this.op) {
      case LAZY_NONE: return this.bits & AF;
      case LAZY_LOGIC: return 0;
      case LAZY_SHIFT: return AF;
      case LAZY_MUL: this.resolveMul(); return this.bits & AF;
      default: return (this.aLo ^ this.bLo ^ this.rLo) & AF; // carry out of bit 3
    }
  }
  of(): number {
    let x: number;
    switch (this.op) {
      case LAZY_NONE: return this.bits & OF;
      case LAZY_LOGIC: return 0;
      case LAZY_SHIFT: return this.carryIn & OF;
      case LAZY_MUL: this.resolveMul(); return this.bits & OF;
      case LAZY_ADD: case LAZY_INC:
        // Signed overflow on add: both inputs have the same sign and the result differs.
        x = this.size === 64 ? (this.aHi ^ this.rHi) & (this.bHi ^ this.rHi) : (this.aLo ^ this.rLo) & (this.bLo ^ this.rLo);
        break;
      default:
        // On subtract: the inputs differ in sign and the result's sign differs from a.
        x = this.size === 64 ? (this.aHi ^ this.bHi) & (this.aHi ^ this.rHi) : (this.aLo ^ this.bLo) & (this.aLo ^ this.rLo);
    }
    const top = this.size === 64 ? x >>> 31 : (x >>> (this.size - 1)) & 1;
    return top ? OF : 0;
  }

  /** The full flags value (RFLAGS low bits). */
  get(): number {
    this.materialize();
    return this.bits;
  }

  /** Evaluate condition code cc (0..15, the low nibble of jcc/setcc/cmovcc). */
  condition(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.of() !== 0; break; // o
      case 1: r = this.cf() !== 0; break; // b
      case 2: r = this.zf() !== 0; break; // e
      case 3: r = this.cf() !== 0 || this.zf() !== 0; break; // be
      case 4: r = this.sf() !== 0; break; // s
      case 5: r = this.pf() !== 0; break; // p
      case 6: r = (this.sf() !== 0) !== (this.of() !== 0); break; // l
      default: r = this.zf() !== 0 || (this.sf() !== 0) !== (this.of() !== 0); // le
    }
    return (cc & 1) === 0 ? r : !r;
  }
}

/**
 * Does the signed product of two 64-bit values (hi:lo halves) overflow 64
 * bits? The 128-bit product's high half (wideMultiply's mulS64, as the
 * one-operand imul computes it) must be the sign extension of its low half.
 */
export function imul64Overflows(xLo: number, xHi: number, yLo: number, yHi: number): boolean {
  mulS64(xLo, xHi, yLo, yHi);
  const extension = (PRODUCT[1] & 0x80000000) ? 0xffffffff : 0;
  return PRODUCT[2] !== extension || PRODUCT[3] !== extension;
}

/** Compare unsigned 64-bit values hi:lo: -1, 0 or 1. */
export function cmpU(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (aHi !== bHi) return aHi < bHi ? -1 : 1;
  if (aLo !== bLo) return aLo < bLo ? -1 : 1;
  return 0;
}

/** Parity flag bit (PF or 0) of a value's low byte. */
export function parityOf(v: number): number {
  return PARITY[v & 0xff];
}
