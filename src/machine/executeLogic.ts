// Logic, shifts and rotates: and or xor test not, shl shr sar rol ror rcl rcr,
// shld shrd.
//
// Shift counts are masked to 5 bits (6 bits for 64-bit operands). A masked
// count of 0 changes no flags. CF is the last bit shifted out. OF is defined
// only for a count of 1; for larger counts the SDM leaves it undefined, and xk
// follows the host CPU the oracle runs on (test/hostOracle): OF describes the
// LAST 1-bit step of the shift, i.e. shl: top(result) XOR CF; shr: 0;
// sar: 0; ror/rcr/shrd: top(result) XOR next-to-top(result); rol/rcl/shld:
// top(result) XOR CF.

import type { Decoded } from '../isa/decode.js';
import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CF, OF, sizeMask, type Flags } from './flags.js';
import { signed, trunc } from './executeArithmetic.js';

// ------------------------------------------------------------------- logic

function logic(kind: 0 | 1 | 2, writeBack: boolean): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const a = cpu.readOp(dst, d);
    const aHi = cpu.hi;
    const b = cpu.readOp(d.operands[1], d);
    const bHi = cpu.hi;
    let r: number, rHi = 0;
    switch (kind) {
      case 0: r = (a & b) >>> 0; if (size === 64) rHi = (aHi & bHi) >>> 0; break;
      case 1: r = (a | b) >>> 0; if (size === 64) rHi = (aHi | bHi) >>> 0; break;
      default: r = (a ^ b) >>> 0; if (size === 64) rHi = (aHi ^ bHi) >>> 0;
    }
    if (writeBack) cpu.writeOp(dst, d, r, rHi, true);
    cpu.flags.setLogic(size, r, rHi);
  };
}

const not: Exec = (cpu, d) => {
  const dst = d.operands[0];
  const size = d.opsize;
  const a = cpu.readOp(dst, d);
  const aHi = cpu.hi;
  if (size === 64) cpu.writeOp(dst, d, ~a >>> 0, ~aHi >>> 0, true);
  else cpu.writeOp(dst, d, trunc(~a, size), 0, true);
};

// ------------------------------------------------------------------ shifts

/** Bit i (0..63) of hi:lo. */
function bit(lo: number, hi: number, i: number): number {
  return i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1;
}

// Flags of shl/shr/sar/shld/shrd with a nonzero count: CF and OF as computed
// by each, SF ZF PF from the result, computed lazily (Flags.setShift). AF,
// undefined in the SDM, is SET: that is what the host CPU the oracle compares
// against (AMD) does for every nonzero count.

const SHL = 0, SHR = 1, SAR = 2;

function shift(kind: number): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const v = cpu.readOp(dst, d);
    const vHi = size === 64 ? cpu.hi : 0;
    const n = cpu.readOp(d.operands[1], d) & (size === 64 ? 63 : 31);
    if (n === 0) {
      // No flags change; a 32-bit register destination is still written (zero-extended).
      cpu.writeOp(dst, d, v, vHi, true);
      return;
    }
    let r: number, rHi = 0, cf: number, of: number;
    if (size === 64) {
      if (kind === SHL) {
        cf = bit(v, vHi, 64 - n);
        if (n < 32) { rHi = ((vHi << n) | (v >>> (32 - n))) >>> 0; r = (v << n) >>> 0; }
        else { rHi = (v << (n - 32)) >>> 0; r = 0; }
        of = (rHi >>> 31) ^ cf;
      } else {
        cf = bit(v, vHi, n - 1);
        if (n < 32) {
          r = ((v >>> n) | (vHi << (32 - n))) >>> 0;
          rHi = kind === SAR ? ((vHi | 0) >> n) >>> 0 : vHi >>> n;
        } else {
          r = kind === SAR ? ((vHi | 0) >> (n - 32)) >>> 0 : vHi >>> (n - 32);
          rHi = kind === SAR ? ((vHi | 0) >> 31) >>> 0 : 0;
        }
        // OF: the sign change of the last 1-bit step; for shr that is the old top bit when the count is 1, else 0.
        of = kind === SAR || n > 1 ? 0 : vHi >>> 31;
      }
    } else {
      const top = size - 1;
      if (kind === SHL) {
        // For 8/16-bit operands the count can exceed the width: every bit is shifted out.
        cf = n <= size ? (v >>> (size - n)) & 1 : 0;
        r = n < 32 ? trunc(v << n, size) : 0;
        of = ((r >>> top) & 1) ^ cf;
      } else if (kind === SHR) {
        cf = (v >>> (n - 1)) & 1;
        r = v >>> n;
        of = n === 1 ? (v >>> top) & 1 : 0;
      } else {
        const sv = signed(v, size);
        cf = (sv >> Math.min(n - 1, 31)) & 1;
        r = trunc(sv >> Math.min(n, 31), size);
        of = 0;
      }
    }
    cpu.writeOp(dst, d, r, rHi, true);
    cpu.flags.setShift(size, r, rHi, (cf ? CF : 0) | (of ? OF : 0));
  };
}

