// xk cc -O1's tree pass (src/toolchain/cc/optimize.ts): constant folding and
// algebraic simplification show in the assembly; -O0 keeps the operations.
// That the rewritten code computes the same values is the differential
// suites' job (ccDifferential runs -O0 and -O1 against gcc).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileC } from '../src/toolchain/cc/compile.js';

const SOURCE = `
void never(void);
int chain(int x) { return x + 1 + 2 + 3; }
int identities(int x) { return ((x * 1) | 0) ^ 0; }
unsigned udiv(unsigned u) { return u / 8 + u % 16; }
int dead(int x) { if (0) never(); if (x && 0) never(); do { x++; } while (0); return x; }
int live(int x) { if (0) { lab: never(); } if (x) goto lab; return x; }
`;

function asm(optimize: number): string {
  const r = compileC(SOURCE, 'o.c', { includeDirs: [], defines: {}, optimize, readFile: () => null });
  assert.equal(r.assembly !== undefined, true, r.errors.join('\n'));
  return r.assembly!;
}

function body(text: string, name: string): string {
  return text.slice(text.indexOf(`${name}:`), text.indexOf(`.size\t${name},`));
}

test('-O1 folds x + 1 + 2 + 3 into one addition of 6; -O0 adds three times', () => {
  assert.match(body(asm(1), 'chain'), /\$6\b/);
  assert.doesNotMatch(body(asm(1), 'chain'), /\$[123]\b/);
  assert.match(body(asm(0), 'chain'), /\$3\b/);
});

test('-O1 drops x * 1, | 0, ^ 0; unsigned / 8 and % 16 become a shift and a mask', () => {
  assert.doesNotMatch(body(asm(1), 'identities'), /imul|\bor[lq]?\b|xor[lq]/);
  assert.match(body(asm(0), 'identities'), /imul/);
  const u = body(asm(1), 'udiv');
  assert.doesNotMatch(u, /\bdiv/);
  assert.match(u, /shr/);
  assert.match(u, /\$15\b/);
  assert.match(body(asm(0), 'udiv'), /\bdiv/);
});

test('-O1 removes code under a constant false condition, unless a label in it is reachable', () => {
  const d = body(asm(1), 'dead');
  assert.doesNotMatch(d, /never/);
  assert.match(body(asm(0), 'dead'), /never/);
  assert.match(body(asm(1), 'live'), /call never/);
});
