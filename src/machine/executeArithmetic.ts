// Integer arithmetic: add adc sub sbb cmp inc dec neg, mul imul div idiv,
// the sign-extending converts (cbw cwde cdqe cwd cdq cqo), xadd, cmpxchg.
//
// Operand values are unsigned numbers masked to the operand size; 64-bit
// values are (lo, hi) uint32 pairs. Flags are recorded lazily (flags.ts).

import type { Decoded } from '../isa/decode.js';
import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, DE } from './exceptions.js';
import { DIVISION, div32, div64, idiv32, idiv64 } from './wideDivide.js';
import { PRODUCT, mulLow64, mulS32, mulS64, mulU32, mulU64 } from './wideMultiply.js';
import { AF, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_SUB, PF, SF, ZF, sizeMask, type Flags } from './flags.js';

const TWO_32 = 0x100000000;

/** Mask v to `size` bits (8, 16 or 32) as an unsigned number. */
export function trunc(v: number, size: number): number {
  return size === 32 ? v >>> 0 : v & sizeMask(size);
}

/** Sign-extend an unsigned `size`-bit value (8, 16, 32) to a signed JS number. */
export function signed(v: number, size: number): number {
  return size === 32 ? v | 0 : size === 16 ? (v << 16) >> 16 : (v << 24) >> 24;
}

// ---------------------------------------------------------------- add / sub

function addSub(subtract: boolean, withCarry: boolean, writeBack: boolean): Exec {
  const op = subtract ? LAZY_SUB : LAZY_ADD;
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0], src = d.operands[1];
    const size = d.opsize;
    const a = cpu.readOp(dst, d);
    const aHi = size === 64 ? cpu.hi : 0;
    const b = cpu.readOp(src, d);
    const bHi = size === 64 ? cpu.hi : 0;
    const cin = withCarry && cpu.flags.cf() !== 0 ? 1 : 0;
    let r: number, rHi = 0;
    if (size === 64) {
      const s = subtract ? a - b - cin : a + b + cin;
      r = s >>> 0;
      rHi = (subtract ? aHi - bHi + Math.floor(s / TWO_32) : aHi + bHi + Math.floor(s / TWO_32)) >>> 0;
    } else {
      r = trunc(subtract ? a - b - cin : a + b + cin, size);
    }
    if (writeBack) cpu.writeOp(dst, d, r, rHi, true);
    cpu.flags.set(op, size, a, aHi, b, bHi, r, rHi, cin);
  };
}

function incDec(dec: boolean): Exec {
  return (cpu, d) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const a = cpu.readOp(dst, d);
    let r: number, rHi = 0, aHi = 0;
    if (size === 64) {
      aHi = cpu.hi;
      const s = dec ? a - 1 : a + 1;
      r = s >>> 0;
      rHi = (aHi + Math.floor(s / TWO_32)) >>> 0;
    } else {
      r = trunc(dec ? a - 1 : a + 1, size);
    }
    cpu.writeOp(dst, d, r, rHi, true);
    // inc and dec leave CF alone: fold the current CF into bits first.
    cpu.flags.keepCarry();
    cpu.flags.set(dec ? LAZY_DEC : LAZY_INC, size, a, aHi, 1, 0, r, rHi, 0);
  };
}

const neg: Exec = (cpu, d) => {
  const dst = d.operands[0];
  const size = d.opsize;
  const b = cpu.readOp(dst, d);
  let r: number, rHi = 0, bHi = 0;
  if (size === 64) {
    bHi = cpu.hi;
    const s = -b;
    r = s >>> 0;
    rHi = (-bHi + Math.floor(s / TWO_32)) >>> 0;
  } else {
    r = trunc(-b, size);
  }
  cpu.writeOp(dst, d, r, rHi, true);
  cpu.flags.set(LAZY_SUB, size, 0, 0, b, bHi, r, rHi, 0);
};

// ------------------------------------------------------------ multiplication

/**
 * Flags after a multiply: CF = OF = `overflow`. The SDM leaves SF ZF AF PF
 * undefined; xk leaves them unchanged, as the host CPU of the oracle (AMD)
 * does (test/hostOracle). Flags.setMul keeps the previous record lazily.
 */
function mulFlags(cpu: Cpu, overflow: boolean): void {
  cpu.flags.setMul(overflow);
}

