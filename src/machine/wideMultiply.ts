// Wide multiplication without BigInt, for mul and imul (executeArithmetic.ts)
// and the JIT's translations of them (jit/translate.ts, jit/translateMulDiv.ts):
// both call the functions here, so the two tiers multiply the same way.
//
// A 32x32 product is built from 32x16 partial products (each below 2^48, so
// exact in a JS number); a 64x64 product from four of those. Values travel as
// uint32 halves, least significant first; results land in PRODUCT.

const TWO_32 = 0x100000000;

/** The last product: PRODUCT[0] is the least significant 32 bits (a 32-bit multiply fills [0] and [1]). */
export const PRODUCT = new Uint32Array(4);

/** Results of mul32 (module scratch: no allocation). */
let mLo = 0, mHi = 0;

/** Unsigned 32x32 -> 64 product into mLo/mHi, exactly. */
function mul32(a: number, b: number): void {
  // Split b into 16-bit halves: a * b = p0 + p1 * 2^16, each partial product below 2^48.
  const p0 = a * (b & 0xffff), p1 = a * (b >>> 16);
  const t = p0 + (p1 & 0xffff) * 65536; // below 2^49: exact
  mLo = t >>> 0;
  mHi = (Math.floor(p1 / 65536) + Math.floor(t / TWO_32)) >>> 0;
}

/** Unsigned 32x32 -> 64 into PRODUCT[0..1] (mul r/m32). */
export function mulU32(a: number, b: number): void {
  mul32(a, b);
  PRODUCT[0] = mLo; PRODUCT[1] = mHi;
}

/** Signed 32x32 -> 64 into PRODUCT[0..1] (one-operand imul r/m32): the unsigned product, high half corrected. */
export function mulS32(a: number, b: number): void {
  mul32(a, b);
  PRODUCT[0] = mLo;
  PRODUCT[1] = mHi - ((a & 0x80000000) ? b : 0) - ((b & 0x80000000) ? a : 0);
}

/** The low 64 bits of a 64x64 product into PRODUCT[0..1] (two- and three-operand imul r64: the same for signed and unsigned). */
export function mulLow64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mul32(aLo, bLo);
  PRODUCT[0] = mLo;
  PRODUCT[1] = mHi + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
}

/** Unsigned 64x64 -> 128 into PRODUCT[0..3] (mul r/m64). */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mul32(aLo, bLo); const l0 = mLo, h0 = mHi;
  mul32(aLo, bHi); const l1 = mLo, h1 = mHi;
  mul32(aHi, bLo); const l2 = mLo, h2 = mHi;
  mul32(aHi, bHi); const l3 = mLo, h3 = mHi;
  const s1 = h0 + l1 + l2;
  const s2 = h1 + h2 + l3 + Math.floor(s1 / TWO_32);
  PRODUCT[0] = l0;
  PRODUCT[1] = s1;
  PRODUCT[2] = s2;
  PRODUCT[3] = h3 + Math.floor(s2 / TWO_32);
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