// ----------------------------------------------------------------- rotates

/** Set CF and OF only (rotates leave SF ZF AF PF alone). */
function setCfOf(cpu: Cpu, cf: number, of: number): void {
  const f = cpu.flags;
  f.materialize();
  f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

/** The result of the last rotateBits: [lo, hi]. */
export const ROTATED = new Uint32Array(2);

/** rol/ror of the `size`-bit value vHi:v by a masked count 1..63 (32: 1..31) into ROTATED. */
export function rotateBits(v: number, vHi: number, masked: number, size: number, left: boolean): void {
  if (size === 64) {
    let n = left ? masked : 64 - masked;
    let lo = v, hi = vHi;
    if (n >= 32) { const t = lo; lo = hi; hi = t; n -= 32; }
    if (n > 0) { const t = lo; lo = (lo << n) | (hi >>> (32 - n)); hi = (hi << n) | (t >>> (32 - n)); }
    ROTATED[0] = lo; ROTATED[1] = hi;
    return;
  }
  const n = masked % size;
  const m = sizeMask(size);
  ROTATED[0] = n === 0 ? v : left ? ((v << n) | (v >>> (size - n))) & m : ((v >>> n) | (v << (size - n))) & m;
  ROTATED[1] = 0;
}

/**
 * A rotate's flags from its result r (rHi:r): rol: CF = bit 0, OF = top XOR CF; ror: CF = top,
 * OF = top XOR next-to-top (OF is the SDM's only for a count of 1; see the top of this file).
 */
export function rotateFlags(f: Flags, r: number, rHi: number, size: number, left: boolean): void {
  const topBit = size === 64 ? rHi >>> 31 : (r >>> (size - 1)) & 1;
  const nextBit = size === 64 ? (rHi >>> 30) & 1 : (r >>> (size - 2)) & 1;
  const cf = left ? r & 1 : topBit;
  f.materialize();
  f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | ((left ? topBit ^ cf : topBit ^ nextBit) ? OF : 0);
}

function rotate(left: boolean): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const v = cpu.readOp(dst, d);
    const vHi = size === 64 ? cpu.hi : 0;
    const masked = cpu.readOp(d.operands[1], d) & (size === 64 ? 63 : 31);
    if (masked === 0) { cpu.writeOp(dst, d, v, vHi, true); return; }
    rotateBits(v, vHi, masked, size, left);
    const r = ROTATED[0], rHi = ROTATED[1];
    cpu.writeOp(dst, d, r, rHi, true);
    rotateFlags(cpu.flags, r, rHi, size, left);
  };
}