const mul: Exec = (cpu, d) => {
  const size = d.opsize;
  const s = cpu.readOp(d.operands[0], d);
  const regs = cpu.regs;
  switch (size) {
    case 8: {
      const r = (regs[0] & 0xff) * s;
      cpu.setReg(0, 16, false, r, 0);
      mulFlags(cpu, r > 0xff);
      return;
    }
    case 16: {
      const r = (regs[0] & 0xffff) * s;
      cpu.setReg(0, 16, false, r & 0xffff, 0);
      cpu.setReg(2, 16, false, r >>> 16, 0);
      mulFlags(cpu, r > 0xffff);
      return;
    }
    case 32: {
      mulU32(regs[0], s);
      const lo = PRODUCT[0], hi = PRODUCT[1];
      cpu.setReg(0, 32, false, lo, 0);
      cpu.setReg(2, 32, false, hi, 0);
      mulFlags(cpu, hi !== 0);
      return;
    }
    default: {
      mulU64(regs[0], regs[1], s, cpu.hi);
      const a = PRODUCT[0], b = PRODUCT[1], c = PRODUCT[2], e = PRODUCT[3];
      cpu.setReg(0, 64, false, a, b);
      cpu.setReg(2, 64, false, c, e);
      mulFlags(cpu, (c | e) !== 0);
    }
  }
};

/** imul with one operand: rDX:rAX = rAX * src, signed. */
const imul1: Exec = (cpu, d) => {
  const size = d.opsize;
  const s = cpu.readOp(d.operands[0], d);
  const regs = cpu.regs;
  switch (size) {
    case 8: {
      const r = signed(regs[0] & 0xff, 8) * signed(s, 8);
      cpu.setReg(0, 16, false, r & 0xffff, 0);
      mulFlags(cpu, r !== signed(r & 0xff, 8));
      return;
    }
    case 16: {
      const r = signed(regs[0] & 0xffff, 16) * signed(s, 16);
      cpu.setReg(0, 16, false, r & 0xffff, 0);
      cpu.setReg(2, 16, false, (r >> 16) & 0xffff, 0);
      mulFlags(cpu, r !== signed(r & 0xffff, 16));
      return;
    }
    case 32: {
      mulS32(regs[0], s);
      const lo = PRODUCT[0], hi = PRODUCT[1];
      cpu.setReg(0, 32, false, lo, 0);
      cpu.setReg(2, 32, false, hi, 0);
      mulFlags(cpu, hi !== ((lo & 0x80000000) ? 0xffffffff : 0));
      return;
    }
    default: {
      mulS64(regs[0], regs[1], s, cpu.hi);
      const a = PRODUCT[0], b = PRODUCT[1], c = PRODUCT[2], e = PRODUCT[3];
      const ext = (b & 0x80000000) ? 0xffffffff : 0;
      cpu.setReg(0, 64, false, a, b);
      cpu.setReg(2, 64, false, c, e);
      mulFlags(cpu, c !== ext || e !== ext);
    }
  }
};

/** imul with two or three operands: dst = src1 * src2 truncated to the operand size, signed overflow in CF/OF. */
const imulN: Exec = (cpu, d) => {
  const ops = d.operands;
  const size = d.opsize;
  const three = ops.length === 3;
  const x = cpu.readOp(three ? ops[1] : ops[0], d);
  const xHi = cpu.hi;
  const y = cpu.readOp(three ? ops[2] : ops[1], d);
  const yHi = cpu.hi;
  if (size === 64) {
    // Only the low 64 bits are kept: lo*lo in full plus the two cross products'
    // low halves. Whether the full product overflows (CF, OF) is worked out
    // only if a later instruction reads those flags (Flags.setImul64).
    mulLow64(x, xHi, y, yHi);
    cpu.setReg((ops[0] as { reg: number }).reg, 64, false, PRODUCT[0], PRODUCT[1]);
    cpu.flags.setImul64(x, xHi, y, yHi);
    return;
  }
  let lo: number, overflow: boolean;
  if (size === 32) {
    lo = Math.imul(x, y) >>> 0;
    // The double product is exact whenever it fits in 32 bits, so this comparison decides overflow.
    overflow = (x | 0) * (y | 0) !== (lo | 0);
  } else {
    const r = signed(x, 16) * signed(y, 16);
    lo = r & 0xffff;
    overflow = r !== signed(lo, 16);
  }
  cpu.setReg((ops[0] as { reg: number }).reg, size, false, lo, 0);
  mulFlags(cpu, overflow);
};

