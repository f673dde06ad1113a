// The JIT's inline bit scans and counts (src/machine/jit/translateBitScan.ts's
// bitCountCode) against the interpreter's (executeBits.ts) on edge and random
// values of 32 and 64 bits; test/jitSigns runs them translated in lockstep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitCountCode } from '../src/machine/jit/translateBitScan.js';
import { countBits, highestSetBit, lowestSetBit } from '../src/machine/executeBits.js';

const EDGES = [0, 1, 2, 3, 0x80000000, 0x7fffffff, 0xffffffff, 0x80000001, 0x10000, 0xffff, 0x55555555, 0xaaaaaaaa, 0x00ff00ff];

test('jit: the inline bsf / bsr / tzcnt / lzcnt / popcnt are the interpreter\'s, 32 and 64 bits', () => {
  let seed = 0x2545f491;
  const next = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) >>> (seed & 31); };
  const values: [number, number][] = [];
  for (const a of EDGES) for (const b of EDGES) values.push([a, b]);
  for (let i = 0; i < 20000; i++) values.push([next(), next()]);
  for (const size of [32, 64] as const) {
    for (const m of ['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt'] as const) {
      const run = new Function('x', 'xH', `${bitCountCode(m, size, 'r', 'x', 'xH')} return r;`) as (x: number, xH: number) => number;
      for (const [lo, hi] of values) {
        const h = size === 64 ? hi : 0;
        const want = m === 'bsf' ? lowestSetBit(lo, h) : m === 'bsr' ? highestSetBit(lo, h) : countBits(m, lo, h, size);
        // The translations hold int32 halves; at 32 bits the high half is 0.
        const got = run(lo | 0, h | 0);
        assert.equal(got, want, `${m}${size} ${hi.toString(16)}:${lo.toString(16)}`);
        assert.equal(got, got | 0, 'an int32');
      }
    }
  }
});
