// The JIT's translation of the bit scans and counts (bsf, bsr, tzcnt, lzcnt,
// popcnt; 32 and 64 bits, register or memory source). The result is computed
// inline (bitCountCode, checked against executeBits.ts's lowestSetBit,
// highestSetBit and countBits by test/jitBitCount.test.ts: a call to them
// cost more than the count), with the interpreter's choices where the manuals
// leave things undefined (bsf/bsr of 0 leave the destination unchanged). The
// flags come from the interpreter's own functions (executeBits.ts, through H:
// jit/helpers.ts; the flags of the oracle's host CPU), made only where
// observed, by bitScanFlags / countFlags from the saved index or count, after
// the record before them (which they partly keep: FlagKind 'scan', 'tzcnt'...).

import type { Decoded } from '../../isa/decode.js';
import { anyReg, Ops, type Piece } from './pieces.js';

type Count = 'bsf' | 'bsr' | 'tzcnt' | 'lzcnt' | 'popcnt';

/** The trailing zeros of the int32 x, 32 for 0: the bits below the lowest set bit, counted from the top. */
function trailingZeros(x: string): string {
  return `(32 - Math.clz32(~${x} & (${x} - 1)))`;
}

/** The set bits of the int32 x (sums of bit pairs, nibbles, then bytes by a multiply). */
function setBits(x: string, p: string): string {
  return `((${p} = ${x} - ((${x} >>> 1) & 0x55555555), ${p} = (${p} & 0x33333333) + ((${p} >>> 2) & 0x33333333), `
    + `Math.imul((${p} + (${p} >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24))`;
}

/**
 * JS declaring `const ${r}` (an int32): the bsf/bsr index (-1 for a zero source) or the tzcnt / lzcnt /
 * popcnt count of x (the low half, int32) and, at 64 bits, xH; popcnt uses `let ${r}t`.
 */
export function bitCountCode(m: Count, size: 32 | 64, r: string, x: string, xH: string): string {
  const wide = size === 64;
  switch (m) {
    case 'bsf': return `const ${r} = ${x} !== 0 ? ${trailingZeros(x)} : ${wide ? `${xH} !== 0 ? 32 + ${trailingZeros(xH)} : -1` : '-1'};`;
    case 'bsr': return `const ${r} = ${wide ? `${xH} !== 0 ? 63 - Math.clz32(${xH}) : ` : ''}${x} !== 0 ? 31 - Math.clz32(${x}) : -1;`;
    case 'tzcnt': return `const ${r} = ${wide ? `${x} !== 0 ? ${trailingZeros(x)} : 32 + ${trailingZeros(xH)}` : trailingZeros(x)};`;
    case 'lzcnt': return `const ${r} = ${wide ? `${xH} !== 0 ? Math.clz32(${xH}) : 32 + Math.clz32(${x})` : `Math.clz32(${x})`};`;
    case 'popcnt': return `let ${r}t = 0; const ${r} = ${setBits(x, `${r}t`)}${wide ? ` + ${setBits(xH, `${r}t`)}` : ''};`;
  }
}

/** The piece for bsf/bsr/tzcnt/lzcnt/popcnt r32/r64, r/m, or null. */
export function bitScanPiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  const [x, y] = d.operands;
  if (d.operands.length !== 2 || !anyReg(x) || (size !== 32 && size !== 64) || x.size !== size || y.type === 'imm') return null;
  if (m !== 'bsf' && m !== 'bsr' && m !== 'tzcnt' && m !== 'lzcnt' && m !== 'popcnt') return null;
  const src = c.source(y, size);
  if (src === null) return null;
  // The source first (the destination may be the source register).
  const head = `{ ${src.pre} const bs = ${src.v[0]}, bsH = ${src.v[1]};`;
  if (m === 'bsf' || m === 'bsr') {
    return c.piece(`${head} ${bitCountCode(m, size, 'i', 'bs', 'bsH')} if (i >= 0) { ${c.setReg(x, 'i', '0')} } /*F*/ }`, { kind: 'scan', size });
  }
  return c.piece(`${head} ${bitCountCode(m, size, 'n', 'bs', 'bsH')} ${c.setReg(x, 'n', '0')} /*F*/ }`, { kind: m, size });
}
