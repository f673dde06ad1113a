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
import { isCanonical, toSignedLinear } from '../address.js';
import { CpuFault, GP, SS } from '../exceptions.js';
import { CF, LAZY_ADD, LAZY_DEC, LAZY_INC, LAZY_SUB, OF } from '../flags.js';
import { aluExpression, ALU_OPS, type AluOp } from './semantics.js';

export type JitRun = (cpu: Cpu, start: number, limit: number) => number;

/** Statistics of the JIT tier (bench/run.ts prints them). */
export const jitStats = { compiled: 0, rejected: 0, sourceBytes: 0, compileMs: 0 };

type Reg = Extract<DecodedOperand, { type: 'reg' }>;
function isReg(o: DecodedOperand | undefined, size: number): o is Reg {
  return o !== undefined && o.type === 'reg' && !o.high8 && o.size === size;
}

const LIMIT = 2 ** 47;

/** One instruction's JS, and what it touches. */
interface Piece {
  code: string;
  reads: number[];
  writes: number[];
  /** The flags record call, if the instruction writes the arithmetic flags (emitted only where observable). */
  flags: string | null;
  /** Reads or writes memory: may fault (an exit before it) and, for a store, may hit code (an exit after it). */
  memory: 'load' | 'store' | null;
  /** inc/dec: its record needs the CF of the record before it. */
  keepsCarry?: boolean;
  /** Not translated: the interpreter's execute function runs it. */
  fallback?: boolean;
}

function lo(r: number): string { return `l${r}`; }
function hi(r: number): string { return `h${r}`; }

/** Translate one straight instruction, or null if it is outside the subset. */
/**
 * The linear address of a base + displacement memory operand, as Cpu.ea's fast
 * path computes it (one double sum, canonical check, #SS for an SS reference).
 * Null for other shapes (an index, fs/gs, 32-bit addressing).
 */
function address(mem: MemOperand, d: Decoded, next: number, reads: number[]): string | null {
  if (mem.segment === 4 || mem.segment === 5 || d.prefixes.addrsize32) return null;
  if (mem.index >= 0) {
    // Cpu.eaRaw's sum (halves as doubles, the low half's carry folded in), then Cpu.ea's checks.
    if (mem.base === 16) return null;
    let sl = `${lo(mem.index)} * ${mem.scale}`, sh = `${hi(mem.index)} * ${mem.scale}`;
    reads.push(mem.index);
    if (mem.base >= 0) { sl = `${lo(mem.base)} + ${sl}`; sh = `${hi(mem.base)} + ${sh}`; reads.push(mem.base); }
    return `const t = ${sl} + ${mem.disp}; const eL = t >>> 0, eH = (${sh} + Math.floor(t / 4294967296)) >>> 0; ` +
      `if (!canonical(eL, eH)) throw new Fault(${mem.segment === 2 ? SS : GP}, 0, 'non-canonical address'); const A = signedLinear(eL, eH);`;
  }
  let a: string;
  if (mem.base === 16) a = `s + ${next + mem.disp}`;
  else if (mem.base >= 0) { a = `(${hi(mem.base)} | 0) * 4294967296 + ${lo(mem.base)} + ${mem.disp}`; reads.push(mem.base); }
  else a = String(mem.disp);
  return `const A = ${a}; if (A < -${LIMIT} || A >= ${LIMIT}) throw new Fault(${mem.segment === 2 ? SS : GP}, 0, 'non-canonical address');`;
}

