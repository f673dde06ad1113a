// The JIT's inline products (src/machine/jit/inlineMultiply.ts) against BigInt
// and against wideMultiply.ts (the interpreter's), on edge and random operands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullProduct, lowProduct64 } from '../src/machine/jit/inlineMultiply.js';
import { PRODUCT, mulLow64, mulS32, mulS64, mulU32, mulU64 } from '../src/machine/wideMultiply.js';

const M64 = (1n << 64n) - 1n;
const EDGES = [0n, 1n, 2n, 3n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x1ffffffffn, 0x7fffffffffffffffn,
  0x8000000000000000n, 0x8000000000000001n, 0xffffffff00000000n, 0xfffffffffffffffen, M64, 0xffff0000ffff0000n, 0x0000ffff0000ffffn];

/** Operand pairs: every pair of edges, then random 64-bit values (xorshift, seeded). */
function pairs(): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const a of EDGES) for (const b of EDGES) out.push([a, b]);
  let s = 0x9e3779b9;
  const next = (): bigint => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return BigInt(s >>> 0); };
  for (let i = 0; i < 4000; i++) out.push([(next() << 32n) | next(), (next() << 32n) | next()]);
  return out;
}

// The translations' form of a value: int32 halves (jit/pieces.ts).
const halves = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
const signed = (v: bigint, bits: bigint): bigint => (v >> (bits - 1n) ? v - (1n << bits) : v);
const fromWords = (w: number[]): bigint => w.reduceRight((acc, x) => (acc << 32n) | BigInt(x >>> 0), 0n);

/** The generated statements as a function of (aL, aH, bL, bH) returning the words named `p0`... */
function compile(code: string, words: number): (aL: number, aH: number, bL: number, bH: number) => number[] {
  const run = new Function('aL', 'aH', 'bL', 'bH', `${code} return [${Array.from({ length: words }, (_, w) => `p${w}`).join(', ')}];`) as
    (aL: number, aH: number, bL: number, bH: number) => number[];
  // Each word must be an int32 (the translations' form); returned as uint32 to compare with PRODUCT's.
  return (aL, aH, bL, bH) => run(aL, aH, bL, bH).map((w) => { assert.equal(w, w | 0, 'an int32 word'); return w >>> 0; });
}

test('jit: the inline products are the BigInt products (low 64 bits of 64x64; full 32x32 and 64x64, unsigned and signed), as wideMultiply.ts', () => {
  const low64 = compile(lowProduct64('p', 'aL', 'aH', 'bL', 'bH'), 2);
  const u64 = compile(fullProduct('p', false, ['aL', 'aH'], ['bL', 'bH']), 4), s64 = compile(fullProduct('p', true, ['aL', 'aH'], ['bL', 'bH']), 4);
  const u32 = compile(fullProduct('p', false, ['aL'], ['bL']), 2), s32 = compile(fullProduct('p', true, ['aL'], ['bL']), 2);
  for (const [a, b] of pairs()) {
    const [aL, aH] = halves(a), [bL, bH] = halves(b);
    const what = `${a.toString(16)} * ${b.toString(16)}`;
    const all = (v: bigint, bits: bigint): bigint => v & ((1n << bits) - 1n);
    assert.equal(fromWords(low64(aL, aH, bL, bH)), (a * b) & M64, `low 64: ${what}`);
    assert.equal(fromWords(u64(aL, aH, bL, bH)), a * b, `unsigned 128: ${what}`);
    assert.equal(fromWords(s64(aL, aH, bL, bH)), all(signed(a, 64n) * signed(b, 64n), 128n), `signed 128: ${what}`);
    const a32 = a & 0xffffffffn, b32 = b & 0xffffffffn;
    assert.equal(fromWords(u32(aL, 0, bL, 0)), a32 * b32, `unsigned 64: ${what}`);
    assert.equal(fromWords(s32(aL, 0, bL, 0)), all(signed(a32, 32n) * signed(b32, 32n), 64n), `signed 64: ${what}`);
    // The same words as the interpreter's helpers.
    mulLow64(aL, aH, bL, bH); assert.deepEqual([PRODUCT[0], PRODUCT[1]], low64(aL, aH, bL, bH));
    mulU64(aL, aH, bL, bH); assert.deepEqual([...PRODUCT], u64(aL, aH, bL, bH));
    mulS64(aL, aH, bL, bH); assert.deepEqual([...PRODUCT], s64(aL, aH, bL, bH));
    mulU32(aL, bL); assert.deepEqual([PRODUCT[0], PRODUCT[1]], u32(aL, 0, bL, 0));
    mulS32(aL, bL); assert.deepEqual([PRODUCT[0], PRODUCT[1]], s32(aL, 0, bL, 0));
  }
});