const imul: Exec = (cpu, d) => (d.operands.length === 1 ? imul1(cpu, d) : imulN(cpu, d));

// ------------------------------------------------------------------ division

/** The #DE of div and idiv (the JIT's translations raise the same). */
export function divideError(): CpuFault {
  return new CpuFault(DE, undefined, 'divide error');
}


/**
 * Flags after div/idiv, all undefined in the SDM. xk does what the oracle's
 * host CPU (AMD) does: CF and OF unchanged, AF set, SF ZF PF cleared.
 */
export function divideFlags(f: Flags): void {
  f.materialize();
  f.bits = (f.bits & ~(SF | ZF | PF)) | AF;
}

/**
 * div: unsigned rDX:rAX / src -> quotient in rAX, remainder in rDX.
 * #DE when src = 0 or the quotient does not fit.
 */
const divide: Exec = (cpu, d) => {
  const size = d.opsize;
  const s = cpu.readOp(d.operands[0], d);
  const sHi = size === 64 ? cpu.hi : 0;
  const regs = cpu.regs;
  if (s === 0 && sHi === 0) throw divideError();
  switch (size) {
    case 8: {
      const n = regs[0] & 0xffff;
      const q = Math.floor(n / s);
      if (q > 0xff) throw divideError();
      cpu.setReg(0, 16, false, ((n % s) << 8) | q, 0);
      return;
    }
    case 16: {
      const n = (regs[4] & 0xffff) * 65536 + (regs[0] & 0xffff);
      const q = Math.floor(n / s);
      if (q > 0xffff) throw divideError();
      cpu.setReg(0, 16, false, q, 0);
      cpu.setReg(2, 16, false, n % s, 0);
      return;
    }
    case 32:
      if (!div32(regs[0], regs[4], s)) throw divideError();
      cpu.setReg(0, 32, false, DIVISION[0], 0);
      cpu.setReg(2, 32, false, DIVISION[2], 0);
      return;
    default:
      if (!div64(regs[0], regs[1], regs[4], regs[5], s, sHi)) throw divideError();
      cpu.setReg(0, 64, false, DIVISION[0], DIVISION[1]);
      cpu.setReg(2, 64, false, DIVISION[2], DIVISION[3]);
  }
};

/** idiv: signed division, quotient truncated toward zero, remainder with the dividend's sign. */
const signedDivide: Exec = (cpu, d) => {
  const size = d.opsize;
  const s = cpu.readOp(d.operands[0], d);
  const sHi = size === 64 ? cpu.hi : 0;
  const regs = cpu.regs;
  if (s === 0 && sHi === 0) throw divideError();
  switch (size) {
    case 8: {
      const n = signed(regs[0] & 0xffff, 16), v = signed(s, 8);
      const q = Math.trunc(n / v);
      if (q > 127 || q < -128) throw divideError();
      cpu.setReg(0, 16, false, (((n - q * v) & 0xff) << 8) | (q & 0xff), 0);
      return;
    }
    case 16: {
      const n = ((regs[4] & 0xffff) << 16) | (regs[0] & 0xffff), v = signed(s, 16);
      const q = Math.trunc(n / v);
      if (q > 0x7fff || q < -0x8000) throw divideError();
      cpu.setReg(0, 16, false, q & 0xffff, 0);
      cpu.setReg(2, 16, false, (n - q * v) & 0xffff, 0);
      return;
    }
    case 32:
      if (!idiv32(regs[0], regs[4], s)) throw divideError();
      cpu.setReg(0, 32, false, DIVISION[0], 0);
      cpu.setReg(2, 32, false, DIVISION[2], 0);
      return;
    default:
      if (!idiv64(regs[0], regs[1], regs[4], regs[5], s, sHi)) throw divideError();
      cpu.setReg(0, 64, false, DIVISION[0], DIVISION[1]);
      cpu.setReg(2, 64, false, DIVISION[2], DIVISION[3]);
  }
};

const div: Exec = (cpu, d) => { divide(cpu, d); divideFlags(cpu.flags); };
const idiv: Exec = (cpu, d) => { signedDivide(cpu, d); divideFlags(cpu.flags); };

