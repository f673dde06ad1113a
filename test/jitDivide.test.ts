// The JIT's inline division (src/machine/jit/inlineDivide.ts) against BigInt
// and wideDivide.ts (the interpreter's) on edge and random operands of every
// form, with the operands it leaves to the helper named; then translated loops
// of div / idiv against the interpreter in lockstep, and their #DE (a zero
// divisor, a quotient that does not fit) in the middle of a translated loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineDivide } from '../src/machine/jit/inlineDivide.js';
import { JIT_HELPERS } from '../src/machine/jit/helpers.js';
import { DIVISION, div32, div64, idiv32, idiv64 } from '../src/machine/wideDivide.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { machines, runChunk, TIERS } from './helpers/jitLockstep.js';

type Form = { signed: boolean; size: 32 | 64 };
const FORMS: Form[] = [{ signed: false, size: 32 }, { signed: true, size: 32 }, { signed: false, size: 64 }, { signed: true, size: 64 }];
const name = (f: Form): string => `${f.signed ? 'idiv' : 'div'}${f.size}`;
const M64 = (1n << 64n) - 1n;

const signedOf = (v: bigint, bits: number): bigint => (v >> BigInt(bits - 1) ? v - (1n << BigInt(bits)) : v);
const lo = (v: bigint): number => Number(v & 0xffffffffn) | 0;
const hi = (v: bigint): number => Number((v >> 32n) & 0xffffffffn) | 0;

/** The division by BigInt: [quotient, remainder] of `size` bits each, or null for #DE. */
function reference(f: Form, rax: bigint, rdx: bigint, s: bigint): [bigint, bigint] | null {
  const n = BigInt(f.size), mask = (1n << n) - 1n;
  rax &= mask; rdx &= mask; s &= mask;
  let N = (rdx << n) | rax, D = s;
  if (f.signed) { N = signedOf(N, 2 * f.size); D = signedOf(D, f.size); }
  if (D === 0n) return null;
  const q = N / D, r = N % D; // BigInt division truncates toward zero; the remainder has the dividend's sign
  const fits = f.signed ? q >= -(1n << (n - 1n)) && q < 1n << (n - 1n) : q < 1n << n;
  return fits ? [q & mask, r & mask] : null;
}

/** Which operands the inline code leaves to the helper (the rest it must divide itself). */
function leftToHelper(f: Form, rax: bigint, rdx: bigint, s: bigint): boolean {
  const n = BigInt(f.size), mask = (1n << n) - 1n;
  rax &= mask; rdx &= mask; s &= mask;
  if (s === 0n) return true;
  if (f.size === 32) {
    const edx = signedOf(rdx, 32);
    const inRange = f.signed ? edx >= -(1n << 21n) && edx < 1n << 21n : rdx < 1n << 21n;
    return !inRange || reference(f, rax, rdx, s) === null;
  }
  if (!f.signed) return rdx !== 0n;
  if (rdx !== (rax >> 63n ? M64 : 0n)) return true;
  // The magnitude of the quotient 2^63: -2^63 / 1 and -2^63 / -1.
  return rax === 1n << 63n && (s === 1n || s === M64);
}

/** The generated statements as a function of the halves: [q0, q1, r0, r1] (uint32) and whether the helper ran; throws #DE. */
function compile(f: Form): (rax: bigint, rdx: bigint, s: bigint) => { words: number[]; helper: boolean } {
  const args = f.size === 64 ? 'l0, h0, l2, h2, b, bH' : 'l0, l2, b';
  const call = `helper = true; if (!H.${name(f)}(${args})) throw H.divideError(); const D = H.DIVISION; dq0 = D[0] | 0; dq1 = D[1] | 0; dr0 = D[2] | 0; dr1 = D[3] | 0;`;
  const code = inlineDivide(f.signed, f.size, ['l0', 'h0'], ['l2', 'h2'], ['b', 'bH'], call);
  const run = new Function('H', 'l0', 'h0', 'l2', 'h2', 'b', 'bH', `let helper = false; ${code} return [dq0, dq1, dr0, dr1, helper];`) as
    (...a: unknown[]) => [number, number, number, number, boolean];
  return (rax, rdx, s) => {
    // At 32 bits the high halves of rAX and rDX are whatever the registers hold (not read); the divisor's is 0.
    const out = run(JIT_HELPERS, lo(rax), hi(rax), lo(rdx), hi(rdx), lo(s), f.size === 64 ? hi(s) : 0);
    const words = out.slice(0, 4) as number[];
    for (const w of words) assert.equal(w, w | 0, 'an int32 half');
    return { words: words.map((w) => w >>> 0), helper: out[4] };
  };
}

