// The CPU's BigInt-free wide arithmetic (src/machine/wideDivide.ts, wideMultiply.ts, the lazy
// 64-bit imul overflow in flags.ts) against BigInt, on edge values and random
// ones. (The host-CPU oracle checks the instructions themselves; this checks
// the arithmetic on many more values than the oracle's cases reach.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIVISION, div32, div64, divideS128, divideU128, divideU64, idiv32, idiv64 } from '../src/machine/wideDivide.js';
import { PRODUCT, mulLow64, mulS32, mulS64, mulU32, mulU64 } from '../src/machine/wideMultiply.js';
import { imul64Overflows } from '../src/machine/flags.js';

const M64 = (1n << 64n) - 1n;
const lo = (v: bigint) => Number(v & 0xffffffffn);
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);

/** A deterministic generator of 64-bit values biased toward edges (few bits, all bits, powers of two). */
function* values(count: number): Generator<bigint> {
  const edges = [0n, 1n, 2n, 3n, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0x8000000000000001n];
  yield* edges;
  let x = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & M64; x ^= x >> 7n; x ^= (x << 17n) & M64;
    const shift = BigInt(i % 64);
    yield i % 3 === 0 ? x >> shift : i % 3 === 1 ? (x << shift) & M64 : x;
  }
}

test('divideU128 gives the quotient and remainder of BigInt division, and refuses exactly when div raises #DE', () => {
  const vs = [...values(400)];
  let checked = 0;
  for (let i = 0; i < vs.length; i++) {
    for (const [a, b, dv] of [[vs[i], vs[(i * 7 + 3) % vs.length], vs[(i * 13 + 5) % vs.length]], [0n, vs[i], vs[(i + 1) % vs.length]], [vs[(i + 2) % vs.length] >> 20n, vs[i], vs[(i * 3) % vs.length] >> 1n]]) {
      const n = (a << 64n) | b;
      const ok = divideU128(lo(b), hi(b), lo(a), hi(a), lo(dv), hi(dv));
      const expectOk = dv !== 0n && n / dv <= M64;
      assert.equal(ok, expectOk, `${n} / ${dv}`);
      if (!ok) continue;
      assert.deepEqual([...DIVISION], [lo(n / dv), hi(n / dv), lo(n % dv), hi(n % dv)], `${n} / ${dv}`);
      checked++;
    }
  }
  assert.ok(checked > 500);
  // Dividends where the estimated quotient digit is one too large even after correction,
  // so the divisor must be added back (rare: about 2 in 65536 digits).
  const addBack: [bigint, bigint][] = [
    [0x7fff705f_00010001_00017fff_ffff8000n, 0x7fff7060_fffeffffn],
    [0x7ffffffd_00000001_8000fffe_00007fffn, 0x7ffffffe_ffffffffn],
    [0x00017fff_00000000_fffe7fff_0001fffen, 0x00018000_8000ffffn],
    [0x7fff7ffe_ffff7fff_305affff_7ffff5fbn, 0x7fff7fff_fffe8000n],
    [0x0000ffff_0000aa6f_0000ffff_cf43fffen, 0x00010000_00018000n],
  ];
  for (const [n, dv] of addBack) {
    const a = n >> 64n, b = n & M64;
    assert.equal(divideU128(lo(b), hi(b), lo(a), hi(a), lo(dv), hi(dv)), true);
    assert.deepEqual([...DIVISION], [lo(n / dv), hi(n / dv), lo(n % dv), hi(n % dv)], `${n} / ${dv}`);
  }
});

test('divideS128 truncates toward zero like idiv, with the limits of a 64- and a 32-bit quotient', () => {
  const vs = [...values(300)];
  const signed64 = (v: bigint) => BigInt.asIntN(64, v);
  for (let i = 0; i < vs.length; i++) {
    const high = i % 2 === 0 ? (signed64(vs[i]) < 0n ? M64 : 0n) : vs[(i * 5) % vs.length] >> BigInt(40 + (i % 24));
    const low = vs[i], dv = vs[(i * 11 + 1) % vs.length] >> BigInt(i % 50);
    const n = BigInt.asIntN(128, (high << 64n) | low), d = signed64(dv);
    const ok = divideS128(lo(low), hi(low), lo(high), hi(high), lo(dv), hi(dv), 64);
    const q = d === 0n ? 0n : n / d;
    assert.equal(ok, d !== 0n && q >= -(1n << 63n) && q < 1n << 63n, `${n} / ${d}`);
    if (ok) {
      const r = n % d;
      assert.deepEqual([...DIVISION], [lo(q), hi(q), lo(r), hi(r)].map((x) => x >>> 0), `${n} / ${d}`);
    }
    // 32-bit idiv: edx:eax / r32.
    const n32 = BigInt.asIntN(64, low), d32 = BigInt.asIntN(32, dv & 0xffffffffn);
    const ext = n32 < 0n ? 0xffffffff : 0, dext = d32 < 0n ? 0xffffffff : 0;
    const ok32 = divideS128(lo(low), hi(low), ext, ext, lo(dv), dext, 32);
    const q32 = d32 === 0n ? 0n : n32 / d32;
    assert.equal(ok32, d32 !== 0n && q32 >= -(1n << 31n) && q32 < 1n << 31n, `${n32} / ${d32}`);
    if (ok32) assert.deepEqual([DIVISION[0] | 0, DIVISION[2] | 0], [Number(q32), Number(n32 % d32)]);
  }
});

