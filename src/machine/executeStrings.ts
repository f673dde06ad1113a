// String instructions: movs stos lods cmps scas, with REP / REPE / REPNE.
//
// RSI is the source (DS, or an fs/gs override), RDI the destination (ES,
// base 0 in 64-bit mode), RCX the count; DF chooses the direction. A repeated
// instruction is interruptible on real hardware: it can stop between
// elements with RSI/RDI/RCX describing the progress and RIP still pointing at
// it. xk does the same after a fault, and also every CHUNK elements so that a
// huge count does not stall interrupt delivery. While debugging
// (debugExceptions.ts) it stops after each iteration when single-stepping, and
// after an iteration that fired a data breakpoint, so the trap reports the
// iterations done so far (RIP at the instruction, RF set in the saved RFLAGS).

import type { Decoded } from '../isa/decode.js';
import { isCanonical, toSignedLinear } from './address.js';
import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, GP } from './exceptions.js';
import { LAZY_SUB } from './flags.js';
import { trunc } from './executeArithmetic.js';

const TWO_32 = 0x100000000;
const CHUNK = 65536;
const RCX = 1, RSI = 6, RDI = 7;

const MOVS = 0, STOS = 1, LODS = 2, CMPS = 3, SCAS = 4;

/** Linear address held in register r (only the low 32 bits with a 67 prefix), plus a segment base. */
function regAddress(cpu: Cpu, r: number, a32: boolean, segBase: number): number {
  const a = linearOrNaN(cpu, r, a32, segBase);
  if (Number.isNaN(a)) throw new CpuFault(GP, 0, 'non-canonical string address');
  return a;
}

/** The register's linear address plus a segment base, or NaN if it is not canonical (regAddress without the fault). */
function linearOrNaN(cpu: Cpu, r: number, a32: boolean, segBase: number): number {
  let lo = cpu.regs[2 * r], hi = a32 ? 0 : cpu.regs[2 * r + 1];
  if (segBase !== 0) {
    const s = lo + (segBase >>> 0);
    lo = s >>> 0;
    hi = (hi + Math.floor(segBase / TWO_32) + Math.floor(s / TWO_32)) >>> 0;
  }
  return isCanonical(lo, hi) ? toSignedLinear(lo, hi) : NaN;
}

function advance(cpu: Cpu, r: number, a32: boolean, delta: number): void {
  const regs = cpu.regs;
  const s = regs[2 * r] + delta;
  regs[2 * r] = s >>> 0;
  if (a32) regs[2 * r + 1] = 0;
  else regs[2 * r + 1] = (regs[2 * r + 1] + Math.floor(s / TWO_32)) >>> 0;
}

/** One element of a string instruction: move/store/load/compare, then step RSI/RDI. */
function element(cpu: Cpu, kind: number, size: number, a32: boolean, delta: number, srcBase: number): void {
  switch (kind) {
    case MOVS: {
      const v = cpu.readMem(regAddress(cpu, RSI, a32, srcBase), size);
      cpu.writeMem(regAddress(cpu, RDI, a32, 0), size, v, cpu.hi);
      advance(cpu, RSI, a32, delta);
      advance(cpu, RDI, a32, delta);
      return;
    }
    case STOS: {
      const v = cpu.getReg(0, size, false);
      cpu.writeMem(regAddress(cpu, RDI, a32, 0), size, v, cpu.hi);
      advance(cpu, RDI, a32, delta);
      return;
    }
    case LODS: {
      const v = cpu.readMem(regAddress(cpu, RSI, a32, srcBase), size);
      cpu.setReg(0, size, false, v, cpu.hi);
      advance(cpu, RSI, a32, delta);
      return;
    }
    default: {
      // cmps compares [rsi] - [rdi]; scas compares the accumulator - [rdi].
      let a: number, aHi: number;
      if (kind === CMPS) { a = cpu.readMem(regAddress(cpu, RSI, a32, srcBase), size); aHi = size === 64 ? cpu.hi : 0; }
      else { a = cpu.getReg(0, size, false); aHi = size === 64 ? cpu.hi : 0; }
      const b = cpu.readMem(regAddress(cpu, RDI, a32, 0), size);
      const bHi = size === 64 ? cpu.hi : 0;
      let r: number, rHi = 0;
      if (size === 64) {
        const s = a - b;
        r = s >>> 0;
        rHi = (aHi - bHi + Math.floor(s / TWO_32)) >>> 0;
      } else r = trunc(a - b, size);
      if (kind === CMPS) advance(cpu, RSI, a32, delta);
      advance(cpu, RDI, a32, delta);
      cpu.flags.set(LAZY_SUB, size, a, aHi, b, bHi, r, rHi, 0);
    }
  }
}

/**
 * Forward rep movs/stos (64-bit addressing, the plain readMem/writeMem: no data
 * breakpoint watches): the next `limit` elements at most, as far as they stay
 * inside the current destination (and source) page, in one go on physical
 * memory — when the data TLB already holds those pages, so every element's
 * access would hit it (no walk, no fault, no accessed/dirty bit, no TLB
 * change), the pages are backed memory and the destination page holds no
 * decoded code. Each element is read whole, then written, in order, as
 * element() does (overlapping moves come out the same). RSI, RDI and RCX end
 * as after that many elements. Returns how many it did; 0: the first element
 * needs element() (it fills the TLB, or faults, exactly as the interpreter).
 */
