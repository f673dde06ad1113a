// Seeded random C programs at the statement level, for xk cc against gcc
// (test/ccDifferential.test.ts): what ccRandomProgram.ts does for expressions,
// here for the code around them: global and local arrays indexed by computed
// values, an array of structs, pointers walking arrays (*p++ = e), for, while
// (n--) and do-while loops, if/else on && || !, switch with fall-through,
// x++ / x += e / x &= e, calls between the generated functions, and a main
// that prints every result and every global. No undefined behaviour:
//   - expressions come from ProgramGenerator.expr (signed arithmetic done in
//     unsigned long long, no division by 0 or of the minimum by -1, masked shifts);
//   - every index is masked into its array, every pointer stays inside its array;
//   - ++, --, +=, -= only on unsigned types or on char/short (promoted, then
//     converted back: implementation-defined, not undefined), or as
//     x = (T)((unsigned long long)x + e) for int and long;
//   - loops have constant trip counts; functions call only earlier functions;
//   - every local is initialized.

import { ProgramGenerator, TYPES, type CType } from './ccRandomProgram.js';

interface Var { name: string; type: CType }

const INT = TYPES[6];
const UINT = TYPES[7];
const UCHAR = TYPES[3];
const LONG = TYPES[8];

export class StatementProgramGenerator {
  private readonly g: ProgramGenerator;
  private label = 0;
  /** The functions generated so far (a body calls only these: no recursion). */
  private callable: { name: string; params: CType[] }[] = [];

  constructor(readonly seed: number) {
    this.g = new ProgramGenerator(seed);
  }

  private int(n: number): number {
    return this.g.int(n);
  }

  private pick<T>(xs: T[]): T {
    return this.g.pick(xs);
  }

  private expr(scope: Var[], depth: number): string {
    return this.g.expr(scope, depth).text;
  }

  /** An index into an array of n (a power of two) elements. */
  private index(scope: Var[], n: number): string {
    if (this.int(3) === 0) return String(this.int(n));
    return `((unsigned)(${this.expr(scope, 2)}) & ${n - 1}u)`;
  }

  /** Leaves that read arrays and struct members, added to the scalar scope. */
  private elements(scope: Var[], locals: boolean): Var[] {
    const out: Var[] = [
      { name: `ga[${this.index(scope, 16)}]`, type: INT },
      { name: `gb[${this.index(scope, 8)}]`, type: UCHAR },
      { name: `gs[${this.index(scope, 4)}].a`, type: INT },
      { name: `gs[${this.index(scope, 4)}].b`, type: UCHAR },
      { name: `gs[${this.index(scope, 4)}].c`, type: LONG },
    ];
    if (locals) out.push({ name: `la[${this.index(scope, 8)}]`, type: UINT }, { name: `sp->c`, type: LONG });
    out.push({ name: `gm[${this.index(scope, 4)}][${this.index(scope, 4)}]`, type: TYPES[4] }, { name: 'gbf.x', type: INT }, { name: 'gbf.y', type: INT });
    return out;
  }

  /** An update of `target` (of type t) by a random expression, free of overflow. */
  private update(target: string, t: CType, scope: Var[]): string {
    const e = this.expr(scope, 3);
    const narrow = t.bits < 32 && t.name !== '_Bool';
    const safe = !t.signed || narrow;
    switch (this.int(7)) {
      case 0: return safe ? `${target}++;` : `${target} = (${t.name})((unsigned long long)${target} + 1);`;
      case 1: return safe ? `--${target};` : `${target} = (${t.name})((unsigned long long)${target} - 1);`;
      case 2: return safe && t.name !== '_Bool' ? `${target} += (${t.name})(${e});` : `${target} = (${t.name})((unsigned long long)${target} + (unsigned long long)(${e}));`;
      case 3: return safe && t.name !== '_Bool' ? `${target} -= (${t.name})(${e});` : `${target} = (${t.name})((unsigned long long)${target} - (unsigned long long)(${e}));`;
      case 4: return `${target} ^= ${e};`;
      case 5: return `${target} &= ${e};`;
      default: return `${target} = ${e};`;
    }
  }

  private condition(scope: Var[]): string {
    const c = (): string => `(${this.expr(scope, 2)}) ${this.pick(['<', '<=', '>', '>=', '==', '!='])} (${this.expr(scope, 2)})`;
    switch (this.int(5)) {
      case 0: return `${c()} && ${c()}`;
      case 1: return `${c()} || ${c()}`;
      case 2: return `!(${c()})`;
      case 3: return this.expr(scope, 3);
      default: return c();
    }
  }

