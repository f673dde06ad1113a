// The pieces of a translation: one guest instruction's JavaScript (a Piece)
// and Ops, which builds it over the translation's register locals (l<r>/h<r>:
// the uint32 halves of guest register r) with the inline TLB probes of loads
// and stores. translate.ts assembles pieces into a block's function; the
// translators of instruction groups (translateMulDiv.ts, translateBitScan.ts,
// translateMemoryOps.ts) make pieces with Ops too.

import type { Decoded, DecodedOperand, MemOperand } from '../../isa/decode.js';
import { GP, SS } from '../exceptions.js';

export type Reg = Extract<DecodedOperand, { type: 'reg' }>;
export function isReg(o: DecodedOperand | undefined, size: number): o is Reg {
  return o !== undefined && o.type === 'reg' && !o.high8 && o.size === size;
}
export function anyReg(o: DecodedOperand | undefined): o is Reg {
  return o !== undefined && o.type === 'reg';
}

export const LIMIT = 2 ** 47;

/**
 * How an instruction writes the arithmetic flags, i.e. which Flags record the
 * interpreter's execute function makes: add/sub (Flags.set LAZY_ADD/SUB),
 * logic (setLogic), shift (setShift), inc/dec (keepCarry, then set), imul
 * (setImul64 / setMul); and through the interpreter's functions (H): div
 * (divideFlags), scan for bsf/bsr (bitScanFlags), tzcnt lzcnt popcnt
 * (countFlags), rol ror by an immediate (rotateFlags). All but add, sub,
 * logic and shift keep part of the record before them (that record is made
 * first).
 */
export type FlagKind = 'add' | 'sub' | 'logic' | 'shift' | 'inc' | 'dec' | 'imul' | 'mul' | 'div' | 'scan' | 'tzcnt' | 'lzcnt' | 'popcnt' | 'rol' | 'ror';
export const KEEPS_PRIOR: ReadonlySet<FlagKind> = new Set<FlagKind>(['inc', 'dec', 'imul', 'mul', 'div', 'scan', 'tzcnt', 'lzcnt', 'popcnt', 'rol', 'ror']);

/** One instruction's JS, and what it touches. */
export interface Piece {
  /** The JS; the marker F (in a comment) shows where the flag inputs (locals a aH b bH rL rH, or cf/of, ov) are in scope. */
  code: string;
  reads: number[];
  writes: number[];
  /** How it writes the flags (null: it does not). */
  flag: { kind: FlagKind; size: number } | null;
  /** Reads or writes memory: may fault (an exit before it) and, for a store, may hit code (an exit after it). */
  memory: 'load' | 'store' | null;
  /** Not translated: the interpreter's execute function runs it. */
  fallback?: boolean;
  /** Reads condition cc: the marker C (in a comment) stands for the condition, a JS boolean. */
  cc?: number;
  /**
   * Makes the flag record itself, as the interpreter does, where the marker S (in a comment) makes
   * the record up to date first (a shift by CL: no flag changes when the count is 0).
   */
  eager?: boolean;
}

export function lo(r: number): string { return `l${r}`; }
export function hi(r: number): string { return `h${r}`; }

export function mask(size: number): string {
  return size === 8 ? ' & 255' : size === 16 ? ' & 65535' : ' >>> 0';
}

/** Operand reads and register writes of one instruction, as JS over the locals. */
export class Ops {
  reads: number[] = [];
  writes: number[] = [];
  memory: 'load' | 'store' | null = null;
  constructor(readonly d: Decoded, readonly next: number) {}

  /** A register's value at its size: [lo, hi] expressions. */
  reg(o: Reg): [string, string] {
    this.reads.push(o.reg);
    const L = lo(o.reg);
    switch (o.size) {
      case 8: return [o.high8 ? `((${L} >>> 8) & 255)` : `(${L} & 255)`, '0'];
      case 16: return [`(${L} & 65535)`, '0'];
      case 32: return [L, '0'];
      default: return [L, hi(o.reg)];
    }
  }

  /** Write a register as the interpreter's setReg does (8/16 merge, 32 zero-extends). */
  setReg(o: Reg, vl: string, vh: string): string {
    const L = lo(o.reg), H = hi(o.reg);
    this.writes.push(o.reg);
    switch (o.size) {
      case 8:
        this.reads.push(o.reg);
        return o.high8 ? `${L} = ((${L} & 0xffff00ff) | ((${vl} & 255) << 8)) >>> 0;` : `${L} = ((${L} & 0xffffff00) | (${vl} & 255)) >>> 0;`;
      case 16:
        this.reads.push(o.reg);
        return `${L} = ((${L} & 0xffff0000) | (${vl} & 65535)) >>> 0;`;
      case 32: return `${L} = ${vl}; ${H} = 0;`;
      default: return `${L} = ${vl}; ${H} = ${vh};`;
    }
  }

