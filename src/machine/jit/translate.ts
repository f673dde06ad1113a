// The JIT tier: a hot block (blocks.ts) made only of instructions this file
// knows is re-translated into JavaScript that keeps the guest registers it
// uses in JS locals, computes only the flags an exit can observe, and runs a
// block that branches back to its own start as a loop inside the function.
// docs/tiers.md explains the tiers; here is only the translation.
//
// The compiled function has the same contract as a block's run (blocks.ts):
// runSlice calls it when the whole block fits before the slice's limit, it
// runs further rounds only while a whole round still fits, and it leaves
// registers, RIP, the instruction count and the lazy-flag record exactly as
// the interpreter would. It returns 0: it adds the count itself.
//
// Exactness by construction in this first version:
//  - the subset (register ALU, mov, lea, jcc/jmp rel at the end) cannot fault
//    except a branch to a non-canonical target: the function then exits just
//    before the branch and the interpreter runs it (and raises the #GP);
//  - flags: only the last flag-writing instruction of the block can be
//    observed (nothing between writers can fault or exit), so only it records
//    flags, through the interpreter's own Flags.set/setLogic with the values
//    the interpreter's execute functions pass; a jcc reads them through the
//    interpreter's Flags.condition (one source of truth for flag semantics);
//  - nothing in the subset stores to memory, reads RIP or the count, so no
//    code write, interrupt or timer can fall inside a round.

import type { Decoded, DecodedOperand, MemOperand } from '../../isa/decode.js';
import { Cpu } from '../cpu.js';
import type { CacheEntry } from '../decodeCache.js';
import { isCanonical, toSignedLinear } from '../address.js';
import { CpuFault, GP, SS } from '../exceptions.js';
import { CF, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_SUB, OF, parityOf } from '../flags.js';
import { aluExpression, ALU_OPS, type AluOp } from './semantics.js';

export type JitRun = (cpu: Cpu, start: number, limit: number) => number;

/** Statistics of the JIT tier (bench/run.ts prints them). */
export const jitStats = { compiled: 0, rejected: 0, sourceBytes: 0, compileMs: 0, instructions: 0, fallbacks: 0 };

type Reg = Extract<DecodedOperand, { type: 'reg' }>;
function isReg(o: DecodedOperand | undefined, size: number): o is Reg {
  return o !== undefined && o.type === 'reg' && !o.high8 && o.size === size;
}
function anyReg(o: DecodedOperand | undefined): o is Reg {
  return o !== undefined && o.type === 'reg';
}

const LIMIT = 2 ** 47;

/**
 * How an instruction writes the arithmetic flags, i.e. which Flags record the
 * interpreter's execute function makes: add/sub (Flags.set LAZY_ADD/SUB),
 * logic (setLogic), shift (setShift), inc/dec (keepCarry, then set), imul
 * (setImul64 / setMul). inc, dec and imul keep part of the record before them.
 */
type FlagKind = 'add' | 'sub' | 'logic' | 'shift' | 'inc' | 'dec' | 'imul';
const KEEPS_PRIOR: ReadonlySet<FlagKind> = new Set<FlagKind>(['inc', 'dec', 'imul']);

/** One instruction's JS, and what it touches. */
interface Piece {
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
}

function lo(r: number): string { return `l${r}`; }
function hi(r: number): string { return `h${r}`; }

function mask(size: number): string {
  return size === 8 ? ' & 255' : size === 16 ? ' & 65535' : ' >>> 0';
}

/** Operand reads and register writes of one instruction, as JS over the locals. */
class Ops {
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
      return `const t = ${sl} + ${mem.disp}; const eL = t >>> 0, eH = (${sh} + Math.floor(t / 4294967296)) >>> 0; ` +
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
}