/** A seeded generator of 32-bit numbers (xorshift). */
function random(seed: number): () => number {
  return () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
}

const EDGES = [0n, 1n, 2n, 3n, 7n, 0xffffn, 0x10000n, 0x1fffffn, 0x200000n, 0x7fffffffn, 0x80000000n, 0x80000001n, 0xffffffffn,
  0x100000000n, 0x1ffffffffn, 0x1fffffffffffffn, 0x20000000000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
  0x8000000000000001n, 0xffffffff00000000n, 0xffffffff80000000n, 0xffffffff7fffffffn, 0xffe0000000000000n, 0xfffffffffffffffen, M64];

/** Dividends and divisors (at least 2^32) whose double quotient is one off the quotient (found by search). */
const ESTIMATE_OFF: [bigint, bigint][] = [[5442427588904189380n, 11501477180n], [9748766101013401945n, 16384480842039331n],
  [3179644497704284407n, 65669354957853n], [15785711924965770216n >> 1n, 478354906817144552n >> 1n],
  // Not multiples: the remainder plus the divisor carries into the high half.
  [5835439994830842341n, 389029332988722785n], [5242292981049810415n, 46391973283626636n], [2562393375877624064n, 3997493566111738n],
  // One above (just below a multiple).
  [5810774079242690254n, 2905387039621345183n], [3294568693586088480n, 237047400979n], [6094818890192981848n, 731846648678312n]];

/** Operand triples (rax, rdx, divisor): edges, then random values of random widths and signs, with rDX 0, the sign of rAX, small, or random. */
function operands(f: Form, count: number, seed: number): [bigint, bigint, bigint][] {
  const next = random(seed);
  const r64 = (): bigint => (BigInt(next()) << 32n) | BigInt(next());
  const sized = (): bigint => {
    const v = r64() >> BigInt(next() % 64);
    return next() % 2 ? v : (-v) & M64;
  };
  const out: [bigint, bigint, bigint][] = [];
  const sign = (v: bigint): bigint => (f.size === 64 ? (v >> 63n ? M64 : 0n) : ((v >> 31n) & 1n ? M64 : 0n));
  for (const a of EDGES) for (const s of EDGES) { out.push([a, 0n, s], [a, sign(a), s]); }
  for (const [n, s] of ESTIMATE_OFF) out.push([n, 0n, s], [(-n) & M64, M64, s], [n, 0n, (-s) & M64]);
  for (let i = 0; i < count; i++) {
    const a = sized(), s = sized();
    const k = next() % 8;
    const rdx = k < 3 ? 0n : k < 6 ? sign(a) : k === 6 ? BigInt(next() % 0x400000) : r64();
    out.push([a, rdx, s]);
    // A dividend q * s + r whose quotient fits (rDX anything): the helper's paths that do not fault.
    const q = sized() & ((1n << BigInt(f.size - 1)) - 1n), sv = f.signed ? signedOf(s & ((1n << BigInt(f.size)) - 1n), f.size) : s & ((1n << BigInt(f.size)) - 1n);
    if (sv !== 0n) {
      const rem = BigInt(next()) % (sv < 0n ? -sv : sv);
      const n = ((f.signed && next() % 2 ? -q : q) * sv + (f.signed && next() % 2 ? -rem : rem)) & ((1n << BigInt(2 * f.size)) - 1n);
      const low = n & ((1n << BigInt(f.size)) - 1n), high = n >> BigInt(f.size);
      out.push([low | (f.size === 32 ? r64() << 32n : 0n), high, s]);
    }
    // An exact multiple k * s with rDX 0 or the sign: where the double estimate of a 64-bit quotient can fall one short.
    const s63 = s & ((1n << BigInt(f.size - 1)) - 1n);
    if (s63 !== 0n) {
      const k = r64() % ((1n << BigInt(f.size - 1)) / s63) + 1n, n = k * s63 - BigInt(next() % 2);
      if (n < 1n << BigInt(f.size - 1)) out.push([n, 0n, s63], [(-n) & M64, M64, s63]);
    }
  }
  return out;
}

