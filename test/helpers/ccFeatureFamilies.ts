// The differential suite's programs (test/ccDifferential.test.ts): the
// hand-written feature programs of test/cc/features/*.c, and three families
// made from one template each:
//   - conversions: one program per integer type, converting its edge values
//     to every integer type by assignment, cast, argument passing and return,
//     and mixing the two in arithmetic and comparisons (the usual arithmetic
//     conversions);
//   - operators: one program per integer type, every operator applied to
//     pairs of edge values of the type, with only the pairs whose result C
//     defines (no signed overflow, no division by 0, shift counts in range);
// Each prints a line of hashes per (type, type) or (type, operator): on xk
// each line is a system call, and the calls are most of a run's cost.
//   - struct passing: one program per struct shape, xk cc's main and gcc's
//     partner object passing and returning the struct both ways, in registers
//     and on the stack, and through callbacks (the System V convention).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TYPES, type CType } from './ccRandomProgram.js';
import { CORPUS, type CProgram } from './ccDifferential.js';

/** Splits test/cc/features/NAME.c into its programs (see test/cc/features/README.md). */
export function featurePrograms(): CProgram[] {
  const dir = path.join(CORPUS, 'features');
  const out: CProgram[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.c')).sort()) {
    const [prelude, ...sections] = fs.readFileSync(path.join(dir, f), 'utf8').split(/^\/\/\/\/ /m);
    for (const section of sections) {
      const name = section.slice(0, section.indexOf('\n')).trim();
      out.push({ name: `features/${f}:${name}`, source: prelude + `// ${name}\n` + section.slice(section.indexOf('\n') + 1) });
    }
  }
  return out;
}

function range(t: CType): { min: bigint; max: bigint } {
  if (t.name === '_Bool') return { min: 0n, max: 1n };
  const bits = BigInt(t.bits);
  return t.signed ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n } : { min: 0n, max: (1n << bits) - 1n };
}

/** Interesting values of a type: 0, ±1, small ones, the extremes and their neighbours. */
function edgeValues(t: CType): bigint[] {
  const { min, max } = range(t);
  const candidates = [0n, 1n, -1n, 2n, 7n, -7n, 100n, -100n, 255n, 256n, 32767n, -32768n, 65535n, 65536n, max, max - 1n, min, min + 1n, max / 3n, min / 3n];
  return [...new Set(candidates.filter((v) => v >= min && v <= max))];
}

/** A C constant of type t with value v (the minimum written without a literal of its own). */
function literal(t: CType, v: bigint): string {
  if (t.name === '_Bool') return `(_Bool)${v}`;
  if (v < 0n) return `(${t.name})(${v + 1n}LL - 1)`;
  return `(${t.name})${v}ULL`;
}

const promoted = (t: CType): CType => (t.bits < 32 ? TYPES[6] : t);

const HASH = 'h = h * 1000003 + ';

export function conversionPrograms(): CProgram[] {
  return TYPES.map((from) => {
    const values = edgeValues(from);
    const parts = TYPES.map((to, k) => `${to.name} global${k};
${to.name} pass${k}(${to.name} v) { return v; }
${from.name} back${k}(${to.name} v) { return v; }
unsigned long long convert${k}(${from.name} x, int i) {
  ${to.name} y = x;
  global${k} = (${to.name})x;
  unsigned long long h = (unsigned long long)y;
  ${[`global${k}`, `pass${k}(x)`, `back${k}(y)`, '(x ^ y)', '(x & y)', 'x < y', 'x == y', `x >= (${to.name})-1`, '(i & 1 ? x : y)', `(${to.name})~x`]
    .map((e) => `${HASH}(unsigned long long)${e};`).join('\n  ')}
  return h;
}
`);
    return {
      name: `conversions from ${from.name}`,
      source: `#include "cctest.h"
${from.name} values[] = { ${values.map((v) => literal(from, v)).join(', ')} };
${parts.join('')}
int main(void) {
  unsigned long long h;
${TYPES.map((to, k) => `  h = 0;
  for (int i = 0; i < ${values.length}; i++) ${HASH}convert${k}(values[i], i);
  printf("to ${to.name}: %llx\\n", h);`).join('\n')}
  return (int)global0 & 0x7f;
}
`,
    };
  });
}