/** Translate one straight instruction, or null if it is outside the subset. */
function piece(d: Decoded, next: number): Piece | null {
  const f = d.form;
  if (f === null || d.prefixes.lock || d.prefixes.rep !== 0) return null;
  const m = f.mnemonic, size = d.opsize;
  const ops = d.operands;
  const [x, y] = ops;
  const c = new Ops(d, next);
  if (m === 'nop' || m === 'endbr64') return c.piece('');
  if (ops.length === 0) {
    // The sign-extending converts of rax into rax / rdx.
    if (m === 'cdqe') { c.reads.push(0); c.writes.push(0); return c.piece('h0 = (l0 & 0x80000000) ? 0xffffffff : 0;'); }
    if (m === 'cdq') { c.reads.push(0); c.writes.push(2); return c.piece('l2 = (l0 & 0x80000000) ? 0xffffffff : 0; h2 = 0;'); }
    if (m === 'cqo') { c.reads.push(0); c.writes.push(2); return c.piece('l2 = h2 = (h0 & 0x80000000) ? 0xffffffff : 0;'); }
    return null;
  }
  if (m === 'mov' && ops.length === 2) {
    if (x.type === 'mem') {
      // A store: the code-page check on the slow path (Cpu.writeMem).
      const ea = c.address(x);
      if (ea === null || (y.type !== 'reg' && y.type !== 'imm')) return null;
      const s = c.source(y, x.size) as { pre: string; v: [string, string] };
      return c.piece(`{ ${ea} ${c.store(x.size, s.v[0], s.v[1])} }`);
    }
    if (!anyReg(x)) return null;
    const s = c.source(y, x.size);
    if (s === null) return null;
    return c.piece(`{ ${s.pre} ${c.setReg(x, s.v[0], s.v[1])} }`);
  }
  if ((m === 'movzx' || m === 'movsx' || m === 'movsxd') && anyReg(x) && x.size >= 32 && ops.length === 2 && y.type !== 'imm') {
    const from = (y as { size: number }).size;
    const s = c.source(y, from);
    if (s === null) return null;
    const v = s.v[0];
    if (m === 'movzx') return c.piece(`{ ${s.pre} ${c.setReg(x, v, '0')} }`);
    const sx = from === 8 ? `((${v} << 24) >> 24)` : from === 16 ? `((${v} << 16) >> 16)` : `(${v} | 0)`;
    return c.piece(`{ ${s.pre} const v = ${sx}; ${c.setReg(x, 'v >>> 0', 'v < 0 ? 0xffffffff : 0')} }`);
  }
  if (m === 'push' && isReg(x, 64) && ops.length === 1) {
    // As Cpu.push: the store first (a fault leaves RSP as it was), then RSP moves.
    const [vl, vh] = c.reg(x);
    c.reads.push(4); c.writes.push(4);
    return c.piece(`{ const A = (h4 | 0) * 4294967296 + l4 - 8; if (A < -${LIMIT} || A >= ${LIMIT}) throw new Fault(${SS}, 0, 'non-canonical stack address'); ` +
      `const vl = ${vl}, vh = ${vh}; ${c.store(64, 'vl', 'vh')} const t = l4 - 8; l4 = t >>> 0; h4 = (h4 + Math.floor(t / 4294967296)) >>> 0; }`);
  }
  if (m === 'pop' && isReg(x, 64) && ops.length === 1) {
    // As Cpu.pop and executeFast's pop: read, RSP moves, then the destination is written (pop %rsp: the value wins).
    c.reads.push(4); c.writes.push(4);
    return c.piece(`{ const A = (h4 | 0) * 4294967296 + l4; if (A < -${LIMIT} || A >= ${LIMIT}) throw new Fault(${SS}, 0, 'non-canonical stack address'); ` +
      `${c.load(64, 'v', 'vH')} const t = l4 + 8; l4 = t >>> 0; h4 = (h4 + Math.floor(t / 4294967296)) >>> 0; ${c.setReg(x, 'v', 'vH')} }`);
  }
  if ((m === 'inc' || m === 'dec' || m === 'neg' || m === 'not') && ops.length === 1 && anyReg(x)) {
    const [L, H] = c.reg(x);
    const sz = x.size;
    if (m === 'not') return c.piece(`{ ${c.setReg(x, `(~${L})${mask(sz)}`, sz === 64 ? `(~${H}) >>> 0` : '0')} }`);
    if (m === 'neg') {
      // As executeArithmetic's neg: the record of 0 - b.
      const e = sz === 64 ? 'const t = 0 - b; const rL = t >>> 0, rH = (0 - bH - (t < 0 ? 1 : 0)) >>> 0;' : `const rL = (0 - b)${mask(sz)}, rH = 0;`;
      return c.piece(`{ const a = 0, aH = 0, b = ${L}, bH = ${H}; ${e} ${c.setReg(x, 'rL', 'rH')} /*F*/ }`, { kind: 'sub', size: sz });
    }
    // As executeArithmetic's incDec: CF is kept (KEEPS_PRIOR).
    const dec = m === 'dec';
    const e = sz === 64 ? `const t = a ${dec ? '-' : '+'} 1; const rL = t >>> 0, rH = (aH + Math.floor(t / 4294967296)) >>> 0;` : `const rL = (a ${dec ? '-' : '+'} 1)${mask(sz)}, rH = 0;`;
    return c.piece(`{ const a = ${L}, aH = ${H}; ${e} ${c.setReg(x, 'rL', 'rH')} /*F*/ }`, { kind: dec ? 'dec' : 'inc', size: sz });
  }
  if (m === 'imul' && (ops.length === 2 || ops.length === 3) && anyReg(x) && (size === 32 || size === 64)) {
    // As executeArithmetic's imulN: the low half of the product; CF/OF recorded (lazily for 64 bits).
    const s1 = c.source(ops.length === 3 ? y : x, size), s2 = c.source(ops.length === 3 ? ops[2] : y, size);
    if (s1 === null || s2 === null || s1.pre !== '' && s2.pre !== '') return null;
    let code = `{ ${s1.pre} ${s2.pre} const a = ${s1.v[0]}, aH = ${s1.v[1]}, b = ${s2.v[0]}, bH = ${s2.v[1]}; `;
    if (size === 64) {
      code += 'const p0 = a * (b & 0xffff), p1 = a * (b >>> 16); const t = p0 + (p1 & 0xffff) * 65536; ' +
        'const rL = t >>> 0, rH = (Math.floor(p1 / 65536) + Math.floor(t / 4294967296) + Math.imul(a, bH) + Math.imul(aH, b)) >>> 0; ';
      code += `${c.setReg(x, 'rL', 'rH')} /*F*/ }`;
    } else {
      code += `const rL = Math.imul(a, b) >>> 0; const ov = (a | 0) * (b | 0) !== (rL | 0); ${c.setReg(x, 'rL', '0')} /*F*/ }`;
    }
    return c.piece(code, { kind: 'imul', size });
  }
  if (ops.length !== 2) return null;
  if ((m === 'shl' || m === 'sal' || m === 'shr' || m === 'sar') && y.type === 'imm' && isReg(x, size) && (size === 32 || size === 64)) {
    // As executeFast.ts's shift32/shift64 with the count fixed (0: the interpreter's).
    const n = y.lo & (size === 64 ? 63 : 31);
    if (n === 0) return null;
    const r = x.reg, L = lo(r), H = hi(r);
    c.reads.push(r); c.writes.push(r);
    let code: string;
    if (size === 32) {
      if (m === 'shr') code = `const cf = (${L} >>> ${n - 1}) & 1; const rL = ${L} >>> ${n}; const of = ${n === 1 ? `${L} >>> 31` : '0'};`;
      else if (m === 'sar') code = `const cf = ((${L} | 0) >> ${n - 1}) & 1; const rL = ((${L} | 0) >> ${n}) >>> 0; const of = 0;`;
      else code = `const cf = (${L} >>> ${32 - n}) & 1; const rL = (${L} << ${n}) >>> 0; const of = (rL >>> 31) ^ cf;`;
      code += ' const rH = 0;';
    } else if (m === 'shl' || m === 'sal') {
      const k = 64 - n;
      code = `const cf = ${k < 32 ? `(${L} >>> ${k}) & 1` : `(${H} >>> ${k - 32}) & 1`}; `;
      code += n < 32 ? `const rH = ((${H} << ${n}) | (${L} >>> ${32 - n})) >>> 0; const rL = (${L} << ${n}) >>> 0; ` : `const rH = (${L} << ${n - 32}) >>> 0; const rL = 0; `;
      code += 'const of = (rH >>> 31) ^ cf;';
    } else {
      const k = n - 1, sar = m === 'sar';
      code = `const cf = ${k < 32 ? `(${L} >>> ${k}) & 1` : `(${H} >>> ${k - 32}) & 1`}; `;
      if (n < 32) code += `const rL = ((${L} >>> ${n}) | (${H} << ${32 - n})) >>> 0; const rH = ${sar ? `((${H} | 0) >> ${n}) >>> 0` : `${H} >>> ${n}`}; `;
      else code += `const rL = ${sar ? `((${H} | 0) >> ${n - 32}) >>> 0` : `${H} >>> ${n - 32}`}; const rH = ${sar ? `((${H} | 0) >> 31) >>> 0` : '0'}; `;
      code += `const of = ${sar || n > 1 ? '0' : `${H} >>> 31`};`;
    }
    return c.piece(`{ ${code} ${L} = rL; ${H} = rH; /*F*/ }`, { kind: 'shift', size });
  }
  if (ALU_OPS.has(m) && (anyReg(x) || (x.type === 'mem' && (m === 'cmp' || m === 'test')))) {
    // As executeFast's alu32/alu64 and executeArithmetic's addSub (no carry in): the record of a op b.
    const op = m as AluOp;
    const sz = (x as { size: number }).size;
    if (x.type === 'mem' && y.type === 'mem') return null;
    const sa = c.source(x, sz), sb = c.source(y, sz);
    if (sa === null || sb === null) return null;
    let e: string;
    if (sz === 64) e = aluExpression(op, 64, '', '', '', '').code;
    else {
      const js = op === 'add' ? '+' : op === 'sub' || op === 'cmp' ? '-' : op === 'and' || op === 'test' ? '&' : op === 'or' ? '|' : '^';
      e = `const rL = (a ${js} b)${mask(sz)}, rH = 0;`;
    }
    const writes = op !== 'cmp' && op !== 'test';
    const code = `{ ${sa.pre} ${sb.pre} const a = ${sa.v[0]}, aH = ${sa.v[1]}, b = ${sb.v[0]}, bH = ${sb.v[1]}; ${e} ${writes ? c.setReg(x as Reg, 'rL', 'rH') : ''} /*F*/ }`;
    const logic = op === 'and' || op === 'or' || op === 'xor' || op === 'test';
    return c.piece(code, { kind: logic ? 'logic' : op === 'add' ? 'add' : 'sub', size: sz });
  }
  if (m === 'lea' && y?.type === 'mem' && isReg(x, size) && (size === 32 || size === 64)) {
    const mem = y as MemOperand;
    if (mem.base === 16 || d.prefixes.addrsize32) return null;
    // The same sum as Cpu.eaRaw: halves added as doubles, the low half's carry folded into the high.
    let sl = '0', sh = '0';
    if (mem.base >= 0) { sl = lo(mem.base); sh = hi(mem.base); c.reads.push(mem.base); }
    if (mem.index >= 0) { sl += ` + ${lo(mem.index)} * ${mem.scale}`; sh += ` + ${hi(mem.index)} * ${mem.scale}`; c.reads.push(mem.index); }
    sl += ` + ${mem.disp}`;
    const a = x.reg;
    c.writes.push(a);
    return c.piece(size === 64
      ? `{ const t = ${sl}; const u = ${sh}; ${lo(a)} = t >>> 0; ${hi(a)} = (u + Math.floor(t / 4294967296)) >>> 0; }`
      : `{ const t = ${sl}; ${lo(a)} = t >>> 0; ${hi(a)} = 0; }`);
  }
  return null;
}

