// Products written into a translation (JS text) instead of a call to
// wideMultiply.ts: the translations are too large for V8 to inline a helper
// into, and a call costs more than the multiply (its arguments, the PRODUCT
// array stored and read back as doubles).
//
// Schoolbook multiplication in base 2^16 with int32 operations only: a
// 16-bit digit times a 16-bit digit is below 2^32, and Math.imul gives its 32
// bits exactly (`>>> 16` and `& 0xffff` read them as unsigned); a column's sum
// of a few such halves stays far below 2^31. So V8 keeps every value in an
// integer register (no double arithmetic, no conversion). Values are int32
// halves (JS expressions, least significant first); the code declares
// `const ${p}0`, `${p}1`... (int32 words of the product) and its own
// temporaries, all prefixed with `p`.
// test/jitMultiply.test.ts checks every form against BigInt products.

import { borrow } from './pieces.js';

/** JS declaring the 16-bit digits of 32-bit halves: `${p}d0`.. of the value [lo, hi] (hi: only when `wide`). */
function digits(p: string, v: string[]): string {
  return v.map((x, i) => `const ${p}${2 * i} = (${x}) & 0xffff, ${p}${2 * i + 1} = (${x}) >>> 16;`).join(' ');
}

/**
 * The low `words` 32-bit words (2: 32x32 -> 64 or the low half of 64x64; 4: 64x64 -> 128) of the
 * unsigned product of `a` and `b` (arrays of int32 half expressions, one or two each), as consts
 * `${p}0`... Columns of 16 bits: column k sums the low halves of the digit products i + j = k, the
 * high halves of those of i + j = k - 1, and the carry out of column k - 1.
 */
export function unsignedProduct(p: string, a: string[], b: string[], words: number): string {
  const n = 2 * a.length, m = 2 * b.length, cols = 2 * words;
  let code = `${digits(`${p}a`, a)} ${digits(`${p}b`, b)} `;
  const name = (i: number, j: number): string => `${p}m${i}_${j}`;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) if (i + j < cols) code += `const ${name(i, j)} = Math.imul(${p}a${i}, ${p}b${j}); `;
  for (let k = 0; k < cols; k++) {
    const terms: string[] = k > 0 ? [`(${p}c${k - 1} >>> 16)`] : [];
    for (let i = 0; i < n; i++) {
      const j = k - i, j1 = k - 1 - i;
      if (j >= 0 && j < m) terms.push(`(${name(i, j)} & 0xffff)`);
      if (j1 >= 0 && j1 < m) terms.push(`(${name(i, j1)} >>> 16)`);
    }
    code += `const ${p}c${k} = ${terms.length ? terms.join(' + ') : '0'}; `;
  }
  for (let w = 0; w < words; w++) code += `const ${p}${w} = (${p}c${2 * w} & 0xffff) | (${p}c${2 * w + 1} << 16); `;
  return code;
}

/**
 * The low 64 bits of a 64x64 product (two- and three-operand imul: the same for signed and unsigned) as
 * consts `${p}0`, `${p}1`: the low words' full product, and the cross terms' low 32 bits (Math.imul) in the high word.
 */
export function lowProduct64(p: string, aL: string, aH: string, bL: string, bH: string): string {
  return `${unsignedProduct(`${p}u`, [aL], [bL], 2)} const ${p}0 = ${p}u0, ${p}1 = (${p}u1 + Math.imul(${aL}, ${bH}) + Math.imul(${aH}, ${bL})) | 0;`;
}

/**
 * The full product of one-operand mul / imul (32 bits: words 0-1; 64 bits: 0-3) as `let ${p}0`...: the
 * unsigned product, and for imul its high half less each operand whose other operand is negative (as
 * wideMultiply.ts's mulS32 / mulS64: a negative x is x + 2^n there).
 */
export function fullProduct(p: string, signed: boolean, a: string[], b: string[]): string {
  const words = 2 * a.length;
  let code = unsignedProduct(`${p}u`, a, b, words);
  code += ` let ${Array.from({ length: words }, (_, w) => `${p}${w} = ${p}u${w}`).join(', ')};`;
  if (!signed) return code;
  const top = (v: string[]): string => `((${v[v.length - 1]}) | 0) < 0`;
  // The high half (words h.. of the product) minus v, with the borrow between its words.
  const subtractHigh = (v: string[]): string => {
    if (v.length === 1) return `${p}1 = (${p}1 - ${v[0]}) | 0;`;
    return `{ const t = (${p}2 - ${v[0]}) | 0; ${p}3 = (${p}3 - ${v[1]} - ${borrow(`${p}2`, v[0], 't')}) | 0; ${p}2 = t; }`;
  };
  return `${code} if (${top(a)}) ${subtractHigh(b)} if (${top(b)}) ${subtractHigh(a)}`;
}