/** rcl/rcr rotate through CF: a (size+1)-bit rotation, done one bit at a time (rare instructions). */
function rotateCarry(left: boolean): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    let lo = cpu.readOp(dst, d);
    let hi = size === 64 ? cpu.hi : 0;
    const masked = cpu.readOp(d.operands[1], d) & (size === 64 ? 63 : 31);
    if (masked === 0) { cpu.writeOp(dst, d, lo, hi, true); return; }
    const n = size < 32 ? masked % (size + 1) : masked;
    let cf = cpu.flags.cf() ? 1 : 0;
    for (let i = 0; i < n; i++) {
      if (size === 64) {
        if (left) {
          const out = hi >>> 31;
          hi = ((hi << 1) | (lo >>> 31)) >>> 0;
          lo = ((lo << 1) | cf) >>> 0;
          cf = out;
        } else {
          const out = lo & 1;
          lo = ((lo >>> 1) | (hi << 31)) >>> 0;
          hi = ((hi >>> 1) | (cf << 31)) >>> 0;
          cf = out;
        }
      } else if (left) {
        const out = (lo >>> (size - 1)) & 1;
        lo = trunc((lo << 1) | cf, size);
        cf = out;
      } else {
        const out = lo & 1;
        lo = trunc((lo >>> 1) | (cf << (size - 1)), size);
        cf = out;
      }
    }
    const top = size === 64 ? hi >>> 31 : (lo >>> (size - 1)) & 1;
    cpu.writeOp(dst, d, lo, hi, true);
    // OF of the last 1-bit step: rcl: new top XOR new CF; rcr: top XOR next-to-top of the result
    // (for a count of 1 that equals the SDM's old top XOR old CF).
    const next = size === 64 ? (hi >>> 30) & 1 : (lo >>> (size - 2)) & 1;
    setCfOf(cpu, cf, left ? top ^ cf : top ^ next);
  };
}

// --------------------------------------------------------------- shld/shrd

/**
 * shld/shrd dst, src, count. Done with BigInt (rare instructions). For 16-bit
 * operands with a count above 16 the SDM leaves the result undefined; xk
 * shifts the 48-bit value dst:src:src (shld) or src:src:dst (shrd), which
 * gives what the oracle's host CPU (AMD) gives: src rotated by count - 16.
 * The flags of that case are not modelled (the oracle does not generate it).
 */
function doubleShift(left: boolean): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const a = cpu.readOp(dst, d);
    const aHi = size === 64 ? cpu.hi : 0;
    const b = cpu.readOp(d.operands[1], d);
    const bHi = size === 64 ? cpu.hi : 0;
    const n = cpu.readOp(d.operands[2], d) & (size === 64 ? 63 : 31);
    if (n === 0) { cpu.writeOp(dst, d, a, aHi, true); return; }
    const s = BigInt(size);
    const mask = (1n << s) - 1n;
    const A = (BigInt(aHi) << 32n) | BigInt(a);
    const B = (BigInt(bHi) << 32n) | BigInt(b);
    const bn = BigInt(n);
    let R: bigint, cf: bigint;
    if (left) {
      const V = size === 16 ? (A << 32n) | (B << 16n) | B : (A << s) | B;
      const W = size === 16 ? 48n : 2n * s;
      R = ((V << bn) >> (W - s)) & mask;
      cf = (V >> (W - bn)) & 1n;
    } else {
      const V = size === 16 ? (B << 32n) | (B << 16n) | A : (B << s) | A;
      R = (V >> bn) & mask;
      cf = (V >> (bn - 1n)) & 1n;
    }
    const r = Number(R & 0xffffffffn) >>> 0;
    const rHi = Number(R >> 32n) >>> 0;
    const top = size === 64 ? rHi >>> 31 : (r >>> (size - 1)) & 1;
    const next = size === 64 ? (rHi >>> 30) & 1 : (r >>> (size - 2)) & 1;
    const of = left ? top ^ Number(cf) : top ^ next;
    cpu.writeOp(dst, d, r, rHi, true);
    cpu.flags.setShift(size, r, rHi, (cf ? CF : 0) | (of ? OF : 0));
  };
}

export const LOGIC_HANDLERS: [string, Exec][] = [
  ['and', logic(0, true)],
  ['or', logic(1, true)],
  ['xor', logic(2, true)],
  ['test', logic(0, false)],
  ['not', not],
  ['shl', shift(SHL)], ['sal', shift(SHL)], ['shr', shift(SHR)], ['sar', shift(SAR)],
  ['rol', rotate(true)], ['ror', rotate(false)],
  ['rcl', rotateCarry(true)], ['rcr', rotateCarry(false)],
  ['shld', doubleShift(true)], ['shrd', doubleShift(false)],
];
