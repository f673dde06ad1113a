// xk cc -O1 keeps scalar locals whose address is never taken in callee-saved
// registers (and saves the ones it uses); -O0 keeps every local in the frame.
// That the code stays correct is the differential suites' job (ccDifferential
// and ccUser run -O0 and -O1); this checks the allocation happens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileC } from '../src/toolchain/cc/compile.js';

const SOURCE = `
int sum(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; }
int kept(int n) { int x = n; int *p = &x; *p += 1; return x; }
`;

function asm(optimize: number): string {
  const r = compileC(SOURCE, 'r.c', { includeDirs: [], defines: {}, optimize, readFile: () => null });
  assert.equal(r.assembly !== undefined, true, r.errors.join('\n'));
  return r.assembly!;
}

function body(text: string, name: string): string {
  return text.slice(text.indexOf(`${name}:`), text.indexOf(`.size\t${name},`));
}

test('-O1 puts s, i and n of sum() in callee-saved registers, saved and restored; -O0 does not', () => {
  const o1 = body(asm(1), 'sum');
  for (const r of ['rbx', 'r12', 'r13']) {
    assert.match(o1, new RegExp(`movq %${r}, -\\d+\\(%rbp\\)`), `${r} saved`);
    assert.match(o1, new RegExp(`movq -\\d+\\(%rbp\\), %${r}`), `${r} restored`);
  }
  assert.doesNotMatch(o1, /leaq -\d+\(%rbp\)/, 'no local is addressed in the frame');
  const o0 = body(asm(0), 'sum');
  assert.doesNotMatch(o0, /%rbx|%r1[2-5]/);
});

test('-O1 keeps a local whose address is taken in memory', () => {
  const o1 = body(asm(1), 'kept');
  assert.match(o1, /leaq -\d+\(%rbp\), %rax/);
});
