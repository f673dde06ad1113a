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
import type { Cpu } from '../cpu.js';
import type { CacheEntry } from '../decodeCache.js';
import { MAX_BLOCK, type Block } from '../blocks.js';
import { isCanonical, toSignedLinear } from '../address.js';
import { CpuFault, GP } from '../exceptions.js';
import { CF, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_SUB, OF, parityOf } from '../flags.js';
import { aluExpression, ALU_OPS, type AluOp } from './semantics.js';
import { JIT_HELPERS } from './helpers.js';
import { mulDivPiece } from './translateMulDiv.js';
import { bitScanPiece } from './translateBitScan.js';
import { rotatePiece } from './translateRotate.js';
import { destination } from './translateMemoryOps.js';
import { lowProduct64 } from './inlineMultiply.js';
import { addressSum, anyReg, below, belowOrEqual, isReg, KEEPS_PRIOR, LIMIT, hi, linear, lo, mask, moveRsp, Ops, probeCaches, type FlagKind, type Piece } from './pieces.js';

export type JitRun = (cpu: Cpu, start: number, limit: number) => number;

/** Statistics of the JIT tier (bench/run.ts prints them). */
export const jitStats = { compiled: 0, blocks: 0, rejected: 0, sourceBytes: 0, compileMs: 0 };