const OPERATORS = ['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '<', '<=', '==', '&&', '||'];

/** a op b as C computes it on the promoted type, or null when C leaves it undefined. */
function defined(t: CType, op: string, a: bigint, b: bigint): boolean {
  const p = promoted(t);
  const { min, max } = range(p);
  const fits = (v: bigint): boolean => !p.signed || (v >= min && v <= max);
  switch (op) {
    case '+': return fits(a + b);
    case '-': return fits(a - b);
    case '*': return fits(a * b);
    case '/': case '%': return b !== 0n && fits(a / b);
    case '<<': return b >= 0n && b < BigInt(p.bits) && (!p.signed || (a >= 0n && fits(a << b)));
    case '>>': return b >= 0n && b < BigInt(p.bits);
    default: return true;
  }
}

export function operatorPrograms(): CProgram[] {
  return TYPES.map((t) => {
    const values = edgeValues(t);
    const parts = OPERATORS.map((op, k) => {
      const shift = op === '<<' || op === '>>';
      const rights = shift ? [0n, 1n, 3n, 7n, 15n, 31n, 63n].filter((v) => v <= range(t).max) : values;
      const pairs = values.flatMap((a) => rights.filter((b) => defined(t, op, a, b)).map((b) => [a, b]));
      return { op, count: pairs.length, text: `${t.name} left${k}[] = { ${pairs.map(([a]) => literal(t, a)).join(', ')} };
${t.name} right${k}[] = { ${pairs.map(([, b]) => literal(t, b)).join(', ')} };
unsigned long long apply${k}(${t.name} a, ${t.name} b) { return (unsigned long long)(a ${op} b); }
` };
    });
    return {
      name: `operators on ${t.name}`,
      source: `#include "cctest.h"
${parts.map((p) => p.text).join('')}
int main(void) {
  unsigned long long h, all = 0;
${parts.map((p, k) => `  h = 0;
  for (int i = 0; i < ${p.count}; i++) ${HASH}apply${k}(left${k}[i], right${k}[i]);
  printf("%s on ${p.count} pairs: %llx\\n", "${p.op}", h);
  all ^= h;`).join('\n')}
  return (int)(all & 0x7f);
}
`,
    };
  });
}

/** Struct shapes for the calling convention: in one register, two, mixed, in memory. */
const SHAPES: string[][] = [
  ['char a'], ['char a', 'char b', 'char c'], ['short a', 'char b'], ['int a'], ['int a', 'char b'], ['long a'],
  ['int a', 'int b', 'int c'], ['long a', 'char b'], ['long a', 'long b'], ['char a[9]'], ['int a', 'long b', 'char c'],
  ['long a', 'long b', 'long c'], ['char a[3]'], ['short a[5]'], ['unsigned a : 3', 'int b : 9', 'unsigned c : 20'],
  ['_Bool a', 'long b'], ['char a', 'int b', 'short c', 'char d'], ['unsigned char a[16]'], ['long a[4]'], ['int a', 'int b', 'int c', 'int d'],
];

/** The C that reads or fills every member of a shape (arrays element by element). */
function members(shape: string[]): { name: string; count: number }[] {
  return shape.map((m) => {
    const name = /(\w+)\s*(\[\d+\])?(\s*:\s*\d+)?$/.exec(m)![1];
    const count = /\[(\d+)\]/.exec(m);
    return { name, count: count ? Number(count[1]) : 0 };
  });
}

function fill(shape: string[], target: string, seed: string): string {
  return members(shape).map(({ name, count }, i) => count > 0
    ? `for (int i = 0; i < ${count}; i++) ${target}.${name}[i] = ${seed} * ${i + 3} + i;`
    : `${target}.${name} = ${seed} * ${i + 3} + ${i};`).join(' ');
}

function digest(shape: string[], source: string): string {
  return members(shape).map(({ name, count }, i) => count > 0
    ? `for (int i = 0; i < ${count}; i++) h = h * 7 + ${source}.${name}[i];`
    : `h = h * ${i + 11} + ${source}.${name};`).join(' ');
}

export function structPassingPrograms(): CProgram[] {
  return SHAPES.map((shape, k) => {
    const decl = `struct S { ${shape.join('; ')}; };`;
    const common = `${decl}
struct S make_gcc(long k);
long digest_gcc(struct S s);
long mixed_gcc(int a, struct S s, long b, struct S t, char c, struct S u, long d, long e, struct S v);
long callback_gcc(struct S (*make)(long), long (*digest)(struct S), long k);
struct S make_xk(long k);
long digest_xk(struct S s);
`;
    const definitions = (side: string): string => `struct S make_${side}(long k) { struct S s; ${fill(shape, 's', 'k')} return s; }
long digest_${side}(struct S s) { long h = 0; ${digest(shape, 's')} return h; }
`;
    return {
      name: `struct passing shape ${k}: ${decl}`,
      partner: `${common}${definitions('gcc')}
long mixed_gcc(int a, struct S s, long b, struct S t, char c, struct S u, long d, long e, struct S v) {
  return a + digest_gcc(s) * 3 + b + digest_gcc(t) * 5 + c + digest_gcc(u) * 7 + d - e + digest_gcc(v);
}
long callback_gcc(struct S (*make)(long), long (*digest)(struct S), long k) { return digest(make(k)) + digest_gcc(make(k + 1)); }
`,
      source: `#include "cctest.h"
${common}${definitions('xk')}
int main(void) {
  for (long k = 1; k < 4; k++) {
    struct S a = make_gcc(k), b = make_xk(k);
    printf("%ld %ld %ld %ld\\n", digest_gcc(a), digest_xk(a), digest_gcc(b), digest_xk(b));
    printf("%ld\\n", mixed_gcc(1, a, 2, b, 3, make_gcc(k + 5), 4, 5, make_xk(k + 9)));
    printf("%ld %ld\\n", callback_gcc(make_xk, digest_xk, k), callback_gcc(make_gcc, digest_gcc, k));
  }
  printf("%d\\n", (int)sizeof(struct S));
  return 0;
}
`,
    };
  });
}