  /**
   * The linear address of a memory operand into const A, as Cpu.ea computes it
   * (base + displacement: its fast path's one double sum; with an index:
   * Cpu.eaRaw's halves, then the canonical check). Null for fs/gs and 32-bit addressing.
   */
  address(mem: MemOperand): string | null {
    const d = this.d;
    if (mem.segment === 4 || mem.segment === 5 || d.prefixes.addrsize32) return null;
    const fault = `throw new Fault(${mem.segment === 2 ? SS : GP}, 0, 'non-canonical address');`;
    if (mem.index >= 0) {
      if (mem.base === 16) return null;
      let sl = `${lo(mem.index)} * ${mem.scale}`, sh = `${hi(mem.index)} * ${mem.scale}`;
      this.reads.push(mem.index);
      if (mem.base >= 0) { sl = `${lo(mem.base)} + ${sl}`; sh = `${hi(mem.base)} + ${sh}`; this.reads.push(mem.base); }
      return `const eT = ${sl} + ${mem.disp}; const eL = eT >>> 0, eH = (${sh} + Math.floor(eT / 4294967296)) >>> 0; ` +
        `if (!canonical(eL, eH)) ${fault} const A = signedLinear(eL, eH);`;
    }
    let a: string;
    if (mem.base === 16) a = `s + ${this.next + mem.disp}`;
    else if (mem.base >= 0) { a = `(${hi(mem.base)} | 0) * 4294967296 + ${lo(mem.base)} + ${mem.disp}`; this.reads.push(mem.base); }
    else a = String(mem.disp);
    return `const A = ${a}; if (A < -${LIMIT} || A >= ${LIMIT}) ${fault}`;
  }

  /**
   * A load of `size` bits at A into `let v, vh`: the data TLB probed inline
   * (Cpu.translateRead's table), the rest (a miss, a page crossing, data
   * breakpoints, unbacked memory) through Cpu.readMem.
   */
  load(size: number, v: string, vh: string): string {
    this.memory = 'load';
    const bytes = size >>> 3;
    let fast: string;
    switch (size) {
      case 8: fast = `${v} = MB[p];`; break;
      case 16: fast = `${v} = MV.getUint16(p, true);`; break;
      case 32: fast = `${v} = MV.getUint32(p, true);`; break;
      default: fast = `${v} = MV.getUint32(p, true); ${vh} = MV.getUint32(p + 4, true);`;
    }
    return `let ${v} = 0, ${vh} = 0; { const o = A & 4095, pg = (A - o) / 4096, sl = pg & 63, p = RFr[sl] + o; ` +
      `if (RT[sl] === pg * 4 + cpl && o <= ${4096 - bytes} && p <= MS - ${bytes}) { ${fast} } else { ${v} = cpu.readMem(A, ${size});${size === 64 ? ` ${vh} = cpu.hi;` : ''} } }`;
  }

  /** A store of `size` bits at A: inline TLB probe, a page with decoded code or anything unusual through Cpu.writeMem. */
  store(size: number, vl: string, vh: string): string {
    this.memory = 'store';
    const bytes = size >>> 3;
    let fast: string;
    switch (size) {
      case 8: fast = `MB[p] = ${vl};`; break;
      case 16: fast = `MV.setUint16(p, ${vl}, true);`; break;
      case 32: fast = `MV.setUint32(p, ${vl}, true);`; break;
      default: fast = `MV.setUint32(p, ${vl}, true); MV.setUint32(p + 4, ${vh}, true);`;
    }
    return `{ const o = A & 4095, pg = (A - o) / 4096, sl = pg & 63, p = WFr[sl] + o; ` +
      `if (WT[sl] === pg * 4 + cpl && o <= ${4096 - bytes} && p <= MS - ${bytes} && CODE[p >>> 12] === 0) { ${fast} } else cpu.writeMem(A, ${size}, ${vl}, ${vh}); }`;
  }

  /** Any source operand (register, immediate, memory) at `size`: code before, and [lo, hi]. */
  source(o: DecodedOperand, size: number): { pre: string; v: [string, string] } | null {
    if (o.type === 'reg') return { pre: '', v: this.reg(o) };
    if (o.type === 'imm') {
      const m = size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff;
      return { pre: '', v: [String((o.lo & m) >>> 0), size === 64 ? String(o.hi >>> 0) : '0'] };
    }
    if (o.type === 'mem') {
      const ea = this.address(o);
      if (ea === null) return null;
      return { pre: `${ea} ${this.load(size, 'm', 'mH')}`, v: ['m', size === 64 ? 'mH' : '0'] };
    }
    return null;
  }

  piece(code: string, flag: Piece['flag'] = null): Piece {
    return { code, reads: this.reads, writes: this.writes, flag, memory: this.memory };
  }

  /** An instruction that reads condition cc (setcc, cmovcc). */
  conditional(code: string, cc: number): Piece {
    return { ...this.piece(code), cc };
  }

}