/** Translate one straight instruction, or null if it is outside the subset. */
function piece(d: Decoded, next: number): Piece | null {
  const f = d.form;
  if (f === null || d.prefixes.lock || d.prefixes.rep !== 0) return null;
  const m = f.mnemonic, size = d.opsize;
  const ops = d.operands;
  const [x, y] = ops;
  const c = new Ops(d, next);
  if (m === 'nop' || m === 'endbr64') return c.piece('');
  const group = mulDivPiece(d, c) ?? bitScanPiece(d, c) ?? rotatePiece(d, c);
  if (group !== null) return group;
  if (ops.length === 0) {
    // The sign-extending converts of rax into rax / rdx.
    if (m === 'cdqe') { c.reads.push(0); c.writes.push(0); return c.piece('h0 = l0 >> 31;'); }
    if (m === 'cdq') { c.reads.push(0); c.writes.push(2); return c.piece('l2 = l0 >> 31; h2 = 0;'); }
    if (m === 'cqo') { c.reads.push(0); c.writes.push(2); return c.piece('l2 = h2 = h0 >> 31;'); }
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
    return c.piece(`{ ${s.pre} const v = ${sx}; ${c.setReg(x, 'v', 'v >> 31')} }`);
  }
  if (m === 'push' && ops.length === 1 && size === 64 && (isReg(x, 64) || x.type === 'imm')) {
    // As Cpu.push: the store first (a fault leaves RSP as it was), then RSP moves. An immediate is sign-extended (the decoder's hi).
    const [vl, vh] = (c.source(x, 64) as { v: [string, string] }).v;
    c.reads.push(4); c.writes.push(4); c.stack();
    return c.piece(`{ const A = ${linear('l4', 'h4')} - 8; ` +
      `const vl = ${vl}, vh = ${vh}; ${c.store(64, 'vl', 'vh')} ${moveRsp(-8)} }`);
  }
  if (m === 'pop' && isReg(x, 64) && ops.length === 1) {
    // As Cpu.pop and executeFast's pop: read, RSP moves, then the destination is written (pop %rsp: the value wins).
    c.reads.push(4); c.writes.push(4); c.stack();
    return c.piece(`{ const A = ${linear('l4', 'h4')}; ` +
      `${c.load(64, 'v', 'vH')} ${moveRsp(8)} ${c.setReg(x, 'v', 'vH')} }`);
  }
  if ((m === 'inc' || m === 'dec' || m === 'neg' || m === 'not') && ops.length === 1) {
    // A register or memory (read-modify-write: translateMemoryOps.ts) operand.
    if (x.type !== 'reg' && x.type !== 'mem') return null;
    const sz = x.size;
    const dst = destination(c, x, sz);
    if (dst === null) return null;
    const [L, H] = dst.v;
    if (m === 'not') return c.piece(`{ ${dst.pre} ${dst.write(`(~${L})${mask(sz)}`, sz === 64 ? `~${H}` : '0')} }`);
    if (m === 'neg') {
      // As executeArithmetic's neg: the record of 0 - b.
      const e = sz === 64 ? 'const rL = (0 - b) | 0, rH = (0 - bH - (b !== 0 ? 1 : 0)) | 0;' : `const rL = (0 - b)${mask(sz)}, rH = 0;`;
      return c.piece(`{ ${dst.pre} const a = 0, aH = 0, b = ${L}, bH = ${H}; ${e} ${dst.write('rL', 'rH')} /*F*/ }`, { kind: 'sub', size: sz });
    }
    // As executeArithmetic's incDec: CF is kept (KEEPS_PRIOR).
    const dec = m === 'dec';
    // 64 bits: the high half moves only when the low half wraps (integer operations only, as semantics.ts).
    const wide = dec ? 'const rL = (a - 1) | 0, rH = (a === 0 ? aH - 1 : aH) | 0;' : 'const rL = (a + 1) | 0, rH = (rL === 0 ? aH + 1 : aH) | 0;';
    const e = sz === 64 ? wide : `const rL = (a ${dec ? '-' : '+'} 1)${mask(sz)}, rH = 0;`;
    return c.piece(`{ ${dst.pre} const a = ${L}, aH = ${H}; ${e} ${dst.write('rL', 'rH')} /*F*/ }`, { kind: dec ? 'dec' : 'inc', size: sz });
  }
  if (m === 'imul' && (ops.length === 2 || ops.length === 3) && anyReg(x) && (size === 32 || size === 64)) {
    // As executeArithmetic's imulN: the low half of the product (64 bits: its mulLow64); CF/OF recorded (lazily for 64 bits: setImul64).
    const s1 = c.source(ops.length === 3 ? y : x, size), s2 = c.source(ops.length === 3 ? ops[2] : y, size);
    if (s1 === null || s2 === null || s1.pre !== '' && s2.pre !== '') return null;
    let code = `{ ${s1.pre} ${s2.pre} const a = ${s1.v[0]}, aH = ${s1.v[1]}, b = ${s2.v[0]}, bH = ${s2.v[1]}; `;
    if (size === 64) {
      // The low half inline (inlineMultiply.ts: wideMultiply.ts's mulLow64 without the call).
      code += `${lowProduct64('p', 'a', 'aH', 'b', 'bH')} const rL = p0, rH = p1; `;
      code += `${c.setReg(x, 'rL', 'rH')} /*F*/ }`;
    } else {
      code += `const rL = Math.imul(a, b); const ov = a * b !== rL; ${c.setReg(x, 'rL', '0')} /*F*/ }`;
    }
    return c.piece(code, { kind: 'imul', size });
  }
  if (f.family === 'setcc' && ops.length === 1 && anyReg(x)) {
    // As executeControl's setcc: 1 or 0 into the byte register.
    return c.conditional(`{ const v = (/*C*/) ? 1 : 0; ${c.setReg(x, 'v', '0')} }`, f.cc as number);
  }
  if (f.family === 'cmovcc' && ops.length === 2 && anyReg(x) && (size === 32 || size === 64) && x.size === size) {
    // As executeData's cmovcc: the source is read (a load may fault) whatever the condition; a 32-bit destination is zero-extended even when it is false.
    const s = c.source(y, size);
    if (s === null) return null;
    c.reads.push(x.reg);
    return c.conditional(`{ ${s.pre} if (/*C*/) { ${c.setReg(x, s.v[0], s.v[1])} }${size === 32 ? ` else ${hi(x.reg)} = 0;` : ''} }`, f.cc as number);
  }
  if (m === 'bswap' && ops.length === 1 && isReg(x, size) && (size === 32 || size === 64)) {
    // As executeBits' bswap: the bytes of each half reversed (and, for 64 bits, the halves exchanged).
    const swap = (v: string): string => `((((${v}) & 0xff) << 24) | (((${v}) & 0xff00) << 8) | (((${v}) >>> 8) & 0xff00) | ((${v}) >>> 24))`;
    const [L, H] = c.reg(x);
    return c.piece(size === 64 ? `{ const vl = ${L}, vh = ${H}; ${c.setReg(x, swap('vh'), swap('vl'))} }` : `{ ${c.setReg(x, swap(L), '0')} }`);
  }
  if (ops.length !== 2) return null;
  if ((m === 'shl' || m === 'sal' || m === 'shr' || m === 'sar') && isReg(y, 8) && y.reg === 1 && isReg(x, size) && (size === 32 || size === 64)) {
    // As executeLogic's shift by CL: a count of 0 changes no flags (a 32-bit register is still zero-extended);
    // else the record of setShift. Lazy (FlagKind 'shiftCount'): the count and the shift's record are saved,
    // and the record made where observed is the shift's or, for a count of 0, the one before it.
    const r = x.reg, L = lo(r), H = hi(r);
    c.reads.push(1, r); c.writes.push(r);
    let code: string;
    if (size === 32) {
      if (m === 'shr') code = `cf = (${L} >>> (n - 1)) & 1; rL = (${L} >>> n) | 0; of = n === 1 ? ${L} >>> 31 : 0;`;
      else if (m === 'sar') code = `cf = (${L} >> (n - 1)) & 1; rL = ${L} >> n; of = 0;`;
      else code = `cf = (${L} >>> (32 - n)) & 1; rL = ${L} << n; of = (rL >>> 31) ^ cf;`;
    } else if (m === 'shl' || m === 'sal') {
      code = `const k = 64 - n; cf = k < 32 ? (${L} >>> k) & 1 : (${H} >>> (k - 32)) & 1; ` +
        `if (n < 32) { rH = (${H} << n) | (${L} >>> (32 - n)); rL = ${L} << n; } else { rH = ${L} << (n - 32); rL = 0; } of = (rH >>> 31) ^ cf;`;
    } else {
      const sar = m === 'sar';
      code = `const k = n - 1; cf = k < 32 ? (${L} >>> k) & 1 : (${H} >>> (k - 32)) & 1; ` +
        `if (n < 32) { rL = (${L} >>> n) | (${H} << (32 - n)); rH = ${sar ? `${H} >> n` : `(${H} >>> n) | 0`}; } ` +
        `else { rL = ${sar ? `${H} >> (n - 32)` : `(${H} >>> (n - 32)) | 0`}; rH = ${sar ? `${H} >> 31` : '0'}; } ` +
        `of = ${sar ? '0' : `n > 1 ? 0 : ${H} >>> 31`};`;
    }
    return c.piece(`{ const n = l1 & ${size === 64 ? 63 : 31}; let cf = 0, of = 0, rL = 0, rH = 0; if (n !== 0) { ${code} ` +
      `${L} = rL; ${H} = rH; }${size === 32 ? ` else ${H} = 0;` : ''} /*F*/ }`, { kind: 'shiftCount', size });
  }
  if ((m === 'shl' || m === 'sal' || m === 'shr' || m === 'sar') && y.type === 'imm' && (isReg(x, size) || x.type === 'mem') && (size === 32 || size === 64)) {
    // As executeFast.ts's shift32/shift64 with the count fixed (0: the interpreter's); a memory operand is read-modify-write.
    const n = y.lo & (size === 64 ? 63 : 31);
    if (n === 0) return null;
    const dst = destination(c, x, size);
    if (dst === null) return null;
    const [L, H] = dst.v;
    let code: string;
    if (size === 32) {
      if (m === 'shr') code = `const cf = (${L} >>> ${n - 1}) & 1; const rL = ${L} >>> ${n}; const of = ${n === 1 ? `${L} >>> 31` : '0'};`;
      else if (m === 'sar') code = `const cf = (${L} >> ${n - 1}) & 1; const rL = ${L} >> ${n}; const of = 0;`;
      else code = `const cf = (${L} >>> ${32 - n}) & 1; const rL = ${L} << ${n}; const of = (rL >>> 31) ^ cf;`;
      code += ' const rH = 0;';
    } else if (m === 'shl' || m === 'sal') {
      const k = 64 - n;
      code = `const cf = ${k < 32 ? `(${L} >>> ${k}) & 1` : `(${H} >>> ${k - 32}) & 1`}; `;
      code += n < 32 ? `const rH = (${H} << ${n}) | (${L} >>> ${32 - n}); const rL = ${L} << ${n}; ` : `const rH = ${L} << ${n - 32}; const rL = 0; `;
      code += 'const of = (rH >>> 31) ^ cf;';
    } else {
      const k = n - 1, sar = m === 'sar';
      code = `const cf = ${k < 32 ? `(${L} >>> ${k}) & 1` : `(${H} >>> ${k - 32}) & 1`}; `;
      if (n < 32) code += `const rL = (${L} >>> ${n}) | (${H} << ${32 - n}); const rH = ${sar ? `${H} >> ${n}` : `${H} >>> ${n}`}; `;
      else code += `const rL = ${sar ? `${H} >> ${n - 32}` : `(${H} >>> ${n - 32}) | 0`}; const rH = ${sar ? `${H} >> 31` : '0'}; `;
      code += `const of = ${sar || n > 1 ? '0' : `${H} >>> 31`};`;
    }
    return c.piece(`{ ${dst.pre} ${code} ${dst.write('rL', 'rH')} /*F*/ }`, { kind: 'shift', size });
  }
  if (ALU_OPS.has(m) && (anyReg(x) || x.type === 'mem')) {
    // As executeFast's alu32/alu64 and executeArithmetic's addSub (no carry in): the record of a op b;
    // a memory destination is read-modify-write (translateMemoryOps.ts), except for cmp and test.
    const op = m as AluOp;
    const sz = (x as { size: number }).size;
    if (x.type === 'mem' && y.type === 'mem') return null;
    const sa = destination(c, x, sz), sb = c.source(y, sz);
    if (sa === null || sb === null) return null;
    let e: string;
    if (sz === 64) e = aluExpression(op, 64, '', '', '', '').code;
    else {
      const js = op === 'add' ? '+' : op === 'sub' || op === 'cmp' ? '-' : op === 'and' || op === 'test' ? '&' : op === 'or' ? '|' : '^';
      e = `const rL = (a ${js} b)${mask(sz)}, rH = 0;`;
    }
    const writes = op !== 'cmp' && op !== 'test';
    const code = `{ ${sa.pre} ${sb.pre} const a = ${sa.v[0]}, aH = ${sa.v[1]}, b = ${sb.v[0]}, bH = ${sb.v[1]}; ${e} ${writes ? sa.write('rL', 'rH') : ''} /*F*/ }`;
    const logic = op === 'and' || op === 'or' || op === 'xor' || op === 'test';
    return c.piece(code, { kind: logic ? 'logic' : op === 'add' ? 'add' : 'sub', size: sz });
  }
  if (m === 'lea' && y?.type === 'mem' && isReg(x, size) && (size === 32 || size === 64)) {
    const mem = y as MemOperand;
    if (mem.base === 16 || d.prefixes.addrsize32) return null;
    // The same sum as Cpu.eaRaw, by integer operations (addressSum); 32 bits: its low half.
    if (mem.base >= 0) c.reads.push(mem.base);
    if (mem.index >= 0) c.reads.push(mem.index);
    const e = addressSum('t', mem.base, mem.index, mem.scale, mem.disp);
    const a = x.reg;
    c.writes.push(a);
    return c.piece(size === 64
      ? `{ ${e.code}const rH = ${e.hi}; ${lo(a)} = ${e.lo}; ${hi(a)} = rH; }`
      : `{ ${e.code}${lo(a)} = ${e.lo}; ${hi(a)} = 0; }`);
  }
  return null;
}

