// Wide multiplication without BigInt, for mul and imul (executeArithmetic.ts)
// and the JIT's translations of them (jit/translate.ts, jit/translateMulDiv.ts):
// both call the functions here, so the two tiers multiply the same way.
//
// A 32x32 product's low half is Math.imul's; its high half is built from
// 16x16 partial products, so every intermediate value stays below 2^32 and
// V8 keeps it in integer registers. A 64x64 product takes four of those.
// Values travel as uint32 halves, least significant first; results land in
// PRODUCT.

const TWO_32 = 0x100000000;

/** The last product: PRODUCT[0] is the least significant 32 bits (a 32-bit multiply fills [0] and [1]). */
export const PRODUCT = new Uint32Array(4);

/** The high 32 bits of the unsigned product a * b. */
function high32(a: number, b: number): number {
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const lh = aL * bH, hl = aH * bL;
  const mid = ((aL * bL) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * bH + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Unsigned 32x32 -> 64 into PRODUCT[0..1] (mul r/m32). */
export function mulU32(a: number, b: number): void {
  PRODUCT[0] = Math.imul(a, b); PRODUCT[1] = high32(a, b);
}

/** Signed 32x32 -> 64 into PRODUCT[0..1] (one-operand imul r/m32): the unsigned product, high half corrected. */
export function mulS32(a: number, b: number): void {
  PRODUCT[0] = Math.imul(a, b);
  PRODUCT[1] = high32(a, b) - ((a & 0x80000000) ? b : 0) - ((b & 0x80000000) ? a : 0);
}

/** The low 64 bits of a 64x64 product into PRODUCT[0..1] (two- and three-operand imul r64: the same for signed and unsigned). */
export function mulLow64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  PRODUCT[0] = Math.imul(aLo, bLo);
  PRODUCT[1] = high32(aLo, bLo) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
}

/** Unsigned 64x64 -> 128 into PRODUCT[0..3] (mul r/m64). */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const l1 = Math.imul(aLo, bHi) >>> 0, h1 = high32(aLo, bHi);
  const l2 = Math.imul(aHi, bLo) >>> 0, h2 = high32(aHi, bLo);
  // The middle words with their carries (each sum below 3 * 2^32).
  const s1 = high32(aLo, bLo) + l1 + l2;
  const c1 = s1 >= 2 * TWO_32 ? 2 : s1 >= TWO_32 ? 1 : 0;
  const s2 = h1 + h2 + (Math.imul(aHi, bHi) >>> 0) + c1;
  const c2 = s2 >= 2 * TWO_32 ? 2 : s2 >= TWO_32 ? 1 : 0;
  PRODUCT[0] = Math.imul(aLo, bLo);
  PRODUCT[1] = s1 - c1 * TWO_32;
  PRODUCT[2] = s2 - c2 * TWO_32;
  PRODUCT[3] = high32(aHi, bHi) + c2;
}

/** Signed 64x64 -> 128 into PRODUCT[0..3] (one-operand imul r/m64): the unsigned product with the high half corrected for negative inputs. */
export function mulS64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU64(aLo, aHi, bLo, bHi);
  if (aHi & 0x80000000) subtractHigh(bLo, bHi);
  if (bHi & 0x80000000) subtractHigh(aLo, aHi);
}

function subtractHigh(lo: number, hi: number): void {
  const s = PRODUCT[2] - lo;
  PRODUCT[2] = s;
  PRODUCT[3] = PRODUCT[3] - hi + Math.floor(s / TWO_32);
}