/** The JS that saves writer k's flag inputs into its q locals (at its marker). */
function saveFlags(k: number, kind: FlagKind, size: number): string {
  switch (kind) {
    case 'logic': return `qr${k} = rL; qR${k} = rH;`;
    case 'shift': return `qr${k} = rL; qR${k} = rH; qc${k} = (cf ? ${CF} : 0) | (of ? ${OF} : 0);`;
    case 'imul': return size === 64 ? `qa${k} = a; qA${k} = aH; qb${k} = b; qB${k} = bH;` : `qc${k} = ov;`;
    case 'inc': case 'dec': return `qa${k} = a; qA${k} = aH; qr${k} = rL; qR${k} = rH;`;
    default: return `qa${k} = a; qA${k} = aH; qb${k} = b; qB${k} = bH; qr${k} = rL; qR${k} = rH;`;
  }
}

/** The interpreter's Flags call that writer k makes, from its q locals. */
function recordFlags(k: number, kind: FlagKind, size: number): string {
  switch (kind) {
    case 'logic': return `F.setLogic(${size}, qr${k}, qR${k});`;
    case 'shift': return `F.setShift(${size}, qr${k}, qR${k}, qc${k});`;
    case 'imul': return size === 64 ? `F.setImul64(qa${k}, qA${k}, qb${k}, qB${k});` : `F.setMul(qc${k});`;
    case 'inc': case 'dec': return `F.keepCarry(); F.set(${kind === 'dec' ? LAZY_DEC : LAZY_INC}, ${size}, qa${k}, qA${k}, 1, 0, qr${k}, qR${k}, 0);`;
    default: return `F.set(${kind === 'add' ? LAZY_ADD : LAZY_SUB}, ${size}, qa${k}, qA${k}, qb${k}, qB${k}, qr${k}, qR${k}, 0);`;
  }
}