test('divideU64 (the fast path: 53-bit doubles, a 32-bit divisor, a corrected double estimate) equals BigInt division', () => {
  const vs = [...values(600)];
  // Quotients near an integer boundary, where the double estimate is one off.
  const near: [bigint, bigint][] = [[M64, 0x100000001n], [M64, 0xffffffffffffffffn], [(1n << 63n) + 1n, (1n << 32n) + 1n], [0xfffffffffffff800n, 0x1fffffffffffffn], [(1n << 53n) * 3n - 1n, 3n], [0xc2a7e62153876b59n, 0x40e2a20b1bd7ce73n], [0xf4516649fa3d4335n, 0x12cb2f40c47addc9n]];
  const pairs: [bigint, bigint][] = [...near];
  for (let i = 0; i < vs.length; i++) pairs.push([vs[i], vs[(i * 7 + 3) % vs.length] >> BigInt(i % 64)], [vs[i], vs[(i * 5 + 1) % vs.length] & 0xffffffffn], [vs[i] >> 11n, vs[(i * 3) % vs.length] >> 12n]);
  for (const [n, d] of pairs) {
    assert.equal(divideU64(lo(n), hi(n), lo(d), hi(d)), d !== 0n, `${n} / ${d}`);
    if (d !== 0n) assert.deepEqual([...DIVISION], [lo(n / d), hi(n / d), lo(n % d), hi(n % d)], `${n} / ${d}`);
  }
});

test('div32/div64/idiv32/idiv64 (what div and idiv compute in both tiers) equal BigInt division and refuse exactly the #DE cases', () => {
  const vs = [...values(300)];
  const s64 = (v: bigint) => BigInt.asIntN(64, v), s32 = (v: bigint) => BigInt.asIntN(32, v);
  const check = (ok: boolean, n: bigint, d: bigint, bits: number, signed: boolean) => {
    const limitOk = d !== 0n && (signed ? n / d >= -(1n << BigInt(bits - 1)) && n / d < 1n << BigInt(bits - 1) : n / d < 1n << BigInt(bits));
    assert.equal(ok, limitOk, `${n} / ${d} (${bits}, ${signed ? 'signed' : 'unsigned'})`);
    if (!ok) return;
    const m = (1n << BigInt(bits)) - 1n, q = (n / d) & m, r = (n % d) & m;
    const got = bits === 64 ? [...DIVISION] : [DIVISION[0], DIVISION[2]];
    assert.deepEqual(got, bits === 64 ? [lo(q), hi(q), lo(r), hi(r)] : [Number(q), Number(r)], `${n} / ${d}`);
  };
  const cases: [bigint, bigint, bigint][] = [[M64, 1n << 63n, M64], [0n, 1n << 63n, M64], [M64, 0x7fffffffn, 0xffffffffn], [0n, 0x80000000n, M64]];
  for (let i = 0; i < vs.length; i++) cases.push([vs[i] >> BigInt(i % 3 === 0 ? 0 : 40), vs[(i * 7 + 1) % vs.length], vs[(i * 11 + 2) % vs.length] >> BigInt(i % 60)]);
  // The JIT passes the halves as int32 (x | 0): the same result as with uint32 halves.
  const sameAsInt32 = (f: (...h: number[]) => boolean, halves: number[]): boolean => {
    const ok = f(...halves), expected = [...DIVISION];
    assert.equal(f(...halves.map((h) => h | 0)), ok);
    if (ok) assert.deepEqual([...DIVISION], expected);
    return ok;
  };
  for (const [rdx, rax, s] of cases) {
    check(sameAsInt32(div64, [lo(rax), hi(rax), lo(rdx), hi(rdx), lo(s), hi(s)]), (rdx << 64n) | rax, s, 64, false);
    const sext = s64(rax) < 0n ? M64 : 0n;
    for (const high of [rdx, sext]) check(sameAsInt32(idiv64, [lo(rax), hi(rax), lo(high), hi(high), lo(s), hi(s)]), BigInt.asIntN(128, (high << 64n) | rax), s64(s), 64, true);
    const eax = rax & 0xffffffffn, edx = rdx & 0xffffffffn, s32v = s & 0xffffffffn;
    check(sameAsInt32(div32, [lo(eax), lo(edx), lo(s32v)]), (edx << 32n) | eax, s32v, 32, false);
    for (const high of [edx, s32(eax) < 0n ? 0xffffffffn : 0n]) check(sameAsInt32(idiv32, [lo(eax), lo(high), lo(s32v)]), BigInt.asIntN(64, (high << 32n) | eax), s32(s32v), 32, true);
  }
});

