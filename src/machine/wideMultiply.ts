// Wide multiplication without BigInt, for mul and imul (executeArithmetic.ts)
// and the JIT's translations of them (jit/translate.ts, jit/translateMulDiv.ts):
// both call the functions here, so the two tiers multiply the same way.
//
// Values travel as 32-bit halves, least significant first; results land in
// PRODUCT. A half may be given as a uint32 or as the int32 with the same bits
// (the JIT passes `x | 0`: V8 passes an int32 to a call as a small integer,
// a uint32 of 2^31 or more as a newly allocated heap number).
//
// The arithmetic is in doubles: a 32-bit value times a 16-bit one is below
// 2^48, and sums of a few of those stay below 2^53, so every step is exact.
// Multiplying by 2^-16 or 2^-32 is exact too (a power of two), and
// Math.floor of that is a shift right. A product's 32-bit words are stored
// into PRODUCT as doubles: the Uint32Array keeps them modulo 2^32.

const TWO_32 = 0x100000000;
const R16 = 1 / 65536, R32 = 1 / TWO_32;

/** The last product: PRODUCT[0] is the least significant 32 bits (a 32-bit multiply fills [0] and [1]). */
export const PRODUCT = new Uint32Array(4);

/** The high 32 bits of the unsigned product a * b: a times b's 16-bit halves, each below 2^48. */
function high32(a: number, b: number): number {
  const x = a >>> 0;
  return Math.floor((x * (b >>> 16) + Math.floor(x * (b & 0xffff) * R16)) * R16);
}

/** Unsigned 32x32 -> 64 into PRODUCT[0..1] (mul r/m32). */
export function mulU32(a: number, b: number): void {
  PRODUCT[0] = Math.imul(a, b); PRODUCT[1] = high32(a, b);
}

/** Signed 32x32 -> 64 into PRODUCT[0..1] (one-operand imul r/m32): the unsigned product, high half corrected. */
export function mulS32(a: number, b: number): void {
  PRODUCT[0] = Math.imul(a, b);
  PRODUCT[1] = high32(a, b) - ((a & 0x80000000) ? b >>> 0 : 0) - ((b & 0x80000000) ? a >>> 0 : 0);
}

/** The low 64 bits of a 64x64 product into PRODUCT[0..1] (two- and three-operand imul r64: the same for signed and unsigned). */
export function mulLow64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  PRODUCT[0] = Math.imul(aLo, bLo);
  PRODUCT[1] = (high32(aLo, bLo) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
}

/**
 * Unsigned 64x64 -> 128 into PRODUCT[0..3] (mul r/m64): a's 32-bit halves x0 x1
 * times b's 16-bit digits b0..b3, summed by 32-bit column (x * bk counts at
 * 2^(16k), x1's at 2^32 more). A product at an odd digit is split into the
 * 16 bits of its own column and the rest, which go to the next.
 */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const x0 = aLo >>> 0, x1 = aHi >>> 0;
  const b0 = bLo & 0xffff, b1 = bLo >>> 16, b2 = bHi & 0xffff, b3 = bHi >>> 16;
  const p = x0 * b1, pTop = Math.floor(p * R16);
  const t0 = x0 * b0 + (p - pTop * 65536) * 65536;
  const q = x0 * b3, qTop = Math.floor(q * R16), r = x1 * b1, rTop = Math.floor(r * R16);
  const t1 = Math.floor(t0 * R32) + pTop + x0 * b2 + x1 * b0 + (q - qTop * 65536 + r - rTop * 65536) * 65536;
  const s = x1 * b3, sTop = Math.floor(s * R16);
  const t2 = Math.floor(t1 * R32) + qTop + rTop + x1 * b2 + (s - sTop * 65536) * 65536;
  PRODUCT[0] = t0; PRODUCT[1] = t1; PRODUCT[2] = t2; PRODUCT[3] = Math.floor(t2 * R32) + sTop;
}

/** Signed 64x64 -> 128 into PRODUCT[0..3] (one-operand imul r/m64): the unsigned product with the high half corrected for negative inputs. */
export function mulS64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU64(aLo, aHi, bLo, bHi);
  if (aHi & 0x80000000) subtractHigh(bLo, bHi);
  if (bHi & 0x80000000) subtractHigh(aLo, aHi);
}

function subtractHigh(lo: number, hi: number): void {
  const s = PRODUCT[2] - (lo >>> 0);
  PRODUCT[2] = s;
  PRODUCT[3] = PRODUCT[3] - (hi >>> 0) + Math.floor(s * R32);
}
