// A seeded random C program generator for the integer subset (in the spirit
// of Csmith): globals of every integer type, functions whose bodies compute
// random expressions over them and their parameters with every operator, and
// a main that prints each result. The programs have no undefined behaviour, so
// gcc's native run is the oracle:
//   - signed + - * and unary - are done in unsigned long long and converted
//     back (an implementation-defined, not undefined, conversion);
//   - / and % never divide by 0, nor the most negative value by -1;
//   - shift counts are masked to the promoted width, and a signed value is
//     shifted left only as unsigned.

import { seededRandom } from './random.js';

export interface CType {
  name: string;
  bits: number;
  signed: boolean;
}

export const TYPES: CType[] = [
  { name: '_Bool', bits: 1, signed: false },
  { name: 'char', bits: 8, signed: true },
  { name: 'signed char', bits: 8, signed: true },
  { name: 'unsigned char', bits: 8, signed: false },
  { name: 'short', bits: 16, signed: true },
  { name: 'unsigned short', bits: 16, signed: false },
  { name: 'int', bits: 32, signed: true },
  { name: 'unsigned', bits: 32, signed: false },
  { name: 'long', bits: 64, signed: true },
  { name: 'unsigned long', bits: 64, signed: false },
  { name: 'long long', bits: 64, signed: true },
  { name: 'unsigned long long', bits: 64, signed: false },
];
const INT = TYPES[6];

interface Expr {
  text: string;
  type: CType;
}

function promote(t: CType): CType {
  return t.bits < 32 ? INT : t;
}

/** The usual arithmetic conversions (C11 6.3.1.8) on integer types. */
function common(a: CType, b: CType): CType {
  const x = promote(a);
  const y = promote(b);
  if (x.bits !== y.bits) return x.bits > y.bits ? x : y;
  if (!x.signed) return x;
  if (!y.signed) return y;
  return x;
}

export class ProgramGenerator {
  readonly random: () => number;
  private readonly globals: { name: string; type: CType }[] = [];

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(xs: T[]): T {
    return xs[this.int(xs.length)];
  }

  constant(t: CType): string {
    const r = this.int(6);
    let v: bigint;
    if (r === 0) v = 0n;
    else if (r === 1) v = BigInt(this.int(10));
    else if (r === 2) v = -1n;
    else if (r === 3) v = (1n << BigInt(t.bits - 1)) - BigInt(this.int(3));
    else v = BigInt(Math.floor(this.random() * 2 ** 32)) * BigInt(this.int(2) ? 1 : 0x10001);
    const bits = BigInt(t.bits);
    v = t.signed ? BigInt.asIntN(Number(bits), v) : BigInt.asUintN(Number(bits), v);
    if (t.name === '_Bool') return `(_Bool)${v}`;
    // a negative value as (v+1) - 1, so that the most negative value needs no literal of its own
    if (v < 0n) return `((${t.name})(${v + 1n}LL - 1))`;
    return `(${t.name})${v}ULL`;
  }

  private leaf(scope: { name: string; type: CType }[]): Expr {
    if (this.int(5) === 0) {
      const t = this.pick(TYPES);
      return { text: this.constant(t), type: t };
    }
    const v = this.pick(scope);
    return { text: v.name, type: v.type };
  }

  private unsignedOp(a: Expr, b: Expr, op: string, t: CType): string {
    return `(${t.name})((unsigned long long)(${a.text}) ${op} (unsigned long long)(${b.text}))`;
  }

