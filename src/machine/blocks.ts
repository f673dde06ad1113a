// The block tier of the interpreter: straight-line runs of decoded
// instructions executed by one small generated function each.
//
// The interpreter's loop (Cpu.runSlice) pays for every instruction: find the
// next entry, count it, check for interrupts, and call its execute function
// through one call site that sees hundreds of different functions, so V8 can
// inline none of them. A block is the run of instructions from an entry up to
// and including the first one that may branch or touch machine state (a jcc,
// call, system instruction...), inside one physical page. Once an entry has
// started HOT_ENTRIES runs, its block gets a function generated for it (with
// the JIT on, only once the JIT could not translate it: interpretedRun runs it
// until then):
//
//     function block(cpu, s) {                  // s: linear address of the block
//       cpu.instructionStart = s;      cpu.rip = s + 3; x0(cpu, d0);
//       cpu.instructionStart = s + 3;  cpu.rip = s + 7; x1(cpu, d1);
//       if (cpu.interruptCheck) return 2;          // after an instruction that writes memory
//       cpu.instructionCount += 2;                  // the last one may read it (rdtsc)
//       cpu.instructionStart = s + 7;  cpu.rip = s + 9; x2(cpu, d2);
//       return 1;                                   // retired and not yet counted
//     }
//
// x0, x1, x2 are the SAME execute functions the interpreter calls (no second
// copy of any instruction's meaning), each at its own call site in its own
// function, where V8 can inline it. What stays exact:
//
//  - time: runSlice runs a block only when all of it fits before the slice's
//    limit (the timer's deadline, a single step), else instruction by
//    instruction; the instruction count is added when the block returns;
//  - faults: each instruction that can fault (or reads RIP) sets
//    instructionStart and RIP as the loop does, so a fault leaves them as the
//    interpreter would; runSlice finds which instruction faulted from
//    instructionStart and counts the ones before it;
//  - code writes: a store into a page holding decoded code drops the page's
//    entries and blocks and sets interruptCheck (Cpu.writeMem); the block
//    returns after that instruction, so the next one is decoded afresh;
//  - host calls: a block never runs over an address the host-call filter
//    marks, and blocks built before the host-call table last changed are
//    rebuilt.
//
// Blocks hang off their first cache entry, so invalidating a page drops them
// with the entries (decodeCache.ts). At most MAX_BLOCKS exist at once: beyond
// that the decode cache is flushed, so code that writes code in a loop cannot
// grow the generated code without limit.

import type { Decoded } from '../isa/decode.js';
import type { Cpu } from './cpu.js';
import type { CacheEntry, Exec } from './decodeCache.js';

/**
 * Runs of an entry as a block start before its block is generated. The
 * environment's XK_BLOCK_HOT overrides it (1: every block at once, as the
 * exactness tests run it; 0: no blocks).
 */