function piece(d: Decoded, next: number): Piece | null {
  const f = d.form;
  if (f === null || d.prefixes.lock || d.prefixes.rep !== 0) return null;
  const m = f.mnemonic, size = d.opsize;
  if (size !== 32 && size !== 64) return null;
  const [x, y] = d.operands;
  if (m === 'mov' && d.operands.length === 2 && x.type === 'mem' && x.size === size && (isReg(y, size) || y.type === 'imm')) {
    // A store: translation and the code-page check in Cpu.writeMem, the slow path out of line.
    const reads: number[] = [];
    const ea = address(x, d, next, reads);
    if (ea === null) return null;
    let vl: string, vh: string;
    if (y.type === 'imm') { vl = String(y.lo >>> 0); vh = size === 64 ? String(y.hi >>> 0) : '0'; }
    else { vl = lo((y as Reg).reg); vh = size === 64 ? hi((y as Reg).reg) : '0'; reads.push((y as Reg).reg); }
    return { code: `{ ${ea} cpu.writeMem(A, ${size}, ${vl}, ${vh}); }`, reads, writes: [], flags: null, memory: 'store' };
  }
  if (d.operands.length === 0 || !isReg(x, size)) return null;
  if ((m === 'inc' || m === 'dec') && d.operands.length === 1 && isReg(x, size)) {
    // As executeFast.ts's incDec: CF is kept, so the record before is folded in first (keepCarry).
    const r = x.reg, dec = m === 'dec';
    const ah = size === 64 ? hi(r) : '0';
    const code = `{ const a = ${lo(r)}, aH = ${ah}; const t = a ${dec ? '-' : '+'} 1; const rL = t >>> 0, rH = ${size === 64 ? '(aH + Math.floor(t / 4294967296)) >>> 0' : '0'}; ${lo(r)} = rL; ${hi(r)} = rH; /*F*/ }`;
    return { code, reads: [r], writes: [r], flags: `F.keepCarry(); F.set(${dec ? LAZY_DEC : LAZY_INC}, ${size}, a, aH, 1, 0, rL, rH, 0);`, memory: null, keepsCarry: true };
  }
  if (d.operands.length !== 2) return null;
  if ((m === 'shl' || m === 'sal' || m === 'shr' || m === 'sar') && y.type === 'imm') {
    // As executeFast.ts's shift32/shift64 with the count fixed (0: left to the block tier).
    const n = y.lo & (size === 64 ? 63 : 31);
    if (n === 0) return null;
    const r = x.reg, L = lo(r), H = hi(r);
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
    return { code: `{ ${code} ${L} = rL; ${H} = rH; /*F*/ }`, reads: [r], writes: [r], flags: `F.setShift(${size}, rL, rH, (cf ? ${CF} : 0) | (of ? ${OF} : 0));`, memory: null };
  }
  if (m === 'mov' && y.type === 'mem' && y.size === size) {
    const reads: number[] = [];
    const ea = address(y, d, next, reads);
    if (ea === null) return null;
    const code = `{ ${ea} const v = cpu.readMem(A, ${size}); ${lo(x.reg)} = v; ${hi(x.reg)} = ${size === 64 ? 'cpu.hi' : '0'}; }`;
    return { code, reads, writes: [x.reg], flags: null, memory: 'load' };
  }
  const a = x.reg;
  if (ALU_OPS.has(m)) {
    const op = m as AluOp;
    let bl: string, bh: string;
    const reads = [a];
    if (isReg(y, size)) { bl = lo(y.reg); bh = size === 64 ? hi(y.reg) : '0'; reads.push(y.reg); }
    else if (y.type === 'imm') { bl = String(y.lo >>> 0); bh = size === 64 ? String(y.hi >>> 0) : '0'; }
    else return null;
    const ah = size === 64 ? hi(a) : '0';
    const e = aluExpression(op, size, lo(a), ah, bl, bh);
    const writes = op === 'cmp' || op === 'test' ? [] : [a];
    let code = `{ const a = ${lo(a)}, aH = ${ah}, b = ${bl}, bH = ${bh}; ${e.code} `;
    if (writes.length) code += `${lo(a)} = rL; ${hi(a)} = rH; `;
    code += '/*F*/ }';
    const logic = op === 'and' || op === 'or' || op === 'xor' || op === 'test';
    const flags = logic ? `F.setLogic(${size}, rL, rH);` : `F.set(${op === 'add' ? LAZY_ADD : LAZY_SUB}, ${size}, a, aH, b, bH, rL, rH, 0);`;
    return { code, reads, writes: writes, flags, memory: null };
  }
  if (m === 'mov') {
    if (isReg(y, size)) return { code: `${lo(a)} = ${lo(y.reg)}; ${hi(a)} = ${size === 64 ? hi(y.reg) : '0'};`, reads: [y.reg], writes: [a], flags: null, memory: null };
    if (y.type === 'imm') return { code: `${lo(a)} = ${y.lo >>> 0}; ${hi(a)} = ${size === 64 ? y.hi >>> 0 : 0};`, reads: [], writes: [a], flags: null, memory: null };
    return null;
  }
  if (m === 'lea' && y?.type === 'mem') {
    const mem = y as MemOperand;
    if (mem.base === 16 || d.prefixes.addrsize32) return null;
    // The same sum as Cpu.eaRaw: halves added as doubles, the low half's carry folded into the high.
    const reads: number[] = [];
    let sl = '0', sh = '0';
    if (mem.base >= 0) { sl = lo(mem.base); sh = hi(mem.base); reads.push(mem.base); }
    if (mem.index >= 0) { sl += ` + ${lo(mem.index)} * ${mem.scale}`; sh += ` + ${hi(mem.index)} * ${mem.scale}`; reads.push(mem.index); }
    sl += ` + ${mem.disp}`;
    const code = size === 64
      ? `{ const t = ${sl}; const u = ${sh}; ${lo(a)} = t >>> 0; ${hi(a)} = (u + Math.floor(t / 4294967296)) >>> 0; }`
      : `{ const t = ${sl}; ${lo(a)} = t >>> 0; ${hi(a)} = 0; }`;
    return { code, reads, writes: [a], flags: null, memory: null };
  }
  return null;
}