test('jit: the inline division is the BigInt division (div / idiv of 32 and 64 bits, #DE included), as wideDivide.ts, the helper only for rare operands', () => {
  const helpers = { div32, idiv32, div64, idiv64 };
  for (const f of FORMS) {
    const divide = compile(f);
    let inline = 0;
    for (const [rax, rdx, s] of operands(f, 6000, 0x1234567 + f.size + (f.signed ? 1 : 0))) {
      const what = `${name(f)} ${rdx.toString(16)}:${rax.toString(16)} / ${s.toString(16)}`;
      const want = reference(f, rax, rdx, s);
      let got: { words: number[]; helper: boolean } | null = null;
      try { got = divide(rax, rdx, s); } catch (e) { assert.equal((e as { vector?: number }).vector, 0, `#DE: ${what}`); }
      const args = f.size === 64 ? [lo(rax), hi(rax), lo(rdx), hi(rdx), lo(s), hi(s)] : [lo(rax), lo(rdx), lo(s)];
      const ok = (helpers[name(f) as keyof typeof helpers] as (...a: number[]) => boolean)(...args);
      if (want === null) {
        assert.equal(got, null, `#DE expected: ${what}`);
        assert.equal(ok, false, `wideDivide's #DE: ${what}`);
        continue;
      }
      assert.ok(got !== null, `no #DE: ${what}`);
      const words = (v: bigint): number[] => [Number(v & 0xffffffffn), Number(v >> 32n)];
      const expect = f.size === 64 ? [...words(want[0]), ...words(want[1])] : [Number(want[0]), null, Number(want[1]), null];
      assert.deepEqual([got.words[0], f.size === 64 ? got.words[1] : null, got.words[2], f.size === 64 ? got.words[3] : null], expect, what);
      assert.equal(ok, true, what);
      if (f.size === 64) assert.deepEqual(got.words, [...DIVISION], `as wideDivide: ${what}`);
      else assert.deepEqual([got.words[0], got.words[2]], [DIVISION[0], DIVISION[2]], `as wideDivide: ${what}`);
      assert.equal(got.helper, leftToHelper(f, rax, rdx, s), `${got.helper ? 'the helper' : 'inline'}: ${what}`);
      if (!got.helper) inline++;
    }
    assert.ok(inline > 5000, `${name(f)}: most operands divided inline (${inline})`);
  }
});

const CODE = 0x10000, TABLE = 0x100000;
const TIER_LIST = [TIERS.jit, TIERS.regions, TIERS.blocks, TIERS.interpreter];
const FORM_TEXT: Record<string, string[]> = {
  div32: ['divl %ebx', 'divl 16(%rsi)'], idiv32: ['idivl %ebx', 'idivl 16(%rsi)'],
  div64: ['divq %rbx', 'divq 16(%rsi)'], idiv64: ['idivq %rbx', 'idivq 16(%rsi)'],
};