/** Does the piece leave the flag record up to date itself (the interpreter's call)? */
function barrier(p: Piece): boolean {
  return p.fallback === true;
}

/**
 * Are the flags after piece k dead: replaced whole (add, sub, logic, a shift by an immediate) by a
 * later piece of the block before anything can observe them? Observers: a condition, an instruction
 * of the interpreter's, a writer that keeps part of the record, a memory access (a fault, or the exit
 * after a store into code, shows the flags), the end of the block (its branch and exits).
 */
function flagsDeadAfter(pieces: Piece[], k: number): boolean {
  for (let j = k + 1; j < pieces.length; j++) {
    const p = pieces[j];
    if (p.fallback === true || p.cc !== undefined || p.memory !== null) return false;
    if (p.flag !== null) return !KEEPS_PRIOR.has(p.flag.kind);
  }
  return false;
}

/**
 * The suffix of writer k's flag locals (qa qA qb qB qr qR qc). The writers that
 * replace the whole record (add, sub, logic, shift) share one set: only the
 * last of them can be pending or read (a later one overwrites the record, and
 * the pending writer is always the last), so one set of locals serves them all,
 * fewer locals live across the whole function. The writers that keep part of the
 * record before them (KEEPS_PRIOR) have their own: a chain needs the record
 * before them too.
 */
function flagLocals(k: number, kind: FlagKind): string {
  return KEEPS_PRIOR.has(kind) ? String(k) : '';
}

/** The JS that saves writer k's flag inputs into its q locals (at its marker). */
function saveFlags(k: number, kind: FlagKind, size: number): string {
  const j = flagLocals(k, kind);
  switch (kind) {
    case 'logic': return `qr${j} = rL; qR${j} = rH;`;
    case 'shift': return `qr${j} = rL; qR${j} = rH; qc${j} = (cf ? ${CF} : 0) | (of ? ${OF} : 0);`;
    case 'shiftCount': return `qn${j} = n; qr${j} = rL; qR${j} = rH; qc${j} = (cf ? ${CF} : 0) | (of ? ${OF} : 0);`;
    case 'rolCount': case 'rorCount': return `qn${j} = n; qr${j} = r0; qR${j} = r1;`;
    case 'imul': return size === 64 ? `qa${j} = a; qA${j} = aH; qb${j} = b; qB${j} = bH;` : `qc${j} = ov;`;
    case 'mul': return `qc${j} = ov;`;
    case 'inc': case 'dec': return `qa${j} = a; qA${j} = aH; qr${j} = rL; qR${j} = rH;`;
    case 'div': return '';
    case 'scan': return `qr${j} = i;`;
    case 'tzcnt': case 'lzcnt': case 'popcnt': return `qr${j} = n;`;
    case 'rol': case 'ror': return `qr${j} = RT[0]; qR${j} = RT[1];`;
    default: return `qa${j} = a; qA${j} = aH; qb${j} = b; qB${j} = bH; qr${j} = rL; qR${j} = rH;`;
  }
}

/** The interpreter's Flags call that writer k makes, from its q locals (int32: the record gets them as uint32, as the interpreter's). */
function recordFlags(k: number, kind: FlagKind, size: number): string {
  const j = flagLocals(k, kind);
  const [qa, qA, qb, qB, qr, qR] = ['qa', 'qA', 'qb', 'qB', 'qr', 'qR'].map((q) => `${q}${j} >>> 0`);
  switch (kind) {
    case 'logic': return `F.setLogic(${size}, ${qr}, ${qR});`;
    case 'shift': return `F.setShift(${size}, ${qr}, ${qR}, qc${j});`;
    case 'imul': return size === 64 ? `F.setImul64(${qa}, ${qA}, ${qb}, ${qB});` : `F.setMul(qc${j});`;
    case 'mul': return `F.setMul(qc${j});`;
    case 'inc': case 'dec': return `F.keepCarry(); F.set(${kind === 'dec' ? LAZY_DEC : LAZY_INC}, ${size}, ${qa}, ${qA}, 1, 0, ${qr}, ${qR}, 0);`;
    case 'div': return 'H.divideFlags(F);';
    case 'scan': return `H.bitScanFlags(F, qr${j});`;
    case 'tzcnt': case 'lzcnt': case 'popcnt': return `H.countFlags(F, '${kind}', qr${j}, ${size});`;
    case 'rol': case 'ror': return `H.rotateFlags(F, qr${j}, qR${j}, ${size}, ${kind === 'rol'});`;
    case 'shiftCount': return `F.setShift(${size}, ${qr}, ${qR}, qc${j});`;
    case 'rolCount': case 'rorCount': return `if (qn${j} !== 0) H.rotateFlags(F, qr${j}, qR${j}, ${size}, ${kind === 'rolCount'});`;
    default: return `F.set(${kind === 'add' ? LAZY_ADD : LAZY_SUB}, ${size}, ${qa}, ${qA}, ${qb}, ${qB}, ${qr}, ${qR}, 0);`;
  }
}