/**
 * Condition cc (jcc's low nibble) as a JS boolean from writer k's q locals,
 * as Flags.condition would compute it from the record; null when the writer
 * does not define the flags it needs from its own inputs (inc/dec's CF, imul).
 */
function inlineCondition(k: number, kind: FlagKind, size: number, cc: number): string | null {
  const a = `qa${k}`, A = `qA${k}`, b = `qb${k}`, B = `qB${k}`, r = `qr${k}`, R = `qR${k}`;
  const w = size === 64;
  const sign = (lx: string, hx: string): string => (w ? `((${hx}) | 0) < 0` : size === 32 ? `((${lx}) | 0) < 0` : `((${lx}) & ${1 << (size - 1)}) !== 0`);
  if (kind === 'imul') return null;
  const zf = w ? `(${r} | ${R}) === 0` : `${r} === 0`;
  const sf = sign(r, R);
  const pf = `parity(${r}) !== 0`;
  let cf: string | null, of: string;
  switch (kind) {
    case 'logic': cf = 'false'; of = 'false'; break;
    case 'shift': cf = `(qc${k} & ${CF}) !== 0`; of = `(qc${k} & ${OF}) !== 0`; break;
    case 'add': cf = w ? `(${R} < ${A} || (${R} === ${A} && ${r} < ${a}))` : `${r} < ${a}`; of = sign(`(${a} ^ ${r}) & (${b} ^ ${r})`, `(${A} ^ ${R}) & (${B} ^ ${R})`); break;
    case 'sub': cf = w ? `(${A} < ${B} || (${A} === ${B} && ${a} < ${b}))` : `${a} < ${b}`; of = sign(`(${a} ^ ${b}) & (${a} ^ ${r})`, `(${A} ^ ${B}) & (${A} ^ ${R})`); break;
    case 'inc': cf = null; of = sign(`(${a} ^ ${r}) & (1 ^ ${r})`, `(${A} ^ ${R}) & ${R}`); break;
    default: cf = null; of = sign(`(${a} ^ 1) & (${a} ^ ${r})`, `${A} & (${A} ^ ${R})`);
  }
  let e: string | null;
  const sub = kind === 'sub' && size >= 32;
  switch (cc >> 1) {
    case 0: e = of; break;
    case 1: e = cf; break;
    case 2: e = zf; break;
    case 3: e = sub ? (w ? `(${A} < ${B} || (${A} === ${B} && ${a} <= ${b}))` : `${a} <= ${b}`) : cf === null ? null : `(${cf} || ${zf})`; break;
    case 4: e = sf; break;
    case 5: e = pf; break;
    case 6: e = sub ? (w ? `((${A} | 0) < (${B} | 0) || (${A} === ${B} && ${a} < ${b}))` : `(${a} | 0) < (${b} | 0)`) : `(${sf}) !== (${of})`; break;
    default: e = sub ? (w ? `((${A} | 0) < (${B} | 0) || (${A} === ${B} && ${a} <= ${b}))` : `(${a} | 0) <= (${b} | 0)`) : `(${zf} || (${sf}) !== (${of}))`;
  }
  if (e === null) return null;
  return (cc & 1) === 0 ? `(${e})` : `!(${e})`;
}

