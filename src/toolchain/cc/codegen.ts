// The code generator's outer layer: a translation unit -> GNU as (AT&T)
// assembly text that `xk as` assembles. Data goes to .data/.bss/.rodata (or the
// section an attribute names), each function to .text through
// codegenFunction.ts. Symbols keep their C names; the generator's own labels
// start with .Lx so they never meet the parser's (.Lu...).

import type { FunctionDef, StaticInit, TranslationUnit, Variable } from './ast.js';
import { FunctionGen, type UnitContext } from './codegenFunction.js';
import { optimizeFunction } from './optimize.js';
import { FunctionGenO1 } from './codegenO1.js';

export interface CodegenOptions {
  /** 0: every local in memory; 1: constant folding (optimize.ts), and scalar locals whose address is never taken live in callee-saved registers. */
  optimize: number;
  fileName?: string;
}

/** The assembly text for `unit`. */
export function generate(unit: TranslationUnit, options: CodegenOptions): string {
  const out: string[] = [];
  const ctx: UnitContext = { labelCount: 0, strings: [], optimize: options.optimize };
  if (options.fileName) out.push(`\t.file\t"${options.fileName.replace(/^.*\//, '')}"`);
  const functions = unit.functions.filter((f) => needed(f));
  let asmIndex = 0;
  const topAsm = (before: number): void => {
    while (asmIndex < unit.topLevelAsm.length && unit.topLevelAsm[asmIndex].before <= before) {
      out.push(unit.topLevelAsm[asmIndex++].text);
    }
  };
  unit.functions.forEach((f, i) => {
    topAsm(i);
    if (!functions.includes(f)) return;
    if (options.optimize >= 1) optimizeFunction(f);
    out.push((options.optimize >= 1 ? new FunctionGenO1(f, ctx) : new FunctionGen(f, ctx)).generate());
  });
  topAsm(Number.MAX_SAFE_INTEGER);
  for (const v of unit.globals) out.push(...globalData(v));
  for (const [symbol, bytes] of unit.literals) out.push('\t.section\t.rodata', `${symbol}:`, ...byteLines(bytes));
  ctx.strings.forEach((bytes, i) => out.push('\t.section\t.rodata', `.LxS${i}:`, ...byteLines(bytes)));
  return out.join('\n') + '\n';
}

/** A static function nobody refers to is left out, as gcc leaves out unused static inline functions. */
function needed(f: FunctionDef): boolean {
  const v = f.variable;
  return !v.isStatic || !!v.isReferenced || !!v.isUsedAttr;
}

function globalData(v: Variable): string[] {
  if (!v.isDefinition || v.isExtern || v.isFunction) return [];
  const lines: string[] = [];
  const size = Math.max(v.type.size, 1);
  const align = Math.max(v.align ?? 1, v.type.align, size >= 16 && v.type.kind === 'array' ? 16 : 1);
  const isZero = !v.init || (v.init.relocations.length === 0 && v.init.bytes.every((b) => b === 0));
  if (v.section) lines.push(`\t.section\t${v.section},"aw"`);
  else lines.push(isZero ? '\t.bss' : '\t.data');
  if (!v.isStatic) lines.push(`\t.globl\t${v.symbol}`);
  if (v.weak) lines.push(`\t.weak\t${v.symbol}`);
  lines.push(`\t.balign\t${align}`, `\t.type\t${v.symbol}, @object`, `\t.size\t${v.symbol}, ${size}`, `${v.symbol}:`);
  if (isZero) lines.push(`\t.zero\t${size}`);
  else lines.push(...initLines(v.init!, size));
  return lines;
}

/** Initial bytes, with `.quad symbol+addend` where an address is stored. */
function initLines(init: StaticInit, size: number): string[] {
  const lines: string[] = [];
  const relocs = [...init.relocations].sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const r of relocs) {
    if (r.offset > at) lines.push(...byteLines(init.bytes.subarray(at, r.offset)));
    lines.push(`\t.quad\t${r.symbol}${r.addend > 0 ? '+' + r.addend : r.addend < 0 ? r.addend : ''}`);
    at = r.offset + 8;
  }
  if (at < init.bytes.length) lines.push(...byteLines(init.bytes.subarray(at)));
  if (init.bytes.length < size) lines.push(`\t.zero\t${size - init.bytes.length}`);
  return lines;
}

function byteLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push('\t.byte\t' + [...bytes.subarray(i, i + 16)].join(','));
  return lines;
}