/**
 * Condition cc (jcc's low nibble) as a JS boolean from writer k's q locals,
 * as Flags.condition would compute it from the record; null when the writer
 * does not define the flags it needs from its own inputs (inc/dec's CF, the
 * multiplies, and the writers through H).
 */
function inlineCondition(k: number, kind: FlagKind, size: number, cc: number): string | null {
  const j = flagLocals(k, kind);
  const a = `qa${j}`, A = `qA${j}`, b = `qb${j}`, B = `qB${j}`, r = `qr${j}`, R = `qR${j}`;
  const w = size === 64;
  const sign = (lx: string, hx: string): string => (w ? `(${hx}) < 0` : size === 32 ? `(${lx}) < 0` : `((${lx}) & ${1 << (size - 1)}) !== 0`);
  // Unsigned order of the int32 locals (8/16 bits: they are masked, non-negative).
  const lt = (x: string, y: string): string => (size >= 32 ? below(x, y) : `${x} < ${y}`);
  const le = (x: string, y: string): string => (size >= 32 ? belowOrEqual(x, y) : `${x} <= ${y}`);
  if (kind !== 'add' && kind !== 'sub' && kind !== 'logic' && kind !== 'shift' && kind !== 'inc' && kind !== 'dec') return null;
  const zf = w ? `(${r} | ${R}) === 0` : `${r} === 0`;
  const sf = sign(r, R);
  const pf = `parity(${r}) !== 0`;
  let cf: string | null, of: string;
  switch (kind) {
    case 'logic': cf = 'false'; of = 'false'; break;
    case 'shift': cf = `(qc${j} & ${CF}) !== 0`; of = `(qc${j} & ${OF}) !== 0`; break;
    case 'add': cf = w ? `(${lt(R, A)} || (${R} === ${A} && ${lt(r, a)}))` : lt(r, a); of = sign(`(${a} ^ ${r}) & (${b} ^ ${r})`, `(${A} ^ ${R}) & (${B} ^ ${R})`); break;
    case 'sub': cf = w ? `(${lt(A, B)} || (${A} === ${B} && ${lt(a, b)}))` : lt(a, b); of = sign(`(${a} ^ ${b}) & (${a} ^ ${r})`, `(${A} ^ ${B}) & (${A} ^ ${R})`); break;
    case 'inc': cf = null; of = sign(`(${a} ^ ${r}) & (1 ^ ${r})`, `(${A} ^ ${R}) & ${R}`); break;
    default: cf = null; of = sign(`(${a} ^ 1) & (${a} ^ ${r})`, `${A} & (${A} ^ ${R})`);
  }
  let e: string | null;
  const sub = kind === 'sub' && size >= 32;
  switch (cc >> 1) {
    case 0: e = of; break;
    case 1: e = cf; break;
    case 2: e = zf; break;
    case 3: e = sub ? (w ? `(${lt(A, B)} || (${A} === ${B} && ${le(a, b)}))` : le(a, b)) : cf === null ? null : `(${cf} || ${zf})`; break;
    case 4: e = sf; break;
    case 5: e = pf; break;
    case 6: e = sub ? (w ? `(${A} < ${B} || (${A} === ${B} && ${lt(a, b)}))` : `${a} < ${b}`) : `(${sf}) !== (${of})`; break;
    default: e = sub ? (w ? `(${A} < ${B} || (${A} === ${B} && ${le(a, b)}))` : `${a} <= ${b}`) : `(${zf} || (${sf}) !== (${of}))`;
  }
  if (e === null) return null;
  return (cc & 1) === 0 ? `(${e})` : `!(${e})`;
}

/**
 * Instructions of the interpreter's whose general registers are their register
 * operands, the base and index of their memory operand, and these implicit
 * ones (RAX, RDX for the one-operand multiply and divide and the converts;
 * RAX for cmpxchg). A translation writes back before such a call, and reloads
 * after it, only those registers; for any other instruction, all of them.
 */
const IMPLICIT_REGISTERS = new Map<string, number[]>([
  ...['mul', 'imul', 'div', 'idiv', 'cwd', 'cdq', 'cqo'].map((m): [string, number[]] => [m, [0, 2]]),
  ...['cbw', 'cwde', 'cdqe', 'cmpxchg'].map((m): [string, number[]] => [m, [0]]),
  ...['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test', 'not', 'neg', 'inc', 'dec', 'mov', 'movzx', 'movsx', 'movsxd',
    'lea', 'xchg', 'xadd', 'shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd', 'bt', 'bts', 'btr', 'btc',
    'bsf', 'bsr', 'bswap', 'tzcnt', 'lzcnt', 'popcnt', 'nop'].map((m): [string, number[]] => [m, []]),
]);
const EXPLICIT_FAMILIES = new Set(['setcc', 'cmovcc']);

/** The general registers an instruction of the interpreter's may read or write (see IMPLICIT_REGISTERS); null: any. */
export function fallbackRegisters(d: Decoded): number[] | null {
  const f = d.form;
  if (f === null) return null;
  const implicit = IMPLICIT_REGISTERS.get(f.mnemonic) ?? (EXPLICIT_FAMILIES.has(f.family) ? [] : undefined);
  if (implicit === undefined) return null;
  const set = new Set(implicit);
  for (const o of d.operands) {
    if (o.type === 'reg') set.add(o.reg);
    else if (o.type === 'mem') {
      if (o.base >= 0 && o.base < 16) set.add(o.base);
      if (o.index >= 0) set.add(o.index);
    } else if (o.type !== 'imm') return null;
  }
  return [...set];
}

/** A straight instruction outside the subset: the interpreter's execute function, called from the translation. */
const FALLBACK: Piece = { code: '', reads: [], writes: [], flag: null, memory: null, fallback: true };

/** One block of a region: its instructions and its first one's offset from the region's entry (same page). */
export interface RegionBlock {
  entries: CacheEntry[];
  rel: number;
  /** Offsets (from the entry) of the region's blocks that execution went to after it, for an exit through an instruction of the interpreter's. */
  successors: number[];
}

/** Blocks in a region at most, and instructions (also the longest block: blocks.ts MAX_BLOCK). */
export const MAX_REGION_BLOCKS = 8;
export const MAX_REGION_INSTRUCTIONS = MAX_BLOCK;

/** The source for one block alone (a region of one). Exported for the docs and tests. */
export function jitSource(entries: CacheEntry[]): string | null {
  return regionSource([{ entries, rel: 0, successors: [] }]);
}

/** After these instructions of the interpreter's, the region may go on (they change neither paging nor CPL). */
const CONTINUE_AFTER = new Set(['call', 'ret', 'jmp']);