// ----------------------------------------------------------------- converts

const cbw: Exec = (cpu) => cpu.setReg(0, 16, false, signed(cpu.regs[0] & 0xff, 8) & 0xffff, 0);
const cwde: Exec = (cpu) => cpu.setReg(0, 32, false, signed(cpu.regs[0] & 0xffff, 16) >>> 0, 0);
const cdqe: Exec = (cpu) => cpu.setReg(0, 64, false, cpu.regs[0], (cpu.regs[0] & 0x80000000) ? 0xffffffff : 0);
const cwd: Exec = (cpu) => cpu.setReg(2, 16, false, (cpu.regs[0] & 0x8000) ? 0xffff : 0, 0);
const cdq: Exec = (cpu) => cpu.setReg(2, 32, false, (cpu.regs[0] & 0x80000000) ? 0xffffffff : 0, 0);
const cqo: Exec = (cpu) => {
  const v = (cpu.regs[1] & 0x80000000) ? 0xffffffff : 0;
  cpu.setReg(2, 64, false, v, v);
};

// -------------------------------------------------------- exchange and add

/** xadd dst, src: dst = dst + src, src = old dst (memory is written first, so a fault changes nothing). */
const xadd: Exec = (cpu, d) => {
  const dst = d.operands[0], src = d.operands[1];
  const size = d.opsize;
  const a = cpu.readOp(dst, d);
  const aHi = size === 64 ? cpu.hi : 0;
  const b = cpu.readOp(src, d);
  const bHi = size === 64 ? cpu.hi : 0;
  let r: number, rHi = 0;
  if (size === 64) {
    const s = a + b;
    r = s >>> 0;
    rHi = (aHi + bHi + Math.floor(s / TWO_32)) >>> 0;
  } else r = trunc(a + b, size);
  if (dst.type === 'mem') {
    cpu.writeOp(dst, d, r, rHi, true);
    cpu.writeOp(src, d, a, aHi, false);
  } else {
    // Register form: the destination is written last (xadd %eax,%eax doubles eax).
    cpu.writeOp(src, d, a, aHi, false);
    cpu.writeOp(dst, d, r, rHi, false);
  }
  cpu.flags.set(LAZY_ADD, size, a, aHi, b, bHi, r, rHi, 0);
};

/**
 * cmpxchg dst, src: compare the accumulator with dst; equal: dst = src (ZF=1);
 * else the accumulator = dst (ZF=0). A memory destination is always written
 * (with its old value when unequal), as the processor does.
 */
const cmpxchg: Exec = (cpu, d) => {
  const dst = d.operands[0], src = d.operands[1];
  const size = d.opsize;
  const acc = cpu.getReg(0, size, false);
  const accHi = size === 64 ? cpu.hi : 0;
  const v = cpu.readOp(dst, d);
  const vHi = size === 64 ? cpu.hi : 0;
  let r: number, rHi = 0;
  if (size === 64) {
    const s = acc - v;
    r = s >>> 0;
    rHi = (accHi - vHi + Math.floor(s / TWO_32)) >>> 0;
  } else r = trunc(acc - v, size);
  if (acc === v && accHi === vHi) {
    const n = cpu.readOp(src, d);
    cpu.writeOp(dst, d, n, size === 64 ? cpu.hi : 0, true);
  } else {
    if (dst.type === 'mem') cpu.writeOp(dst, d, v, vHi, true);
    cpu.setReg(0, size, false, v, vHi);
  }
  cpu.flags.set(LAZY_SUB, size, acc, accHi, v, vHi, r, rHi, 0);
};


export const ARITHMETIC_HANDLERS: [string, Exec][] = [
  ['add', addSub(false, false, true)],
  ['adc', addSub(false, true, true)],
  ['sub', addSub(true, false, true)],
  ['sbb', addSub(true, true, true)],
  ['cmp', addSub(true, false, false)],
  ['inc', incDec(false)],
  ['dec', incDec(true)],
  ['neg', neg],
  ['mul', mul],
  ['imul', imul],
  ['div', div],
  ['idiv', idiv],
  ['cbw', cbw], ['cwde', cwde], ['cdqe', cdqe],
  ['cwd', cwd], ['cdq', cdq], ['cqo', cqo],
  ['xadd', xadd],
  ['cmpxchg', cmpxchg],
];
