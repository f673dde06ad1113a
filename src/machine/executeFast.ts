// Specialized execute functions for the most frequent instruction shapes.
//
// The handlers in the other execute*.ts files are written once per mnemonic
// and look at their operands (register? memory? immediate? which size?) every
// time they run. When an instruction is decoded, decodeCache.ts asks
// specialize() for a version with those choices already made — "add %rcx,
// %rax" becomes a function that adds two known registers — and falls back to
// the general handler otherwise. Results are identical by construction, and
// the host-CPU oracle runs through this path too.

import type { Decoded, DecodedOperand } from '../isa/decode.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, GP } from './exceptions.js';
import { CF, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_SUB, OF, ZF } from './flags.js';

function nonCanonical(): CpuFault {
  return new CpuFault(GP, 0, 'non-canonical branch target');
}

const TWO_32 = 0x100000000;

type AluKind = 'add' | 'sub' | 'cmp' | 'and' | 'or' | 'xor' | 'test';
const ALU = new Set<string>(['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test']);

function isReg(o: DecodedOperand | undefined): o is Extract<DecodedOperand, { type: 'reg' }> {
  return o !== undefined && o.type === 'reg' && !o.high8;
}

// One function literal per operation (not one closure with a switch on the
// operation): each then gets its own small, monomorphic compiled code.

/** reg64 op= reg64 or imm (the source's halves read from registers j, j+1 or taken from the immediate). */
function alu64(kind: AluKind, dst: number, src: number, immLo: number, immHi: number, useImm: boolean): Exec {
  const i = 2 * dst, j = 2 * src;
  if (useImm) {
    const b = immLo, bHi = immHi;
    switch (kind) {
      case 'add': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1]; const s = a + b; const lo = s >>> 0; const hi = (aHi + bHi + (s > 0xffffffff ? 1 : 0)) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.set(LAZY_ADD, 64, a, aHi, b, bHi, lo, hi, 0); };
      case 'sub': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1]; const s = a - b; const lo = s >>> 0; const hi = (aHi - bHi - (s < 0 ? 1 : 0)) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.set(LAZY_SUB, 64, a, aHi, b, bHi, lo, hi, 0); };
      case 'cmp': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1]; const s = a - b; cpu.flags.set(LAZY_SUB, 64, a, aHi, b, bHi, s >>> 0, (aHi - bHi - (s < 0 ? 1 : 0)) >>> 0, 0); };
      case 'and': return (cpu) => { const r = cpu.regs; const lo = (r[i] & b) >>> 0, hi = (r[i + 1] & bHi) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
      case 'test': return (cpu) => { const r = cpu.regs; cpu.flags.setLogic(64, (r[i] & b) >>> 0, (r[i + 1] & bHi) >>> 0); };
      case 'or': return (cpu) => { const r = cpu.regs; const lo = (r[i] | b) >>> 0, hi = (r[i + 1] | bHi) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
      default: return (cpu) => { const r = cpu.regs; const lo = (r[i] ^ b) >>> 0, hi = (r[i + 1] ^ bHi) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
    }
  }
  switch (kind) {
    case 'add': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1], b = r[j], bHi = r[j + 1]; const s = a + b; const lo = s >>> 0; const hi = (aHi + bHi + (s > 0xffffffff ? 1 : 0)) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.set(LAZY_ADD, 64, a, aHi, b, bHi, lo, hi, 0); };
    case 'sub': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1], b = r[j], bHi = r[j + 1]; const s = a - b; const lo = s >>> 0; const hi = (aHi - bHi - (s < 0 ? 1 : 0)) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.set(LAZY_SUB, 64, a, aHi, b, bHi, lo, hi, 0); };
    case 'cmp': return (cpu) => { const r = cpu.regs; const a = r[i], aHi = r[i + 1], b = r[j], bHi = r[j + 1]; const s = a - b; cpu.flags.set(LAZY_SUB, 64, a, aHi, b, bHi, s >>> 0, (aHi - bHi - (s < 0 ? 1 : 0)) >>> 0, 0); };
    case 'and': return (cpu) => { const r = cpu.regs; const lo = (r[i] & r[j]) >>> 0, hi = (r[i + 1] & r[j + 1]) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
    case 'test': return (cpu) => { const r = cpu.regs; cpu.flags.setLogic(64, (r[i] & r[j]) >>> 0, (r[i + 1] & r[j + 1]) >>> 0); };
    case 'or': return (cpu) => { const r = cpu.regs; const lo = (r[i] | r[j]) >>> 0, hi = (r[i + 1] | r[j + 1]) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
    default: return (cpu) => { const r = cpu.regs; const lo = (r[i] ^ r[j]) >>> 0, hi = (r[i + 1] ^ r[j + 1]) >>> 0; r[i] = lo; r[i + 1] = hi; cpu.flags.setLogic(64, lo, hi); };
  }
}