test('mulU32/mulS32/mulU64/mulS64/mulLow64 (what mul and imul compute in both tiers) equal BigInt products', () => {
  const vs = [...values(3000)];
  const s64 = (v: bigint) => BigInt.asIntN(64, v);
  for (let i = 0; i < vs.length; i++) {
    const a = vs[i], b = vs[(i * 7 + 1) % vs.length];
    const u = a * b, s = BigInt.asUintN(128, s64(a) * s64(b));
    const words = (v: bigint) => [0n, 32n, 64n, 96n].map((k) => Number((v >> k) & 0xffffffffn));
    mulU64(lo(a), hi(a), lo(b), hi(b)); assert.deepEqual([...PRODUCT], words(u), `${a} * ${b}`);
    mulS64(lo(a), hi(a), lo(b), hi(b)); assert.deepEqual([...PRODUCT], words(s), `${s64(a)} * ${s64(b)}`);
    mulLow64(lo(a), hi(a), lo(b), hi(b)); assert.deepEqual([...PRODUCT].slice(0, 2), words(u).slice(0, 2));
    const x = a & 0xffffffffn, y = b & 0xffffffffn;
    mulU32(lo(x), lo(y)); assert.deepEqual([...PRODUCT].slice(0, 2), words(x * y).slice(0, 2));
    mulS32(lo(x), lo(y)); assert.deepEqual([...PRODUCT].slice(0, 2), words(BigInt.asUintN(64, BigInt.asIntN(32, x) * BigInt.asIntN(32, y))).slice(0, 2));
    // The JIT passes the halves as int32 (x | 0): the same products.
    const sLo = (v: bigint) => lo(v) | 0, sHi = (v: bigint) => hi(v) | 0;
    mulU64(sLo(a), sHi(a), sLo(b), sHi(b)); assert.deepEqual([...PRODUCT], words(u), `${a} * ${b} (int32 halves)`);
    mulS64(sLo(a), sHi(a), sLo(b), sHi(b)); assert.deepEqual([...PRODUCT], words(s), `${s64(a)} * ${s64(b)} (int32 halves)`);
    mulLow64(sLo(a), sHi(a), sLo(b), sHi(b)); assert.deepEqual([...PRODUCT].slice(0, 2), words(u).slice(0, 2));
    mulU32(sLo(x), sLo(y)); assert.deepEqual([...PRODUCT].slice(0, 2), words(x * y).slice(0, 2));
    mulS32(sLo(x), sLo(y)); assert.deepEqual([...PRODUCT].slice(0, 2), words(BigInt.asUintN(64, BigInt.asIntN(32, x) * BigInt.asIntN(32, y))).slice(0, 2));
  }
});

test('imul64Overflows says whether the signed 128-bit product leaves 64 bits', () => {
  const vs = [...values(300)];
  for (let i = 0; i < vs.length; i++) {
    for (const y of [vs[(i * 7 + 1) % vs.length], vs[(i * 3) % vs.length] >> 33n, 0xffffffffn, -1n & M64]) {
      const x = vs[i];
      const p = BigInt.asIntN(64, x) * BigInt.asIntN(64, y);
      const expected = p !== BigInt.asIntN(64, p & M64);
      assert.equal(imul64Overflows(lo(x), hi(x), lo(y), hi(y)), expected, `${BigInt.asIntN(64, x)} * ${BigInt.asIntN(64, y)}`);
    }
  }
  // The one product of magnitude 2^63 that fits: -2^63 = 2^62 * -2.
  assert.equal(imul64Overflows(0, 0x40000000, 0xfffffffe, 0xffffffff), false);
  assert.equal(imul64Overflows(0, 0x40000000, 2, 0), true);
});