/** A straight instruction outside the subset: the interpreter's execute function, called from the translation. */
const FALLBACK: Piece = { code: '', reads: [], writes: [], flags: '', memory: null, fallback: true };

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
  // Flag liveness: a writer's record can be seen only at an exit before the next
  // writer: a fault of a memory access, the exit after a store into code, an
  // instruction of the interpreter's, the end.
  const live = new Set<number>();
  let writer = -1;
  pieces.forEach((p, k) => {
    if ((p.memory !== null || p.fallback) && writer >= 0) live.add(writer);
    if (p.flags !== null) writer = k;
  });
  if (writer >= 0) live.add(writer);
  // A live inc/dec reads the CF of the writer before it: that one is live too.
  for (let k = pieces.length - 1; k >= 0; k--) {
    if (!live.has(k) || !pieces[k].keepsCarry) continue;
    for (let j = k - 1; j >= 0; j--) if (pieces[j].flags !== null) { live.add(j); break; }
  }
  const faults = pieces.some((p) => p.memory !== null || p.fallback) || branch === 'other';
  const used = new Set<number>(), written = new Set<number>();
  for (const p of pieces) { p.reads.forEach((r) => used.add(r)); p.writes.forEach((r) => { used.add(r); written.add(r); }); }
  const regs = [...used].sort((p, q) => p - q);
  const lines: string[] = [];
  lines.push('const R = cpu.regs, F = cpu.flags;');
  if (regs.length) lines.push(`let ${regs.map((r) => `${lo(r)} = R[${2 * r}], ${hi(r)} = R[${2 * r + 1}]`).join(', ')};`);
  lines.push('let ic = cpu.instructionCount;');
  const writeBack = [...written].sort((p, q) => p - q).map((r) => `R[${2 * r}] = ${lo(r)}; R[${2 * r + 1}] = ${hi(r)};`).join(' ');
  const reload = regs.map((r) => `${lo(r)} = R[${2 * r}]; ${hi(r)} = R[${2 * r + 1}];`).join(' ');
  const exit = (count: string, rip: string, at: number): string =>
    `{ ${writeBack} cpu.instructionCount = ${count}; cpu.instructionStart = s + ${at}; cpu.rip = ${rip}; return 0; }`;
  // The interpreter's execute function for instruction k, as the block tier calls it.
  const call = (k: number): string =>
    `${writeBack} cpu.instructionCount = ic + ${k}; cpu.instructionStart = s + ${offsets[k]}; cpu.rip = s + ${offsets[k] + entries[k].length}; x${k}(cpu, d${k});`;
  // A fault: the registers and the count as before the faulting instruction; runSlice's catch
  // sets RIP to it (it counts the instructions before it itself only when it is not the last).
  // An instruction of the interpreter's faults with the registers already written back (by itself).
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
    lines.push(p.code.replace('/*F*/', live.has(k) ? (p.flags as string) : ''));
    if (p.memory === 'store') lines.push(`if (cpu.interruptCheck) ${exit(`ic + ${k + 1}`, `s + ${offsets[k] + e.length}`, offsets[k])}`);
  });
  const lastAt = offsets[n - 1];
  let loops = false;
  if (branch === 'other') {
    // The last instruction is the interpreter's (call, ret, an indirect jump...): it sets RIP; runSlice counts it.
    lines.push(`// ${n - 1}: ${lf?.mnemonic ?? '(bad)'} (+${lastAt}) interpreter`, `at = ${n - 1};`, call(n - 1), 'return 1;');
  } else if (branch !== null) {
    const disp = (last.operands[0] as Extract<DecodedOperand, { type: 'rel' }>).disp;
    loops = disp === -end;
    lines.push(`// ${n - 1}: ${lf?.mnemonic} (+${lastAt})`);
    const target = `s + ${end + disp}`;
    if (branch === 'jcc') lines.push(`let next = s + ${end}; if (F.condition(${lf?.cc})) next = ${target};`);
    else lines.push(`let next = ${target};`);
    // A non-canonical target: stop before the branch; the interpreter raises the #GP.
    lines.push(`if ((next < -${LIMIT} || next >= ${LIMIT}) && next !== s + ${end}) ${exit(`ic + ${n - 1}`, `s + ${lastAt}`, n > 1 ? offsets[n - 2] : 0)}`);
    lines.push(`ic += ${n};`);
    if (loops) lines.push(`if (next === s && ic + ${n} <= limit) continue;`);
    lines.push(exit('ic', 'next', lastAt));
  } else {
    lines.push(`ic += ${n};`);
    lines.push(exit('ic', `s + ${end}`, lastAt));
  }
  lines.push('}');
  if (faults) {
    const fb = pieces.map((p) => (p.fallback ? 1 : 0));
    if (branch === 'other') fb.push(1);
    lines.push(`} catch (e) { if (![${fb.join(', ')}][at]) { ${writeBack} } cpu.instructionCount = ic + (at === ${n - 1} ? at : 0); cpu.instructionStart = s + [${offsets.join(', ')}][at]; throw e; }`);
  }
  return `return function jit(cpu, s, limit) {\n${lines.join('\n')}\n};`;
}

let serial = 0;

/** Compile the block of `entries`, or null (the block tier keeps it). */
export function compileJit(entries: CacheEntry[]): JitRun | null {
  const t0 = performance.now();
  const text = jitSource(entries);
  if (text === null) { jitStats.rejected++; return null; }
  const names = ['Fault', 'canonical', 'signedLinear'];
  const values: unknown[] = [CpuFault, isCanonical, toSignedLinear];
  entries.forEach((e, k) => { names.push(`x${k}`, `d${k}`); values.push(e.exec, e.d); });
  const run = new Function(...names, `// jit ${++serial}\n${text}`)(...values) as JitRun;
  jitStats.compiled++;
  jitStats.sourceBytes += text.length;
  jitStats.compileMs += performance.now() - t0;
  return run;
}