/** reg32 op= reg32 or imm; a written destination's upper half is zeroed. */
function alu32(kind: AluKind, dst: number, src: number, imm: number, useImm: boolean): Exec {
  const i = 2 * dst, j = 2 * src;
  if (useImm) {
    const b = imm;
    switch (kind) {
      case 'add': return (cpu) => { const r = cpu.regs; const a = r[i]; const v = (a + b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.set(LAZY_ADD, 32, a, 0, b, 0, v, 0, 0); };
      case 'sub': return (cpu) => { const r = cpu.regs; const a = r[i]; const v = (a - b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.set(LAZY_SUB, 32, a, 0, b, 0, v, 0, 0); };
      case 'cmp': return (cpu) => { const a = cpu.regs[i]; cpu.flags.set(LAZY_SUB, 32, a, 0, b, 0, (a - b) >>> 0, 0, 0); };
      case 'and': return (cpu) => { const r = cpu.regs; const v = (r[i] & b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
      case 'test': return (cpu) => { cpu.flags.setLogic(32, (cpu.regs[i] & b) >>> 0, 0); };
      case 'or': return (cpu) => { const r = cpu.regs; const v = (r[i] | b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
      default: return (cpu) => { const r = cpu.regs; const v = (r[i] ^ b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
    }
  }
  switch (kind) {
    case 'add': return (cpu) => { const r = cpu.regs; const a = r[i], b = r[j]; const v = (a + b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.set(LAZY_ADD, 32, a, 0, b, 0, v, 0, 0); };
    case 'sub': return (cpu) => { const r = cpu.regs; const a = r[i], b = r[j]; const v = (a - b) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.set(LAZY_SUB, 32, a, 0, b, 0, v, 0, 0); };
    case 'cmp': return (cpu) => { const r = cpu.regs; const a = r[i], b = r[j]; cpu.flags.set(LAZY_SUB, 32, a, 0, b, 0, (a - b) >>> 0, 0, 0); };
    case 'and': return (cpu) => { const r = cpu.regs; const v = (r[i] & r[j]) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
    case 'test': return (cpu) => { const r = cpu.regs; cpu.flags.setLogic(32, (r[i] & r[j]) >>> 0, 0); };
    case 'or': return (cpu) => { const r = cpu.regs; const v = (r[i] | r[j]) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
    default: return (cpu) => { const r = cpu.regs; const v = (r[i] ^ r[j]) >>> 0; r[i] = v; r[i + 1] = 0; cpu.flags.setLogic(32, v, 0); };
  }
}

function incDec(dst: number, size: 32 | 64, dec: boolean): Exec {
  const i = 2 * dst;
  return (cpu) => {
    const r = cpu.regs;
    const a = r[i], aHi = size === 64 ? r[i + 1] : 0;
    const s = dec ? a - 1 : a + 1;
    const lo = s >>> 0;
    const hi = size === 64 ? (aHi + Math.floor(s / TWO_32)) >>> 0 : 0;
    r[i] = lo; r[i + 1] = hi;
    cpu.flags.keepCarry();
    cpu.flags.set(dec ? LAZY_DEC : LAZY_INC, size, a, aHi, 1, 0, lo, hi, 0);
  };
}

const SHL = 0, SHR = 1, SAR = 2;

/** shl/shr/sar of a 32-bit register by a constant count (already masked, nonzero). Same results as executeLogic's shift(). */
function shift32(kind: number, dst: number, n: number): Exec {
  const i = 2 * dst;
  return (cpu) => {
    const regs = cpu.regs;
    const v = regs[i];
    let r: number, cf: number, of: number;
    if (kind === SHL) { cf = (v >>> (32 - n)) & 1; r = (v << n) >>> 0; of = (r >>> 31) ^ cf; }
    else if (kind === SHR) { cf = (v >>> (n - 1)) & 1; r = v >>> n; of = n === 1 ? v >>> 31 : 0; }
    else { cf = ((v | 0) >> (n - 1)) & 1; r = ((v | 0) >> n) >>> 0; of = 0; }
    regs[i] = r; regs[i + 1] = 0;
    cpu.flags.setShift(32, r, 0, (cf ? CF : 0) | (of ? OF : 0));
  };
}

/** The same for a 64-bit register (hi:lo halves). */
function shift64(kind: number, dst: number, n: number): Exec {
  const i = 2 * dst;
  return (cpu) => {
    const regs = cpu.regs;
    const v = regs[i], vHi = regs[i + 1];
    let r: number, rHi: number, cf: number, of: number;
    if (kind === SHL) {
      const k = 64 - n; // the last bit shifted out
      cf = k < 32 ? (v >>> k) & 1 : (vHi >>> (k - 32)) & 1;
      if (n < 32) { rHi = ((vHi << n) | (v >>> (32 - n))) >>> 0; r = (v << n) >>> 0; }
      else { rHi = (v << (n - 32)) >>> 0; r = 0; }
      of = (rHi >>> 31) ^ cf;
    } else {
      const k = n - 1;
      cf = k < 32 ? (v >>> k) & 1 : (vHi >>> (k - 32)) & 1;
      if (n < 32) {
        r = ((v >>> n) | (vHi << (32 - n))) >>> 0;
        rHi = kind === SAR ? ((vHi | 0) >> n) >>> 0 : vHi >>> n;
      } else {
        r = kind === SAR ? ((vHi | 0) >> (n - 32)) >>> 0 : vHi >>> (n - 32);
        rHi = kind === SAR ? ((vHi | 0) >> 31) >>> 0 : 0;
      }
      of = kind === SAR || n > 1 ? 0 : vHi >>> 31;
    }
    regs[i] = r; regs[i + 1] = rHi;
    cpu.flags.setShift(64, r, rHi, (cf ? CF : 0) | (of ? OF : 0));
  };
}

const LIMIT = 2 ** 47;

/** A specialized execute function for `d`, or null to use the general handler. */
export function specialize(d: Decoded): Exec | null {
  const form = d.form;
  if (form === null) return null;
  const m = form.mnemonic;
  const size = d.opsize;
  const ops = d.operands;
  const [x, y] = ops;

  // Conditional branches: the condition and displacement are fixed.
  if (form.family === 'jcc' && x?.type === 'rel') {
    const cc = form.cc, disp = x.disp;
    if (cc === 4 || cc === 5) {
      // je/jne, the most frequent: only ZF is needed.
      const taken = cc === 4 ? ZF : 0;
      return (cpu) => {
        if (cpu.flags.zf() === taken) {
          const t = cpu.rip + disp;
          if (t < -LIMIT || t >= LIMIT) throw nonCanonical();
          cpu.rip = t;
        }
      };
    }
    return (cpu) => {
      if (cpu.flags.condition(cc)) {
        const t = cpu.rip + disp;
        if (t < -LIMIT || t >= LIMIT) throw nonCanonical();
        cpu.rip = t;
      }
    };
  }
  // push/pop of a 64-bit register.
  if ((m === 'push' || m === 'pop') && size === 64 && isReg(x)) {
    const i = 2 * x.reg;
    if (m === 'push') return (cpu) => { const r = cpu.regs; cpu.push(64, r[i], r[i + 1]); };
    return (cpu) => { const lo = cpu.pop(64); const r = cpu.regs; r[i] = lo; r[i + 1] = cpu.hi; };
  }
  if (size !== 32 && size !== 64) return null;

  if (ALU.has(m) && ops.length === 2 && isReg(x)) {
    if (isReg(y)) return size === 64 ? alu64(m as AluKind, x.reg, y.reg, 0, 0, false) : alu32(m as AluKind, x.reg, y.reg, 0, false);
    if (y.type === 'imm') return size === 64 ? alu64(m as AluKind, x.reg, 0, y.lo, y.hi, true) : alu32(m as AluKind, x.reg, 0, y.lo, true);
    return null;
  }
  if (m === 'mov' && ops.length === 2) {
    if (isReg(x) && isReg(y)) {
      const i = 2 * x.reg, j = 2 * y.reg;
      return size === 64 ? (cpu) => { const r = cpu.regs; r[i] = r[j]; r[i + 1] = r[j + 1]; } : (cpu) => { const r = cpu.regs; r[i] = r[j]; r[i + 1] = 0; };
    }
    if (isReg(x) && y.type === 'imm') {
      const i = 2 * x.reg, lo = y.lo, hi = size === 64 ? y.hi : 0;
      return (cpu) => { const r = cpu.regs; r[i] = lo; r[i + 1] = hi; };
    }
    if (isReg(x) && y.type === 'mem') {
      const i = 2 * x.reg;
      return size === 64
        ? (cpu, dd) => { const v = cpu.readMem(cpu.ea(y, dd), 64); const r = cpu.regs; r[i] = v; r[i + 1] = cpu.hi; }
        : (cpu, dd) => { const v = cpu.readMem(cpu.ea(y, dd), 32); const r = cpu.regs; r[i] = v; r[i + 1] = 0; };
    }
    if (x.type === 'mem' && isReg(y)) {
      const j = 2 * y.reg;
      return (cpu, dd) => { const r = cpu.regs; cpu.writeMem(cpu.ea(x, dd), size, r[j], r[j + 1]); };
    }
    return null;
  }
  if ((m === 'inc' || m === 'dec') && isReg(x)) return incDec(x.reg, size, m === 'dec');
  // Shifts of a register by an immediate count.
  if ((m === 'shl' || m === 'sal' || m === 'shr' || m === 'sar') && ops.length === 2 && isReg(x) && y.type === 'imm') {
    const kind = m === 'shr' ? SHR : m === 'sar' ? SAR : SHL;
    const n = y.lo & (size === 64 ? 63 : 31);
    const i = 2 * x.reg;
    // A zero count changes no flags; a 32-bit register is still zero-extended.
    if (n === 0) return size === 64 ? () => {} : (cpu) => { cpu.regs[i + 1] = 0; };
    return size === 64 ? shift64(kind, x.reg, n) : shift32(kind, x.reg, n);
  }
  // lea into a 32- or 64-bit register (no memory access, no segment, no canonical check).
  if (m === 'lea' && isReg(x) && y?.type === 'mem') {
    const i = 2 * x.reg, a32 = d.prefixes.addrsize32;
    return size === 64
      ? (cpu) => { cpu.eaRaw(y, a32); const r = cpu.regs; r[i] = cpu.eaLo; r[i + 1] = cpu.eaHi; }
      : (cpu) => { cpu.eaRaw(y, a32); const r = cpu.regs; r[i] = cpu.eaLo; r[i + 1] = 0; };
  }
  // movsxd r64, r32 and movzx r32/r64 from memory.
  if (m === 'movsxd' && size === 64 && isReg(x) && isReg(y) && y.size === 32) {
    const i = 2 * x.reg, j = 2 * y.reg;
    return (cpu) => { const r = cpu.regs; const v = r[j]; r[i] = v; r[i + 1] = (v & 0x80000000) !== 0 ? 0xffffffff : 0; };
  }
  if (m === 'movzx' && isReg(x) && y?.type === 'mem') {
    const i = 2 * x.reg, srcSize = y.size;
    return (cpu, dd) => { const v = cpu.readMem(cpu.ea(y, dd), srcSize); const r = cpu.regs; r[i] = v; r[i + 1] = 0; };
  }
  return null;
}