/**
 * The JavaScript source for a region: the blocks of one physical page that
 * execution went through from its entry block (regions[0]), compiled into one
 * function that keeps the guest registers in locals across the jumps between
 * them (direct chaining: a jump to a block of the region is a `continue` to
 * its case). The function may be entered at any of the blocks: it finds which
 * from the entry's offset in the page (`page0`: that of regions[0]). Null if
 * it has nothing for the JIT. Instructions outside the
 * subset call the interpreter's execute function `x<g>(cpu, d<g>)` (the block
 * tier's call, registers written back before and reloaded after).
 */
export function regionSource(region: RegionBlock[], page0 = 0): string | null {
  interface Info {
    entries: CacheEntry[]; rel: number; offsets: number[]; end: number; n: number; body: number; base: number;
    branch: 'jcc' | 'jmp' | 'call' | 'ret' | 'other' | null; pieces: Piece[]; successors: number[];
  }
  const blocks: Info[] = [];
  let base = 0, translated = 0;
  for (const rb of region) {
    const entries = rb.entries;
    const n = entries.length;
    const offsets: number[] = [];
    let off = 0;
    for (const e of entries) { offsets.push(off); off += e.length; }
    const last = entries[n - 1].d;
    const lf = last.form;
    // The way out: a jcc or jmp with a rel target, a straight instruction, or any other (the interpreter's).
    let branch: Info['branch'] = null;
    if (lf !== null && last.operands[0]?.type === 'rel' && (lf.family === 'jcc' || lf.mnemonic === 'jmp')) branch = lf.family === 'jcc' ? 'jcc' : 'jmp';
    else if (lf !== null && lf.mnemonic === 'call' && last.operands[0]?.type === 'rel' && last.opsize === 64) branch = 'call';
    else if (lf !== null && lf.mnemonic === 'ret' && last.opsize === 64 && (last.operands.length === 0 || last.operands[0].type === 'imm')) branch = 'ret';
    else if (!entries[n - 1].straight) branch = 'other';
    const body = branch === null ? n : n - 1;
    const pieces: Piece[] = [];
    for (let k = 0; k < body; k++) {
      const p = entries[k].straight ? piece(entries[k].d, rb.rel + offsets[k] + entries[k].length) : null;
      if (p !== null) translated++;
      pieces.push(p ?? FALLBACK);
    }
    // A writer whose flags nothing can observe records nothing (no saved inputs, no Flags call). From the
    // last: a dead writer that keeps part of the record before it does not keep that record alive.
    for (let k = body - 1; k >= 0; k--) {
      if (pieces[k].flag !== null && flagsDeadAfter(pieces, k)) pieces[k] = { ...pieces[k], flag: null };
    }
    if (branch !== null && branch !== 'other') translated++;
    blocks.push({ entries, rel: rb.rel, offsets, end: off, n, body, base, branch, pieces, successors: rb.successors });
    base += n;
  }
  if (translated === 0) return null;
  const byRel = new Map<number, number>();
  blocks.forEach((b, i) => byRel.set(b.rel, i));

  // Flags. Each writer (global index g) saves its inputs in locals q*g; the
  // interpreter's Flags record is made only where it can be observed: before an
  // instruction of the interpreter's, and at each exit (a fault, a store into
  // code, leaving the region), for the last writer before that point — with,
  // for inc/dec/imul, the writer before it first (they keep part of its record).
  // Across the blocks of a region, `pw` names the writer whose record is
  // pending (-1: cpu.flags is up to date). A jcc computes its condition from
  // its block's writer's locals when the writer defines those flags.
  const needQ = new Set<number>();
  const pwIds = new Set<number>();
  const writerBefore = (b: Info, p: number): number => {
    for (let j = p - 1; j >= 0; j--) if (b.pieces[j].flag !== null || barrier(b.pieces[j])) return j;
    return -1;
  };
  const reachesStart = (b: Info, j: number): boolean => {
    if (j < 0) return true;
    const p = b.pieces[j];
    if (barrier(p)) return false;
    return KEEPS_PRIOR.has((p.flag as NonNullable<Piece['flag']>).kind) ? reachesStart(b, writerBefore(b, j)) : false;
  };
  const chain = (b: Info, j: number): string => {
    if (j < 0) return '/*PW*/';
    const p = b.pieces[j];
    if (barrier(p)) return '';
    const fl = p.flag as NonNullable<Piece['flag']>;
    const g = b.base + j;
    needQ.add(g);
    // A shift by CL: its own record, or for a count of 0 the one before it.
    if (fl.kind === 'shiftCount') return `if (qn${g} !== 0) { ${recordFlags(g, fl.kind, fl.size)} } else { ${chain(b, writerBefore(b, j))} }`;
    return (KEEPS_PRIOR.has(fl.kind) ? chain(b, writerBefore(b, j)) : '') + recordFlags(g, fl.kind, fl.size);
  };
  /** JS that makes cpu.flags what the interpreter's would be just before instruction p of block b. */
  const sync = (b: Info, p: number): string => chain(b, writerBefore(b, p));
  const pwChains = new Map<number, string>();

  const used = new Set<number>(), written = new Set<number>();
  for (const b of blocks) for (const p of b.pieces) { p.reads.forEach((r) => used.add(r)); p.writes.forEach((r) => { used.add(r); written.add(r); }); }
  // call and ret move RSP.
  if (blocks.some((b) => b.branch === 'call' || b.branch === 'ret')) { used.add(4); written.add(4); }
  const regs = [...used].sort((p, q) => p - q);
  const writeBack = [...written].sort((p, q) => p - q).map((r) => `R[${2 * r}] = ${lo(r)}; R[${2 * r + 1}] = ${hi(r)};`).join(' ');
  const reload = regs.map((r) => `${lo(r)} = R[${2 * r}] | 0; ${hi(r)} = R[${2 * r + 1}] | 0;`).join(' ');
  const store = (rs: number[]): string => rs.map((r) => `R[${2 * r}] = ${lo(r)}; R[${2 * r + 1}] = ${hi(r)};`).join(' ');
  /** For a straight instruction of the interpreter's: the registers written back before it, reloaded after it, and the rest. */
  const around = (e: CacheEntry): { before: string; after: string; rest: string } => {
    const touched = fallbackRegisters(e.d);
    if (touched === null) return { before: writeBack, after: reload, rest: '' };
    const set = new Set(touched);
    const w = [...written].sort((p, q) => p - q);
    return {
      before: store(w.filter((r) => set.has(r))),
      after: regs.filter((r) => set.has(r)).map((r) => `${lo(r)} = R[${2 * r}] | 0; ${hi(r)} = R[${2 * r + 1}] | 0;`).join(' '),
      rest: store(w.filter((r) => !set.has(r))),
    };
  };
  // Every exit that leaves registers in locals goes through one epilogue after the loop (the pending
  // writer's record, then exit xf's own, the registers, the count): `break out` with xc, xr, xa set.
  const exitFlags: string[] = [];
  const exit = (count: string, rip: string, at: string, flags: string): string => {
    let xf = -1;
    const own = flags.replaceAll('/*PW*/', '');
    if (own !== '') { xf = exitFlags.length; exitFlags.push(own); }
    // A chain without the marker starts with a writer that replaces the whole record: the pending one is dead
    // (and its shared flag locals may hold that writer's inputs now).
    const dead = own !== '' && !flags.includes('/*PW*/') ? 'pw = -1; ' : '';
    return `{ ${dead}xf = ${xf}; xc = ${count}; xa = ${at}; xr = ${rip}; break out; }`;
  };
  const addr = (b: Info, k: number): string => `s + ${b.rel + b.offsets[k]}`;
  const after = (b: Info, k: number): string => `s + ${b.rel + b.offsets[k] + b.entries[k].length}`;
  // The interpreter's execute function for instruction k, as the block tier calls it.
  const call = (b: Info, k: number, stored = writeBack): string =>
    `${sync(b, k)} ${stored} cpu.instructionCount = ic + ${k}; cpu.instructionStart = ${addr(b, k)}; cpu.rip = ${after(b, k)}; x${b.base + k}(cpu, d${b.base + k}); /*MC*/`;
  /** Go on in the region's block at `rel` if the target is it and it fits before the limit. */
  const jumpTo = (rel: number): string => {
    const j = byRel.get(rel);
    return j === undefined ? '' : `if (next === s + ${rel} && ic + ${blocks[j].n} <= limit) { bi = ${j}; continue out; }`;
  };
  // Where a jcc, jmp or straight block goes on: its targets inside the region.
  const targetsOf = (b: Info): number[] => {
    if (b.branch !== 'jcc' && b.branch !== 'jmp' && b.branch !== null) return [];
    const last = b.entries[b.n - 1].d, fallRel = b.rel + b.end;
    if (b.branch === null) return [fallRel];
    const jumpRel = fallRel + (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp;
    return b.branch === 'jcc' ? [jumpRel, fallRel] : [jumpRel];
  };
  // A block of a larger region that branches back to itself is a loop of its own inside its case.
  const ownLoop = (b: Info): boolean => blocks.length > 1 && targetsOf(b).includes(b.rel);
  /**
   * The end of block i: go on in the region's block at one of `rels` (as jumpTo), else `leave`. Two
   * targets avoid the round through the region's loop head and switch (where V8 merges every live local,
   * a parallel move of all of them at each `continue out`): block i + 1, by falling through into its
   * case, and block i itself when it is its own loop (ownLoop).
   */
  const goOn = (i: number, rels: number[], leave: string): string => {
    const b = blocks[i], follower = blocks[i + 1];
    const loops = ownLoop(b);
    const k = follower === undefined ? -1 : rels.indexOf(follower.rel);
    const others = rels.filter((r, j) => j !== k && !(loops && r === b.rel)).map(jumpTo).filter((x) => x).join(' ');
    const fits = (f: Info): string => `next === s + ${f.rel} && ic + ${f.n} <= limit`;
    if (loops) return [`if (${fits(b)}) continue;`, k < 0 ? '' : `if (${fits(follower)}) break;`, others, leave].join('\n');
    if (k < 0) return `${others}\n${leave}`;
    return `if (!(${fits(follower)})) { ${others} ${leave} }`;
  };

  const lines: string[] = [];
  // The catch's cases: instructions that need the same JS there share one case.
  const catchCases = new Map<string, number[]>();
  const catchCase = (g: number, body: string): void => {
    const ids = catchCases.get(body);
    if (ids === undefined) catchCases.set(body, [g]); else ids.push(g);
  };
  let faults = false, memory = false;
  blocks.forEach((b, i) => {
    const { pieces, n } = b;
    lines.push(`case ${i}: ${ownLoop(b) ? 'for (;;) ' : ''}{ // block at +${b.rel}`);
    pieces.forEach((p, k) => {
      const e = b.entries[k];
      lines.push(`// ${b.base + k}: ${e.d.form?.mnemonic ?? '(bad)'} (+${b.rel + b.offsets[k]})${p.fallback ? ' interpreter' : ''}`);
      if (p.memory !== null || p.fallback) { lines.push(`at = ${b.base + k};`); faults = true; }
      if (p.memory !== null) memory = true;
      if (p.fallback) {
        // Only the registers it may touch go through R (the others stay in locals: written back on a fault or exit).
        const io = around(e);
        lines.push(call(b, k, io.before), 'pw = -1;');
        lines.push(`if (cpu.interruptCheck) { ${io.rest} cpu.instructionCount = ic + ${k + 1}; return 0; }`);
        if (io.after) lines.push(io.after);
        if (io.rest) catchCase(b.base + k, io.rest);
        return;
      }
      let code = p.code.replace('/*F*/', p.flag !== null ? `/*F${b.base + k}*/` : '');
      if (p.cc !== undefined) {
        // The condition from the writer's locals when it defines the flags it needs, else from the record.
        const w = writerBefore(b, k);
        const fl = w >= 0 && !barrier(pieces[w]) ? pieces[w].flag as NonNullable<Piece['flag']> : null;
        const cond = fl !== null ? inlineCondition(b.base + w, fl.kind, fl.size, p.cc) : null;
        if (cond !== null) { needQ.add(b.base + w); code = code.replace('/*C*/', cond); }
        else code = `${sync(b, k)} ${code.replace('/*C*/', `F.condition(${p.cc})`)}`;
      }
      lines.push(code);
      if (p.memory === 'store') lines.push(`if (cpu.interruptCheck) ${exit(`ic + ${k + 1}`, after(b, k), addr(b, k), sync(b, k + 1))}`);
    });
    const last = b.entries[n - 1].d, lf = last.form;
    const lastAt = addr(b, n - 1);
    if (b.branch === 'other') {
      // The last instruction is the interpreter's (call, ret, an indirect jump...): it sets RIP.
      faults = true;
      lines.push(`// ${b.base + n - 1}: ${lf?.mnemonic ?? '(bad)'} (+${b.rel + b.offsets[n - 1]}) interpreter`, `at = ${b.base + n - 1};`, call(b, n - 1));
      lines.push(`ic += ${n};`, `if (cpu.interruptCheck || cpu.halted) { cpu.instructionCount = ic; return 0; }`);
      const go = CONTINUE_AFTER.has(lf?.mnemonic ?? '') ? b.successors.map(jumpTo).filter((x) => x).join(' ') : '';
      if (go) lines.push(`{ const next = cpu.rip; pw = -1; ${reload} ${go} }`);
      lines.push('cpu.instructionCount = ic; return 0;');
      lines.push('}');
      return;
    }
    // The pending writer after this block.
    const wEnd = writerBefore(b, b.body);
    let cond: string | null = null;
    if (b.branch === 'jcc' && wEnd >= 0 && !barrier(pieces[wEnd])) {
      const fl = pieces[wEnd].flag as NonNullable<Piece['flag']>;
      cond = inlineCondition(b.base + wEnd, fl.kind, fl.size, lf?.cc as number);
      if (cond !== null) needQ.add(b.base + wEnd);
    }
    let pwUpdate = '';
    if (b.branch === 'jcc' && cond === null) pwUpdate = 'pw = -1;'; // synced for Flags.condition below
    else if (wEnd >= 0) {
      if (barrier(pieces[wEnd])) pwUpdate = 'pw = -1;';
      else if (reachesStart(b, wEnd)) pwUpdate = `${sync(b, b.body)} pw = -1;`;
      else {
        const g = b.base + wEnd;
        pwIds.add(g);
        if (!pwChains.has(g)) pwChains.set(g, sync(b, b.body));
        pwUpdate = `pw = ${g};`;
      }
    }
    const endExit = (count: string, rip: string, at: string): string => exit(count, rip, at, '/*PW*/');
    if (b.branch === 'call' || b.branch === 'ret') {
      // As executeControl's call rel / ret [imm16]: the stack access may fault (the catch makes the state
      // what it was before the instruction); a store into code leaves right after the call.
      faults = true; memory = true;
      const g = b.base + n - 1, fallRel = b.rel + b.end;
      const mem = new Ops(last, 0);
      mem.stack();
      lines.push(`// ${g}: ${lf?.mnemonic} (+${b.rel + b.offsets[n - 1]})`, `at = ${g};`, pwUpdate);
      catchCase(g, `${sync(b, n - 1)} ${writeBack}`);
      if (b.branch === 'call') {
        const jumpRel = fallRel + (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp;
        lines.push(`const next = s + ${jumpRel};`);
        // A non-canonical target: stop before the call; the interpreter raises the #GP.
        lines.push(`if (next < -${LIMIT} || next >= ${LIMIT}) ${endExit(`ic + ${n - 1}`, lastAt, n > 1 ? addr(b, n - 2) : lastAt)}`);
        lines.push(`{ const A = ${linear('l4', 'h4')} - 8; ` +
          `const r = s + ${fallRel}; const vl = r | 0, vh = Math.floor(r / 4294967296) | 0; ${mem.store(64, 'vl', 'vh')} ` +
          `${moveRsp(-8)} }`);
        lines.push(`ic += ${n};`, `if (cpu.interruptCheck) ${endExit('ic', 'next', lastAt)}`, jumpTo(jumpRel));
      } else {
        const extra = last.operands.length ? (last.operands[0] as { lo: number }).lo & 0xffff : 0;
        lines.push(`let next = 0; { const A = ${linear('l4', 'h4')}; ` +
          `${mem.load(64, 'v', 'vH')} if (!canonical(v, vH)) throw new Fault(${GP}, 0, 'non-canonical return address'); next = signedLinear(v, vH); ` +
          `${moveRsp(8 + extra)} }`);
        // The return address predicted: a block of the region that execution returned to before.
        lines.push(`ic += ${n};`, b.successors.map(jumpTo).filter((x) => x).join(' '));
      }
      lines.push(endExit('ic', 'next', lastAt), '}');
      return;
    }
    if (b.branch !== null) {
      const disp = (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp;
      lines.push(`// ${b.base + n - 1}: ${lf?.mnemonic} (+${b.rel + b.offsets[n - 1]})${b.branch === 'jcc' ? (cond !== null ? ' inline condition' : ' Flags.condition') : ''}`);
      const fallRel = b.rel + b.end, jumpRel = b.rel + b.end + disp;
      if (b.branch === 'jcc') {
        if (cond !== null) lines.push(`const next = ${cond} ? s + ${jumpRel} : s + ${fallRel};`);
        else lines.push(`${sync(b, n - 1)} const next = F.condition(${lf?.cc}) ? s + ${jumpRel} : s + ${fallRel};`);
      } else lines.push(`const next = s + ${jumpRel};`);
      lines.push(pwUpdate, `ic += ${n};`);
      // A non-canonical target: stop before the branch (the count back by one); the interpreter raises the
      // #GP. Only on the way out: a block of the region is canonical (its code was fetched there).
      const nonCanonical = `if ((next < -${LIMIT} || next >= ${LIMIT}) && next !== s + ${fallRel}) ${endExit('ic - 1', lastAt, n > 1 ? addr(b, n - 2) : lastAt)}`;
      lines.push(goOn(i, targetsOf(b), `${nonCanonical}\n${endExit('ic', 'next', lastAt)}`));
    } else {
      lines.push(pwUpdate, `ic += ${n};`, `const next = s + ${b.rel + b.end};`, goOn(i, targetsOf(b), endExit('ic', 'next', lastAt)));
    }
    lines.push('}');
  });
  const all: { b: Info; k: number }[] = [];
  for (const b of blocks) for (let k = 0; k < b.n; k++) all.push({ b, k });
  for (const { b, k } of all) {
    if (k < b.body && b.pieces[k].memory !== null) {
      catchCase(b.base + k, `${sync(b, k)} ${writeBack}`);
    }
  }
  const epilogue = `${exitFlags.length ? `/*PW*/ switch (xf) { ${exitFlags.map((f, i) => `case ${i}: { ${f} break; }`).join(' ')} }` : '/*PW*/'} ` +
    `${writeBack} /*SC*/ cpu.instructionCount = xc; cpu.instructionStart = xa; cpu.rip = xr; return 0;`;
  // One block: its case's body alone (no switch).
  const cases = blocks.length === 1 ? ['{', ...lines.slice(1, -1), '}'] : ['switch (bi) {', ...lines, '}'];
  let text = ['let xf = -1, xc = 0, xa = 0, xr = 0;', faults ? 'let at = 0;\ntry {' : '', 'out: for (;;) {', ...cases, '}', epilogue].join('\n');
  if (faults) {
    // A fault: registers, flags, the count and instructionStart as before the faulting instruction,
    // and cpu.jitFault its entry (runSlice's catch sets RIP to it). An instruction of the
    // interpreter's faults with registers and flags already as it leaves them.
    text += `\n} catch (e) { switch (at) { ${[...catchCases].map(([body, ids]) => `${ids.map((g) => `case ${g}:`).join(' ')} { ${body} break; }`).join(' ')} } cpu.instructionCount = ic + K[at]; cpu.instructionStart = s + REL[at]; cpu.jitFault = E[at]; throw e; }`;
  }
  // The pending writer's record, wherever the flags must be made up to date.
  const pwSwitch = pwIds.size === 0 ? '' : `switch (pw) { ${[...pwIds].map((g) => `case ${g}: { ${pwChains.get(g)} break; }`).join(' ')} }`;
  text = text.replaceAll('/*PW*/', pwSwitch);
  const caches = probeCaches(text);
  text = caches.text;
  // The flag locals: declared for the writers something reads, saved at each writer's marker.
  const q = new Set<string>();
  for (const b of blocks) {
    b.pieces.forEach((p, k) => {
      const g = b.base + k;
      if (!needQ.has(g) || p.flag === null) return;
      const save = saveFlags(g, p.flag.kind, p.flag.size);
      for (const m of save.matchAll(/(q[a-zA-Z]\d*) =/g)) q.add(`${m[1]} = 0`);
      text = text.replace(`/*F${g}*/`, save);
    });
  }
  text = text.replace(/\/\*F\d+\*\//g, '');
  // Entered at any of its blocks (the block tier hangs the function on each): which one, from the offset
  // in the page, and s made the entry block's address — by one subtraction that every entry runs: a
  // `s -= rel` of its own in each case had no type feedback when V8 optimized the function before that
  // entry was taken, so taking it deoptimized the function, which could then stay in baseline code (and
  // OSR), where every uint32 above 2^31 is a new heap number (on the bench, the bits() loop: 13% of the time).
  let head = 'let bi = 0;';
  if (blocks.length > 1) {
    head += ` let entryRel = 0; switch (s & 4095) { ${blocks.slice(1).map((b, i) => `case ${(page0 + b.rel) & 4095}: bi = ${i + 1}; entryRel = ${b.rel}; break;`).join(' ')} } s -= entryRel;`;
  }
  head += '\nconst R = cpu.regs, F = cpu.flags;';
  if (regs.length) head += `\nlet ${regs.map((r) => `${lo(r)} = R[${2 * r}] | 0, ${hi(r)} = R[${2 * r + 1}] | 0`).join(', ')};`;
  head += '\nlet ic = cpu.instructionCount, pw = -1;';
  if (q.size) head += `\nlet ${[...q].join(', ')};`;
  if (memory) {
    // The data TLB as Cpu.translateRead/translateWrite see it (checked once: nothing in a region changes the
    // paging or CPL); with a data breakpoint's wrappers installed, every access takes the slow path.
    // (The tables and memory views themselves are the CPU's for good: compileJit passes them in, RTAG... CODE.)
    head += '\ncpu.checkDataTlb(); const RT = cpu.readMem === RM ? RTAG : NOTAG, WT = cpu.writeMem === WM ? WTAG : NOTAG, cpl = cpu.cpl;';
    if (caches.declare) head += `\n${caches.declare}`;
  }
  const consts = `const K = [${all.map(({ k }) => k).join(', ')}], REL = [${all.map(({ b, k }) => b.rel + b.offsets[k]).join(', ')}];`;
  const outer = (faults ? consts + '\n' : '') + (memory && caches.outer ? caches.outer + '\n' : '');
  // The function in parentheses: V8 then compiles it at once in new Function (without
  // them it pre-parses the function, then parses it again in full at its first call).
  return `${outer}return (function jit(cpu, s, limit) {\n${head}\n${text}\n});`;
}

/** A data TLB that never hits (the slow path for every access). */
const NOTAG = new Float64Array(64).fill(NaN);

let serial = 0;

/**
 * Compile the region that starts with block `b` at linear `start`: b, then the
 * blocks of the same page that execution went to from it (the block tier's
 * links, breadth first, at most MAX_REGION_BLOCKS), none at an address the
 * host-call filter marks. The translation becomes the `run` of each of these
 * blocks (it finds its entry from the address). Null: the block tier keeps b.
 */
export function compileJit(cpu: Cpu, b: Block, start: number, filter: Uint16Array, maxBlocks = MAX_REGION_BLOCKS): JitRun | null {
  const t0 = performance.now();
  const page0 = start & 0xfff;
  const found: { block: Block; off: number }[] = [{ block: b, off: page0 }];
  const seen = new Set<number>([page0]);
  let count = b.entries.length;
  for (let i = 0; i < found.length; i++) {
    const x = found[i].block;
    for (const [o, nb] of [[x.fallOffset, x.fall], [x.jumpOffset, x.jump]] as [number, Block | null][]) {
      if (o < 0 || nb === null || seen.has(o) || nb.hostVersion !== b.hostVersion || filter[o] !== 0) continue;
      if (found.length >= Math.min(maxBlocks, MAX_REGION_BLOCKS) || count + nb.entries.length > MAX_REGION_INSTRUCTIONS) continue;
      seen.add(o);
      found.push({ block: nb, off: o });
      count += nb.entries.length;
    }
  }
  // Keep the blocks from which execution can come back to the entry inside the region (a loop):
  // the others would only add exits and a longer prologue.
  const index = new Map(found.map((f, i) => [f.off, i]));
  const back = new Set<number>([0]);
  for (let changed = true; changed;) {
    changed = false;
    found.forEach((f, i) => {
      if (back.has(i)) return;
      for (const o of [f.block.fallOffset, f.block.jumpOffset]) {
        const j = index.get(o);
        if (j !== undefined && back.has(j)) { back.add(i); changed = true; return; }
      }
    });
  }
  const kept = found.filter((_, i) => back.has(i));
  seen.clear();
  for (const f of kept) seen.add(f.off);
  const region: RegionBlock[] = kept.map(({ block, off }) => ({
    entries: block.entries,
    rel: off - page0,
    successors: [block.fallOffset, block.jumpOffset].filter((o) => o >= 0 && seen.has(o)).map((o) => o - page0),
  }));
  const text = regionSource(region, page0);
  if (text === null) { jitStats.rejected++; return null; }
  // The plain memory functions (the CPU's own properties are replaced by data-breakpoint wrappers when watching).
  const proto = Object.getPrototypeOf(cpu) as Cpu;
  const names = ['Fault', 'canonical', 'signedLinear', 'parity', 'RM', 'WM', 'NOTAG', 'E'];
  const all = region.flatMap((r) => r.entries);
  const values: unknown[] = [CpuFault, isCanonical, toSignedLinear, parityOf, proto.readMem, proto.writeMem, NOTAG, all];
  names.push('H'); values.push(JIT_HELPERS); // the interpreter's arithmetic (helpers.ts)
  // The CPU's data TLB tables, memory views and code-page marks (read-only fields: the same objects for the CPU's life).
  const m = cpu.memory;
  names.push('RTAG', 'RFr', 'WTAG', 'WFr', 'MV', 'MW', 'MB', 'MS', 'CODE');
  values.push(cpu.readTag, cpu.readFrame, cpu.writeTag, cpu.writeFrame, m.view, m.words, m.bytes, m.size, cpu.decodeCache.codePages);
  all.forEach((e, g) => { names.push(`x${g}`, `d${g}`); values.push(e.exec, e.d); });
  const run = new Function(...names, `// jit ${++serial}\n${text}`)(...values) as JitRun;
  jitStats.compiled++;
  jitStats.blocks += region.length;
  jitStats.sourceBytes += text.length;
  jitStats.compileMs += performance.now() - t0;
  // Every block of the region runs it from now on (entered there, it goes on in the region).
  for (const f of kept) { f.block.run = run; f.block.jitDone = true; f.block.translated = true; }
  return run;
}