function pageRun(cpu: Cpu, kind: number, size: number, srcBase: number, limit: number): number {
  const bytes = size >>> 3;
  const dst = linearOrNaN(cpu, RDI, false, 0);
  let k = Math.min(limit, Math.floor((4096 - (dst & 0xfff)) / bytes));
  if (!(k > 0)) return 0; // NaN, or the element crosses the page's end
  cpu.checkDataTlb(); // as each access's translateRead/translateWrite does first
  const mem = cpu.memory;
  const d = cpu.dataTlbHit(dst, true);
  if (d < 0 || cpu.decodeCache.codePages[d >>> 12] !== 0) return 0;
  const view = mem.view;
  if (kind === STOS) {
    if (d + k * bytes > mem.size) return 0;
    const lo = cpu.getReg(0, size, false), hi = cpu.hi;
    for (let i = 0, p = d; i < k; i++, p += bytes) {
      switch (size) {
        case 8: mem.bytes[p] = lo; break;
        case 16: view.setUint16(p, lo, true); break;
        case 32: view.setUint32(p, lo, true); break;
        default: view.setUint32(p, lo, true); view.setUint32(p + 4, hi, true);
      }
    }
  } else {
    const src = linearOrNaN(cpu, RSI, false, srcBase);
    k = Math.min(k, Math.floor((4096 - (src & 0xfff)) / bytes));
    if (!(k > 0)) return 0;
    const sp = cpu.dataTlbHit(src, false);
    if (sp < 0 || sp + k * bytes > mem.size || d + k * bytes > mem.size) return 0;
    for (let i = 0, p = sp, q = d; i < k; i++, p += bytes, q += bytes) {
      switch (size) {
        case 8: mem.bytes[q] = mem.bytes[p]; break;
        case 16: view.setUint16(q, view.getUint16(p, true), true); break;
        case 32: view.setUint32(q, view.getUint32(p, true), true); break;
        default: {
          const lo = view.getUint32(p, true), hi = view.getUint32(p + 4, true);
          view.setUint32(q, lo, true); view.setUint32(q + 4, hi, true);
        }
      }
    }
    advance(cpu, RSI, false, k * bytes);
  }
  advance(cpu, RDI, false, k * bytes);
  advance(cpu, RCX, false, -k);
  return k;
}

function stringOp(kind: number): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const size = d.opsize;
    const a32 = d.prefixes.addrsize32;
    const delta = cpu.direction() * (size >>> 3);
    const seg = d.prefixes.segment;
    const srcBase = seg === 4 ? cpu.fsBase : seg === 5 ? cpu.gsBase : 0;
    const regs = cpu.regs;
    const rep = d.prefixes.rep;
    if (rep === 0) { element(cpu, kind, size, a32, delta, srcBase); return; }
    const compares = kind === CMPS || kind === SCAS;
    // Forward movs/stos without debugging or data breakpoint watches: page runs where the TLB holds the pages.
    const proto = Object.getPrototypeOf(cpu) as Cpu;
    const runs = (kind === MOVS || kind === STOS) && !a32 && delta > 0 && !cpu.repDebug && cpu.readMem === proto.readMem && cpu.writeMem === proto.writeMem;
    for (let n = 0; n < CHUNK; n++) {
      if (a32 ? regs[2 * RCX] === 0 : (regs[2 * RCX] | regs[2 * RCX + 1]) === 0) return;
      if (runs) {
        const count = regs[2 * RCX + 1] !== 0 ? CHUNK : regs[2 * RCX];
        const k = pageRun(cpu, kind, size, srcBase, Math.min(count, CHUNK - n));
        if (k > 0) { n += k - 1; continue; }
      }
      element(cpu, kind, size, a32, delta, srcBase);
      advance(cpu, RCX, a32, -1);
      if (compares) {
        const zf = cpu.flags.zf() !== 0;
        if (rep === 0xf3 ? !zf : zf) return;
      }
      // Debugging: a single-step or data breakpoint trap comes after this iteration.
      if (cpu.repDebug && (cpu.repStep || (cpu.dataHits | cpu.hostReadHits | cpu.hostWriteHits) !== 0)) {
        if (a32 ? regs[2 * RCX] === 0 : (regs[2 * RCX] | regs[2 * RCX + 1]) === 0) return;
        cpu.rip = cpu.instructionStart;
        cpu.repInterrupted = true;
        return;
      }
    }
    // Not finished: run this instruction again (the run loop may take an interrupt first).
    if (a32 ? regs[2 * RCX] !== 0 : (regs[2 * RCX] | regs[2 * RCX + 1]) !== 0) cpu.rip = cpu.instructionStart;
  };
}

export const STRING_HANDLERS: [string, Exec][] = [
  ['movsb', stringOp(MOVS)], ['movs', stringOp(MOVS)],
  ['stosb', stringOp(STOS)], ['stos', stringOp(STOS)],
  ['lodsb', stringOp(LODS)], ['lods', stringOp(LODS)],
  ['cmpsb', stringOp(CMPS)], ['cmps', stringOp(CMPS)],
  ['scasb', stringOp(SCAS)], ['scas', stringOp(SCAS)],
];