  private statements(scope: Var[], locals: Var[], count: number, depth: number, indent: string): string[] {
    const out: string[] = [];
    for (let k = 0; k < count; k++) out.push(...this.statement(scope, locals, depth, indent));
    return out;
  }

  private statement(scope: Var[], locals: Var[], depth: number, indent: string): string[] {
    const all = [...scope, ...this.elements(scope, true)];
    const kind = depth <= 0 ? this.int(4) : this.int(12);
    const target = (): Var => (this.int(4) === 0 ? this.pick(this.elements(scope, true)) : this.pick(locals));
    switch (kind) {
      case 0: case 1: {
        const v = target();
        return [indent + this.update(v.name, v.type, all)];
      }
      case 2: {
        const g = this.pick(scope.filter((v) => v.name.startsWith('g')));
        return [indent + this.update(g.name, g.type, all)];
      }
      case 3: {
        // a pointer walking the local array
        const p = `q${this.label++}`;
        const n = 1 + this.int(8);
        return [
          `${indent}{ unsigned *${p} = la + ${this.int(9 - n)};`,
          `${indent}  for (int i = 0; i < ${n}; i++) *${p}++ ${this.pick(['=', '^=', '+='])} (unsigned)(${this.expr(all, 2)}); }`,
        ];
      }
      case 4: {
        const els = this.int(2) ? [`${indent}} else {`, ...this.statements(scope, locals, 1 + this.int(2), depth - 1, indent + '  ')] : [];
        return [`${indent}if (${this.condition(all)}) {`, ...this.statements(scope, locals, 1 + this.int(2), depth - 1, indent + '  '), ...els, `${indent}}`];
      }
      case 5: {
        const i = `i${this.label++}`;
        const inner = [...scope, { name: i, type: INT }];
        return [`${indent}for (int ${i} = 0; ${i} < ${1 + this.int(6)}; ${i}++) {`, ...this.statements(inner, locals, 1 + this.int(3), depth - 1, indent + '  '), `${indent}}`];
      }
      case 6: {
        const n = `n${this.label++}`;
        const body = this.statements(scope, locals, 1 + this.int(2), depth - 1, indent + '  ');
        return [`${indent}{ unsigned ${n} = ${this.int(6)};`, `${indent}while (${n}-- > 0) {`, ...body, `${indent}} }`];
      }
      case 7: {
        const n = `d${this.label++}`;
        const body = this.statements(scope, locals, 1 + this.int(2), depth - 1, indent + '  ');
        return [`${indent}{ int ${n} = ${1 + this.int(4)};`, `${indent}do {`, ...body, `${indent}} while (--${n});`, `${indent}}`];
      }
      case 8: {
        const out = [`${indent}switch ((${this.expr(all, 2)}) & 7) {`];
        for (const c of [0, 1, 2, 3, 5].filter(() => this.int(3) > 0)) {
          out.push(`${indent}case ${c}:`, ...this.statements(scope, locals, 1, depth - 1, indent + '  '));
          if (this.int(3) > 0) out.push(`${indent}  break;`);
        }
        out.push(`${indent}default:`, ...this.statements(scope, locals, 1, depth - 1, indent + '  '), `${indent}}`);
        return out;
      }
      case 9: {
        // an early exit from a loop
        const i = `i${this.label++}`;
        const inner = [...scope, { name: i, type: INT }];
        return [
          `${indent}for (int ${i} = 0; ${i} < 8; ${i}++) {`,
          `${indent}  if (${this.condition([...all, { name: i, type: INT }])}) ${this.pick(['break', 'continue'])};`,
          ...this.statements(inner, locals, 1, depth - 1, indent + '  '),
          `${indent}}`,
        ];
      }
      case 10: {
        // a post-increment in value context, a pointer to a struct, a bit-field, a call in an argument
        switch (this.int(4)) {
          case 0: {
            const v = this.pick(locals);
            return [`${indent}${v.name} = la[k++ & 7] + ${this.expr(all, 2)};`];
          }
          case 1:
          {
            const [name, type] = this.pick([['sp->a', INT], ['sp->b', UCHAR], ['sp->c', LONG]] as [string, CType][]);
            return [`${indent}sp = &gs[${this.index(all, 4)}];`, `${indent}${this.update(name, type, all)}`];
          }
          case 2: {
            const [name, type] = this.pick([['gbf.x', INT], ['gbf.y', INT], ['gbf.z', INT]] as [string, CType][]);
            return [`${indent}${name} = ${this.expr(all, 2)};`, `${indent}${this.update(name, type, all)}`];
          }
          default: {
            if (this.callable.length === 0) return [];
            const callee = this.pick(this.callable);
            const v = this.pick(locals);
            const arg = (): string => (this.int(3) === 0 && this.callable.length > 1 ? `${this.pick(this.callable).name}(${[0, 1, 2].map(() => this.expr(all, 1)).join(', ')})` : this.expr(all, 2));
            return [`${indent}${v.name} ^= ${callee.name}(${callee.params.map(arg).join(', ')});`];
          }
        }
      }
      default: {
        const v = this.pick(locals);
        return [`${indent}${v.name} = ${this.expr(all, 3)};`];
      }
    }
  }