const HOT_SETTING = Number((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.XK_BLOCK_HOT ?? 32);
export const HOT_ENTRIES = Number.isInteger(HOT_SETTING) && HOT_SETTING >= 0 ? HOT_SETTING : 32;
/**
 * The longest block, in instructions: as many as a JIT region holds (jit/translate.ts
 * MAX_REGION_INSTRUCTIONS), so a translation of one block is no larger than a region. A long
 * straight run as one block runs as one translation (the bench's arithmetic loop: 148 + 71
 * instructions, six translations in a row when blocks were cut at 48).
 */
export const MAX_BLOCK = 160;
/** Generated blocks alive at once, at most (beyond it the decode cache is flushed). */
export const MAX_BLOCKS = 20000;

export interface Block {
  /**
   * Execute the block at linear address `start`. Returns the number of
   * instructions retired that it did not add to the instruction count itself:
   * before its last instruction the block adds the others, then returns 1 for
   * the last. A block whose last instruction branches back to its start runs
   * round after round inside the function while each whole round keeps the
   * count at or below `limit` (each finished round counted in full).
   */
  run: (cpu: Cpu, start: number, limit: number) => number;
  /** Its instructions, in order. */
  entries: CacheEntry[];
  /** The offset of each instruction from the block's start. */
  offsets: number[];
  /** The host-call table's version the block was built against. */
  hostVersion: number;
  /**
   * Where execution went after the block, twice remembered (the two ways out
   * of a conditional branch): the offset in the page (-1 none) and the block
   * there, in the same physical page, so runSlice chains blocks without a
   * lookup. Dropping the page drops both ends.
   */
  fallOffset: number;
  fall: Block | null;
  jumpOffset: number;
  jump: Block | null;
  /** Runs of the block so far, toward the JIT tier's threshold (jit/translate.ts). */
  runs: number;
  /** The JIT tier has looked at this block (and replaced `run` if it could translate it). */
  jitDone: boolean;
  /** `run` is a JIT translation (of a region holding this block). */
  translated: boolean;
}

/**
 * Instructions that can neither fault nor look at RIP: register-only ALU,
 * moves, shifts, lea without RIP-relative addressing. The block skips setting
 * instructionStart and RIP for them: nothing can observe the difference, since
 * the next instruction that can fault or reads RIP sets both itself.
 */
const PURE = new Set([
  'add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test', 'not', 'neg', 'inc', 'dec',
  'mov', 'movzx', 'movsx', 'movsxd', 'lea', 'xchg', 'shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd',
  'imul', 'mul', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'bswap', 'tzcnt', 'lzcnt', 'popcnt',
  'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'nop', 'pause', 'endbr64', 'clc', 'stc', 'cmc', 'cld', 'std', 'lahf', 'sahf',
]);
const PURE_FAMILIES = new Set(['setcc', 'cmovcc']);

function pure(d: Decoded): boolean {
  const f = d.form;
  if (f === null || !(PURE.has(f.mnemonic) || PURE_FAMILIES.has(f.family))) return false;
  for (const o of d.operands) {
    if (o.type === 'mem' && (f.mnemonic !== 'lea' || o.base === 16)) return false;
    if (o.type !== 'reg' && o.type !== 'imm' && o.type !== 'mem') return false;
  }
  return true;
}

/** Does the instruction possibly store to memory (so the block must look at interruptCheck after it)? */
function mayWrite(d: Decoded): boolean {
  const m = d.form?.mnemonic;
  if (m === 'push' || m === 'enter') return true;
  if (m === 'lea' || m === 'nop') return false;
  return d.operands.some((o) => o.type === 'mem');
}

/** Branches that may loop straight back to the block's start (a rel target). */
const LOOPING = new Set(['jmp', 'loop', 'jrcxz']);

/** Does the block end with a branch back to its own first instruction (a loop the function can run itself)? */
export function selfLoop(entries: CacheEntry[]): boolean {
  const last = entries[entries.length - 1].d;
  const f = last.form, target = last.operands[0];
  if (f === null || !(f.family === 'jcc' || LOOPING.has(f.mnemonic)) || target?.type !== 'rel') return false;
  let length = 0;
  for (const e of entries) length += e.length;
  return target.disp === -length;
}

let serial = 0;

/** Generated functions, cached by their shape: the source depends only on lengths and write checks. */
const SOURCES = new Map<string, string>();

function source(entries: CacheEntry[]): { key: string; text: string } {
  let key = '';
  const loops = selfLoop(entries);
  for (const e of entries) key += `${e.length}${mayWrite(e.d) ? 'w' : ''}${pure(e.d) ? 'p' : ''},`;
  if (loops) key += 'loop';
  let text = SOURCES.get(key);
  if (text === undefined) {
    const lines: string[] = [];
    let offset = 0;
    let ripSet = true;
    entries.forEach((e, k) => {
      const end = offset + e.length;
      // The last instruction may read the count (rdtsc, a timer port): count the others first.
      if (k === entries.length - 1) lines.push(`cpu.instructionCount += ${k};`);
      if (pure(e.d)) {
        lines.push(`x${k}(cpu, d${k});`);
        ripSet = false;
      } else {
        lines.push(`cpu.instructionStart = s + ${offset}; cpu.rip = s + ${end}; x${k}(cpu, d${k});`);
        ripSet = true;
      }
      if (k < entries.length - 1 && mayWrite(e.d)) lines.push(`if (cpu.interruptCheck) return ${k + 1};`);
      offset = end;
    });
    if (!ripSet) lines.push(`cpu.instructionStart = s + ${offset - entries[entries.length - 1].length}; cpu.rip = s + ${offset};`);
    if (loops) {
      // Go round again while the branch goes back here, nothing needs the run loop, and a whole round fits.
      lines.push(`if (cpu.interruptCheck || cpu.rip !== s || cpu.instructionCount + ${1 + entries.length} > limit) return 1;`);
      lines.push('cpu.instructionCount += 1;');
      text = `return function block(cpu, s, limit) {\nfor (;;) {\n${lines.join('\n')}\n}\n};`;
    } else {
      lines.push('return 1;');
      text = `return function block(cpu, s, limit) {\n${lines.join('\n')}\n};`;
    }
    if (SOURCES.size >= 4096) SOURCES.clear();
    SOURCES.set(key, text);
  }
  return { key, text };
}

/**
 * The run of a block of `entries` without a generated function: the interpreter's execute
 * functions called from one loop, with the same contract as the generated function (and
 * instructionStart and RIP set before every instruction, as the interpreter's loop does).
 * With the JIT on, a block starts with this: it runs only until the JIT translates it, and
 * a generated function would cost more to parse and compile than those few runs save. If the
 * JIT cannot translate it, it gets its generated function then (blockFunction).
 */
function interpretedRun(entries: CacheEntry[], offsets: number[]): Block['run'] {
  const n = entries.length;
  const writes = entries.map((e) => mayWrite(e.d));
  const loops = selfLoop(entries);
  return (cpu, s, limit) => {
    for (;;) {
      for (let k = 0; k < n; k++) {
        const e = entries[k];
        // The last instruction may read the count (rdtsc, a timer port): count the others first.
        if (k === n - 1) cpu.instructionCount += k;
        cpu.instructionStart = s + offsets[k];
        cpu.rip = s + offsets[k] + e.length;
        e.exec(cpu, e.d);
        if (k < n - 1 && writes[k] && cpu.interruptCheck) return k + 1;
      }
      if (!loops || cpu.interruptCheck || cpu.rip !== s || cpu.instructionCount + 1 + n > limit) return 1;
      cpu.instructionCount += 1;
    }
  };
}

/** Generate the function of a block of `entries` (straight instructions, then any one). */
export function blockFunction(entries: CacheEntry[]): Block['run'] {
  const { text } = source(entries);
  const names: string[] = [];
  const values: (Exec | Decoded)[] = [];
  entries.forEach((e, k) => {
    names.push(`x${k}`, `d${k}`);
    values.push(e.exec, e.d);
  });
  // One new Function per block, with a source text of its own: V8 would share one
  // compiled function (and its type feedback) between equal sources, and then the
  // call sites would see many handlers again.
  const make = new Function(...names, `// block ${++serial}\n${text}`) as (...args: (Exec | Decoded)[]) => Block['run'];
  return make(...values);
}

/**
 * The block of `entries` (straight instructions, then any one): with its generated function
 * (blockFunction), or, when `interpreted`, run by interpretedRun until the JIT looks at it.
 */
export function compileBlock(entries: CacheEntry[], hostVersion: number, interpreted = false): Block {
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) { offsets.push(offset); offset += e.length; }
  const run = interpreted ? interpretedRun(entries, offsets) : blockFunction(entries);
  return { run, entries, offsets, hostVersion, fallOffset: -1, fall: null, jumpOffset: -1, jump: null, runs: 0, jitDone: false, translated: false };
}

/**
 * The entries of the block that starts with `first` at linear `start`: `first`,
 * then while the last is straight, the next instruction if it lies wholly in
 * the same page, is cached, and is not at an address the host-call filter marks.
 * Instructions ahead are decoded only where that cannot read the next page (a
 * page walk for it would set accessed bits the interpreter might never set).
 */
export function blockEntries(cpu: Cpu, first: CacheEntry, start: number, filter: Uint16Array): CacheEntry[] {
  const entries = [first];
  let e = first;
  let at = start;
  while (e.straight && e.linkable && entries.length < MAX_BLOCK) {
    at += e.length;
    if (filter[at & 0xfff] !== 0) break;
    let next = e.next;
    if (next === null) {
      next = cpu.decodeCache.fetchAhead(cpu, at);
      if (next === null || !next.cached) break;
      e.next = next;
    }
    entries.push(next);
    e = next;
  }
  return entries;
}