/** A straight instruction outside the subset: the interpreter's execute function, called from the translation. */
const FALLBACK: Piece = { code: '', reads: [], writes: [], flag: null, memory: null, fallback: true };

/**
 * The JavaScript source for the block of `entries`, or null if the block has
 * nothing for the JIT (no instruction in the subset). Instructions outside
 * the subset call the interpreter's execute function `x<k>(cpu, d<k>)` (the
 * block tier's call, with the registers written back before and reloaded
 * after). Exported for the docs and tests.
 */
export function jitSource(entries: CacheEntry[]): string | null {
  const n = entries.length;
  const offsets: number[] = [];
  let off = 0;
  for (const e of entries) { offsets.push(off); off += e.length; }
  const end = off;
  const last = entries[n - 1].d;
  const lf = last.form;
  // The way out: a jcc or jmp with a rel target, a straight instruction, or any other (the interpreter's).
  let branch: 'jcc' | 'jmp' | 'other' | null = null;
  if (lf !== null && last.operands[0]?.type === 'rel' && (lf.family === 'jcc' || lf.mnemonic === 'jmp')) branch = lf.family === 'jcc' ? 'jcc' : 'jmp';
  else if (!entries[n - 1].straight) branch = 'other';
  const body = branch === null ? n : n - 1;
  const pieces: Piece[] = [];
  let translated = 0;
  for (let k = 0; k < body; k++) {
    const p = entries[k].straight ? piece(entries[k].d, offsets[k] + entries[k].length) : null;
    if (p !== null) translated++;
    pieces.push(p ?? FALLBACK);
  }
  if (branch === 'jcc' || branch === 'jmp') translated++;
  if (translated === 0) return null;
  const loops = (branch === 'jcc' || branch === 'jmp') && (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp === -end;

  // Flags. Each writer k saves its inputs in locals q*k; the interpreter's
  // Flags record is made only where it can be observed: before an instruction
  // of the interpreter's, and at each exit (a fault, a store into code, the
  // end), for the last writer before that point — with, for inc/dec/imul, the
  // writer before it first (they keep part of its record). A jcc computes its
  // condition from the writer's locals when the writer defines those flags.
  // An instruction of the interpreter's is a writer already in F.
  const writerBefore = (p: number): number => {
    for (let j = p - 1; j >= 0; j--) if (pieces[j].flag !== null || pieces[j].fallback) return j;
    return -1;
  };
  const wEnd = writerBefore(body);
  const needQ = new Set<number>();
  let cond: string | null = null;
  if (branch === 'jcc' && wEnd >= 0 && !pieces[wEnd].fallback) {
    const fl = pieces[wEnd].flag as NonNullable<Piece['flag']>;
    cond = inlineCondition(wEnd, fl.kind, fl.size, lf?.cc as number);
    if (cond !== null) needQ.add(wEnd);
  }
  // In a loop, the record of the previous round's last writer is pending at the start of a
  // round (until the round's first writer) unless the round ended with F up to date.
  const endSynced = wEnd < 0 || pieces[wEnd].fallback === true || (branch === 'jcc' && cond === null);
  const pend = loops && !endSynced;
  const chain = (j: number, allowPend: boolean): string => {
    if (j < 0) return allowPend && pend ? `if (pend) { ${chain(wEnd, false)} }` : '';
    const p = pieces[j];
    if (p.fallback) return '';
    const fl = p.flag as NonNullable<Piece['flag']>;
    needQ.add(j);
    return (KEEPS_PRIOR.has(fl.kind) ? chain(writerBefore(j), allowPend) : '') + recordFlags(j, fl.kind, fl.size);
  };
  /** JS that makes cpu.flags what the interpreter's would be just before instruction p. */
  const sync = (p: number): string => chain(writerBefore(p), true);

  const faults = pieces.some((p) => p.memory !== null || p.fallback) || branch === 'other';
  const memory = pieces.some((p) => p.memory !== null);
  const used = new Set<number>(), written = new Set<number>();
  for (const p of pieces) { p.reads.forEach((r) => used.add(r)); p.writes.forEach((r) => { used.add(r); written.add(r); }); }
  const regs = [...used].sort((p, q) => p - q);
  const lines: string[] = [];
  if (regs.length) lines.push(`let ${regs.map((r) => `${lo(r)} = R[${2 * r}], ${hi(r)} = R[${2 * r + 1}]`).join(', ')};`);
  lines.push('let ic = cpu.instructionCount;');
  if (pend) lines.push('let pend = false;');
  const writeBack = [...written].sort((p, q) => p - q).map((r) => `R[${2 * r}] = ${lo(r)}; R[${2 * r + 1}] = ${hi(r)};`).join(' ');
  const reload = regs.map((r) => `${lo(r)} = R[${2 * r}]; ${hi(r)} = R[${2 * r + 1}];`).join(' ');
  const exit = (count: string, rip: string, at: number, flags: string): string =>
    `{ ${flags} ${writeBack} cpu.instructionCount = ${count}; cpu.instructionStart = s + ${at}; cpu.rip = ${rip}; return 0; }`;
  // The interpreter's execute function for instruction k, as the block tier calls it.
  const call = (k: number): string =>
    `${sync(k)} ${writeBack} cpu.instructionCount = ic + ${k}; cpu.instructionStart = s + ${offsets[k]}; cpu.rip = s + ${offsets[k] + entries[k].length}; x${k}(cpu, d${k});`;
  // A fault: registers, flags and the count as before the faulting instruction; runSlice's catch
  // sets RIP to it (it counts the instructions before it itself only when it is not the last).
  // An instruction of the interpreter's faults with registers and flags already its own.
  if (faults) lines.push('let at = 0;', 'try {');
  lines.push('for (;;) {');
  pieces.forEach((p, k) => {
    const e = entries[k];
    lines.push(`// ${k}: ${e.d.form?.mnemonic ?? '(bad)'} (+${offsets[k]})${p.fallback ? ' interpreter' : ''}`);
    if (p.memory !== null || p.fallback) lines.push(`at = ${k};`);
    if (p.fallback) {
      lines.push(call(k));
      lines.push(`if (cpu.interruptCheck) { cpu.instructionCount = ic + ${k + 1}; return 0; }`);
      if (reload) lines.push(reload);
      return;
    }
    lines.push(p.code.replace('/*F*/', p.flag !== null ? `/*F${k}*/` : ''));
    if (p.memory === 'store') lines.push(`if (cpu.interruptCheck) ${exit(`ic + ${k + 1}`, `s + ${offsets[k] + e.length}`, offsets[k], sync(k + 1))}`);
  });
  const lastAt = offsets[n - 1];
  if (branch === 'other') {
    // The last instruction is the interpreter's (call, ret, an indirect jump...): it sets RIP; runSlice counts it.
    lines.push(`// ${n - 1}: ${lf?.mnemonic ?? '(bad)'} (+${lastAt}) interpreter`, `at = ${n - 1};`, call(n - 1), 'return 1;');
  } else if (branch !== null) {
    const disp = (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp;
    lines.push(`// ${n - 1}: ${lf?.mnemonic} (+${lastAt})${branch === 'jcc' ? (cond !== null ? ' inline condition' : ' Flags.condition') : ''}`);
    const target = `s + ${end + disp}`;
    if (branch === 'jcc') {
      if (cond !== null) lines.push(`let next = ${cond} ? ${target} : s + ${end};`);
      else lines.push(`${sync(n - 1)} let next = F.condition(${lf?.cc}) ? ${target} : s + ${end};`);
    } else lines.push(`let next = ${target};`);
    const endFlags = cond !== null || branch === 'jmp' ? sync(n - 1) : '';
    // A non-canonical target: stop before the branch; the interpreter raises the #GP.
    lines.push(`if ((next < -${LIMIT} || next >= ${LIMIT}) && next !== s + ${end}) ${exit(`ic + ${n - 1}`, `s + ${lastAt}`, n > 1 ? offsets[n - 2] : 0, endFlags)}`);
    lines.push(`ic += ${n};`);
    if (loops) lines.push(`if (next === s && ic + ${n} <= limit) { ${pend ? 'pend = true; ' : ''}continue; }`);
    lines.push(exit('ic', 'next', lastAt, endFlags));
  } else {
    lines.push(`ic += ${n};`);
    lines.push(exit('ic', `s + ${end}`, lastAt, sync(n)));
  }
  lines.push('}');
  if (faults) {
    const cases: string[] = [];
    pieces.forEach((p, k) => {
      if (p.memory !== null) cases.push(`case ${k}: { ${sync(k)} ${writeBack} break; }`);
    });
    lines.push(`} catch (e) { switch (at) { ${cases.join(' ')} } cpu.instructionCount = ic + (at === ${n - 1} ? at : 0); cpu.instructionStart = s + [${offsets.join(', ')}][at]; throw e; }`);
  }
  // The flag locals: declared for the writers something reads, saved at each writer's marker.
  let text = lines.join('\n');
  const q: string[] = [];
  for (const k of [...needQ].sort((p, r) => p - r)) {
    const fl = pieces[k].flag as NonNullable<Piece['flag']>;
    q.push(...[...saveFlags(k, fl.kind, fl.size).matchAll(/(q[a-zA-Z]\d+) =/g)].map((m) => `${m[1]} = 0`));
    text = text.replace(`/*F${k}*/`, saveFlags(k, fl.kind, fl.size));
  }
  text = text.replace(/\/\*F\d+\*\//g, '');
  let head = 'const R = cpu.regs, F = cpu.flags;';
  if (q.length) head += `\nlet ${q.join(', ')};`;
  if (memory) {
    // The data TLB as Cpu.translateRead/translateWrite see it (checked once: nothing in a block changes the
    // paging or CPL); with a data breakpoint's wrappers installed, every access takes the slow path.
    head += '\ncpu.checkDataTlb(); const RT = cpu.readMem === RM ? cpu.readTag : NOTAG, RFr = cpu.readFrame, WT = cpu.writeMem === WM ? cpu.writeTag : NOTAG, WFr = cpu.writeFrame;';
    head += '\nconst MEM = cpu.memory, MV = MEM.view, MB = MEM.bytes, MS = MEM.size, CODE = cpu.decodeCache.codePages, cpl = cpu.cpl;';
  }
  return `return function jit(cpu, s, limit) {\n${head}\n${text}\n};`;
}

/** A data TLB that never hits (the slow path for every access). */
const NOTAG = new Float64Array(64).fill(NaN);

let serial = 0;

/** Compile the block of `entries`, or null (the block tier keeps it). */
export function compileJit(entries: CacheEntry[]): JitRun | null {
  const t0 = performance.now();
  const text = jitSource(entries);
  if (text === null) { jitStats.rejected++; return null; }
  const names = ['Fault', 'canonical', 'signedLinear', 'parity', 'RM', 'WM', 'NOTAG'];
  const values: unknown[] = [CpuFault, isCanonical, toSignedLinear, parityOf, Cpu.prototype.readMem, Cpu.prototype.writeMem, NOTAG];
  entries.forEach((e, k) => { names.push(`x${k}`, `d${k}`); values.push(e.exec, e.d); });
  const run = new Function(...names, `// jit ${++serial}\n${text}`)(...values) as JitRun;
  jitStats.compiled++;
  jitStats.sourceBytes += text.length;
  jitStats.compileMs += performance.now() - t0;
  return run;
}