  /** The whole program: `functions` functions of about `statements` statements each. */
  program(functions: number, statements: number): string {
    const out: string[] = ['#include "cctest.h"', `/* statements, seed ${this.seed} */`];
    const globals: Var[] = [];
    for (let i = 0; i < 8; i++) {
      const t = this.pick(TYPES);
      globals.push({ name: `g${i}`, type: t });
      out.push(`${t.name} g${i} = ${this.g.constant(t)};`);
    }
    out.push(`int ga[16] = {${Array.from({ length: 16 }, () => this.g.constant(INT)).join(', ')}};`);
    out.push(`unsigned char gb[8] = {${Array.from({ length: 8 }, () => this.int(256)).join(', ')}};`);
    out.push('struct S { int a; unsigned char b; long c; } gs[4];');
    out.push(`short gm[4][4] = {${Array.from({ length: 16 }, () => this.int(60000) - 30000).join(', ')}};`);
    out.push('struct B { unsigned x : 3; int y : 5; unsigned z : 7; } gbf;');
    const calls: string[] = [];
    const defined: { name: string; params: CType[]; ret: CType }[] = [];
    for (let f = 0; f < functions; f++) {
      const params = [0, 1, 2].map((i) => ({ name: `p${i}`, type: this.pick(TYPES) }));
      const ret = this.pick(TYPES);
      const scope: Var[] = [...globals, ...params];
      const locals: Var[] = [];
      const body: string[] = [
        `  unsigned la[8] = {${Array.from({ length: 8 }, () => this.int(1000)).join(', ')}};`,
        `  unsigned k = ${this.int(8)};`,
        `  struct S *sp = &gs[${this.int(4)}];`,
      ];
      for (let l = 0; l < 4; l++) {
        const t = this.pick(TYPES);
        const v = { name: `v${l}`, type: t };
        body.push(`  ${t.name} ${v.name} = ${this.expr([...scope, ...this.elements(scope, false)], 3)};`);
        scope.push(v);
        locals.push(v);
      }
      if (defined.length > 0 && this.int(2)) {
        const callee = this.pick(defined);
        const v = this.pick(locals);
        body.push(`  ${v.name} = ${callee.name}(${callee.params.map(() => this.expr(scope, 2)).join(', ')});`);
      }
      body.push(...this.statements(scope, locals, statements, 2, '  '));
      body.push(`  return (${ret.name})(${locals.map((v) => `(unsigned long long)${v.name}`).join(' ^ ')} ^ la[${this.int(8)}] ^ la[${this.int(8)}]);`);
      const name = `f${f}`;
      out.push(`${ret.name} ${name}(${params.map((p) => `${p.type.name} ${p.name}`).join(', ')}) {`, ...body, '}');
      defined.push({ name, params: params.map((p) => p.type), ret });
      this.callable = defined;
      calls.push(`  printf("${name} %lx\\n", (unsigned long)${name}(${params.map((p) => this.g.constant(p.type)).join(', ')}));`);
    }
    out.push('int main(void) {', ...calls);
    for (const g of globals) out.push(`  printf("${g.name} %lx\\n", (unsigned long)${g.name});`);
    out.push('  for (int i = 0; i < 16; i++) printf("ga %d %x\\n", i, ga[i]);');
    out.push('  for (int i = 0; i < 8; i++) printf("gb %d %x\\n", i, gb[i]);');
    out.push('  for (int i = 0; i < 4; i++) printf("gs %d %x %x %lx\\n", i, gs[i].a, gs[i].b, (unsigned long)gs[i].c);');
    out.push('  for (int i = 0; i < 16; i++) printf("gm %d %x\\n", i, gm[i / 4][i % 4]);');
    out.push('  printf("gbf %x %x %x\\n", gbf.x, gbf.y, gbf.z);');
    out.push('  return 0;', '}');
    return out.join('\n') + '\n';
  }
}