  expr(scope: { name: string; type: CType }[], depth: number): Expr {
    if (depth <= 0 || this.int(5) === 0) return this.leaf(scope);
    const a = this.expr(scope, depth - 1);
    const kind = this.int(16);
    if (kind === 0) {
      const t = this.pick(TYPES);
      return { text: `((${t.name})(${a.text}))`, type: t };
    }
    if (kind === 1) {
      const p = promote(a.type);
      const ops = ['~', '!', '-'];
      const op = this.pick(ops);
      if (op === '!') return { text: `(!(${a.text}))`, type: INT };
      if (op === '-' && p.signed) return { text: `((${p.name})(-(unsigned long long)(${a.text})))`, type: p };
      return { text: `(${op}(${a.text}))`, type: p };
    }
    const b = this.expr(scope, depth - 1);
    if (kind === 2) {
      const c = this.expr(scope, depth - 1);
      return { text: `((${a.text}) ? (${b.text}) : (${c.text}))`, type: common(b.type, c.type) };
    }
    const t = common(a.type, b.type);
    // arithmetic mostly: comparisons and && || squash values to 0 or 1
    const op = this.pick(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '+', '-', '*', '^', '>>', '<<', '/', '%', '<', '<=', '>', '>=', '==', '!=', '&&', '||']);
    switch (op) {
      case '+': case '-': case '*':
        return { text: t.signed ? this.unsignedOp(a, b, op, t) : `((${a.text}) ${op} (${b.text}))`, type: t };
      case '/': case '%': {
        const bad = t.signed ? `(${t.name})(${b.text}) == 0 || (${t.name})(${b.text}) == -1` : `(${t.name})(${b.text}) == 0`;
        return { text: `((${bad}) ? (${t.name})(${a.text}) : (${a.text}) ${op} (${b.text}))`, type: t };
      }
      case '<<': case '>>': {
        const p = promote(a.type);
        const count = `((${b.text}) & ${p.bits - 1})`;
        if (op === '<<' && p.signed) return { text: `((${p.name})((unsigned long long)(${a.text}) << ${count}))`, type: p };
        return { text: `((${a.text}) ${op} ${count})`, type: p };
      }
      case '&': case '|': case '^':
        return { text: `((${a.text}) ${op} (${b.text}))`, type: t };
      default:
        return { text: `((${a.text}) ${op} (${b.text}))`, type: INT };
    }
  }

  /** The whole program: `functions` functions of `statements` statements each. */
  program(functions: number, statements: number): string {
    const out: string[] = ['#include "cctest.h"', `/* seed ${this.seed} */`];
    for (let i = 0; i < 16; i++) {
      const t = this.pick(TYPES);
      const name = `g${i}`;
      this.globals.push({ name, type: t });
      out.push(`${t.name} ${name} = ${this.constant(t)};`);
    }
    const calls: string[] = [];
    for (let f = 0; f < functions; f++) {
      const params = [0, 1, 2].map((i) => ({ name: `p${i}`, type: this.pick(TYPES) }));
      const ret = this.pick(TYPES);
      const scope = [...this.globals, ...params];
      const body: string[] = [];
      for (let s = 0; s < statements; s++) {
        const t = this.pick(TYPES);
        const name = `v${s}`;
        body.push(`  ${t.name} ${name} = ${this.expr(scope, 4).text};`);
        if (this.int(3) === 0) {
          const g = this.pick(this.globals);
          body.push(`  ${g.name} ${this.pick(['=', '^=', '|=', '&='])} ${this.expr(scope, 3).text};`);
        }
        if (this.int(4) === 0) body.push(`  if (${this.expr(scope, 2).text}) ${name} = ${this.expr(scope, 2).text}; else ${name} ^= ${this.constant(t)};`);
        scope.push({ name, type: t });
      }
      body.push(`  return ${this.expr(scope, 4).text};`);
      out.push(`${ret.name} f${f}(${params.map((p) => `${p.type.name} ${p.name}`).join(', ')}) {`, ...body, '}');
      const args = params.map((p) => this.constant(p.type)).join(', ');
      calls.push(`  printf("f${f} %lx\\n", (unsigned long)f${f}(${args}));`);
    }
    out.push('int main(void) {', ...calls);
    for (const g of this.globals) out.push(`  printf("${g.name} %lx\\n", (unsigned long)${g.name});`);
    out.push('  return 0;', '}');
    return out.join('\n') + '\n';
  }
}