/** A loop over `rows` (rax, rdx, divisor) at TABLE running `insn` on each, its results and flags summed into r12 and r13. */
function loop(insn: string, rows: number): string {
  return `mov $${TABLE}, %esi
    mov $${rows}, %ecx
    xor %r12d, %r12d
    xor %r13d, %r13d
  1: mov (%rsi), %rax
    mov 8(%rsi), %rdx
    mov 16(%rsi), %rbx
    ${insn}
    pushfq
    pop %r8
    add %r8, %r12
    xor %rax, %r12
    rol $7, %r12
    add %rdx, %r13
    add $24, %rsi
    dec %ecx
    jnz 1b
    hlt`;
}

function tableBytes(rows: [bigint, bigint, bigint][]): Uint8Array {
  const bytes = new Uint8Array(rows.length * 24), view = new DataView(bytes.buffer);
  rows.forEach((row, i) => row.forEach((v, j) => view.setBigUint64(i * 24 + j * 8, v & M64, true)));
  return bytes;
}

/** Every tier runs `code` over `rows` in slices of `chunk`: the same state, or the same fault, after each. */
function lockstep(code: Uint8Array, rows: [bigint, bigint, bigint][], chunk: number, what: string): string {
  const ms = machines(TIER_LIST, (m) => {
    m.loadPhysical(CODE, code); m.loadPhysical(TABLE, tableBytes(rows));
    m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); m.cpu.interruptCheck = false;
  });
  for (let done = 0; done < 2_000_000; done += chunk) {
    const out = ms.map((m) => runChunk(m, chunk));
    for (let i = 0; i < 3; i++) assert.equal(out[i], out[3], `${what}: tier ${i} vs interpreter after ${done + chunk} instructions (slices of ${chunk})`);
    if (out[3].startsWith('fault') || ms[3].cpu.halted) return out[3];
  }
  assert.fail(`${what}: the program did not end`);
}

test('jit: translated div / idiv of every form match the interpreter in lockstep (results, flags, counts)', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  for (const f of FORMS) {
    const rows = operands(f, 300, 77 + f.size).filter(([a, d, s]) => reference(f, a, d, s) !== null);
    for (const insn of FORM_TEXT[name(f)]) {
      const before = jitStats.compiled;
      for (const chunk of [5, 97]) assert.equal(lockstep(assembleText(loop(insn, rows.length)), rows, chunk, insn).includes('"halted":true'), true, `${insn} ran to its end`);
      assert.ok(jitStats.compiled > before, `${insn}: the loop was translated`);
    }
  }
});

test('jit: #DE of div / idiv (zero divisor, quotient too large) in the middle of a translated loop leaves the state as the interpreter does', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const fine: [bigint, bigint, bigint][] = [[1000n, 0n, 7n], [0x123456789n, 0n, 0x10001n], [5n, 0n, 3n], [0xfffffffn, 0n, 0x11n], [99n, 0n, 10n], [12n, 0n, 5n]];
  const faults: Record<string, [bigint, bigint, bigint][]> = {
    div32: [[5n, 0n, 0n], [0n, 7n, 7n], [0n, 1n, 1n], [0n, 0x100000n, 0x100000n], [0n, 0x300000n, 0x200000n]],
    idiv32: [[5n, 0n, 0n], [0x80000000n, M64, M64], [0n, 1n, 2n], [0n, 0x100000n, 0x100000n]],
    div64: [[5n, 0n, 0n], [0n, 1n, 1n], [0n, 0x100000000n, 0x100000000n]],
    idiv64: [[5n, 0n, 0n], [1n << 63n, M64, M64], [0n, 1n, 2n]],
  };
  for (const f of FORMS) {
    for (const bad of faults[name(f)]) {
      assert.equal(reference(f, ...bad), null, `${name(f)} ${bad}: a #DE`);
      for (const insn of FORM_TEXT[name(f)]) {
        const out = lockstep(assembleText(loop(insn, fine.length + 1)), [...fine, bad], 1000, `${insn} ${bad}`);
        assert.match(out, /^fault 0\//, `${insn} ${bad}: #DE`);
      }
    }
  }
});
