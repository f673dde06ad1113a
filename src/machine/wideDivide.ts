// Division of a 128-bit dividend by a 64-bit divisor without BigInt, for div
// and idiv (executeArithmetic.ts).
//
// Schoolbook long division (Knuth's algorithm D) in 16-bit digits: every
// intermediate value stays below 2^32, so plain JS numbers are exact, and
// nothing is allocated. Values travel as uint32 halves, least significant first.

const B = 65536;

/** Quotient and remainder of the last divideU128 (q0 q1 r0 r1: low and high halves). */
export const DIVISION = new Uint32Array(4);

const u = new Float64Array(9); // the dividend, normalized, one extra digit on top
const v = new Float64Array(4); // the divisor, normalized
const q = new Float64Array(8);

/** The 16-bit digits of (hi:lo) into `out` at `at` (4 digits). */
function digits(out: Float64Array, at: number, lo: number, hi: number): void {
  out[at] = lo & 0xffff; out[at + 1] = lo >>> 16; out[at + 2] = hi & 0xffff; out[at + 3] = hi >>> 16;
}

/**
 * Unsigned (n3:n2:n1:n0) / (d1:d0) into DIVISION. Returns false, computing
 * nothing, when the divisor is 0 or the quotient does not fit in 64 bits
 * (the #DE cases of div).
 */
export function divideU128(n0: number, n1: number, n2: number, n3: number, d0: number, d1: number): boolean {
  if ((d0 | d1) === 0) return false;
  // The quotient fits in 64 bits exactly when the dividend's high half is below the divisor.
  if (n3 > d1 || (n3 === d1 && n2 >= d0)) return false;
  digits(u, 0, n0, n1); digits(u, 4, n2, n3); u[8] = 0;
  digits(v, 0, d0, d1);
  let n = 4;
  while (v[n - 1] === 0) n--;
  const m = 8 - n; // quotient digits m+1 (the top ones are zero, by the check above)
  q.fill(0);
  if (n === 1) {
    // Short division by one digit.
    const d = v[0];
    let r = 0;
    for (let i = 7; i >= 0; i--) {
      const t = r * B + u[i];
      const qd = Math.floor(t / d);
      q[i] = qd;
      r = t - qd * d;
    }
    finish(r, 0);
    return true;
  }
  // Normalize: shift so the divisor's top digit has its top bit set.
  const s = Math.clz32(v[n - 1]) - 16;
  if (s > 0) {
    for (let i = n - 1; i > 0; i--) v[i] = ((v[i] << s) | (v[i - 1] >>> (16 - s))) & 0xffff;
    v[0] = (v[0] << s) & 0xffff;
    u[8] = u[7] >>> (16 - s);
    for (let i = 7; i > 0; i--) u[i] = ((u[i] << s) | (u[i - 1] >>> (16 - s))) & 0xffff;
    u[0] = (u[0] << s) & 0xffff;
  }
  const vTop = v[n - 1], vNext = v[n - 2];
  for (let j = m; j >= 0; j--) {
    // Estimate the quotient digit from the top two digits, then correct it (at most twice).
    const num = u[j + n] * B + u[j + n - 1];
    let qhat = Math.floor(num / vTop);
    let rhat = num - qhat * vTop;
    while (qhat >= B || qhat * vNext > rhat * B + u[j + n - 2]) {
      qhat--;
      rhat += vTop;
      if (rhat >= B) break;
    }
    // Multiply and subtract qhat * v from u[j .. j+n].
    let carry = 0, borrow = 0;
    for (let i = 0; i < n; i++) {
      const p = qhat * v[i] + carry;
      carry = Math.floor(p / B);
      let t = u[i + j] - (p - carry * B) - borrow;
      borrow = t < 0 ? 1 : 0;
      if (t < 0) t += B;
      u[i + j] = t;
    }
    let t = u[j + n] - carry - borrow;
    borrow = t < 0 ? 1 : 0;
    if (t < 0) t += B;
    u[j + n] = t;
    if (borrow !== 0) {
      // qhat was one too large: add the divisor back.
      qhat--;
      let c = 0;
      for (let i = 0; i < n; i++) {
        const w = u[i + j] + v[i] + c;
        c = w >= B ? 1 : 0;
        u[i + j] = w - c * B;
      }
      u[j + n] = (u[j + n] + c) % B;
    }
    q[j] = qhat;
  }
  // The remainder is u[0 .. n-1], shifted back.
  let r0 = 0, r1 = 0;
  const rd = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    rd[i] = s > 0 ? ((u[i] >>> s) | (i + 1 < 8 ? (u[i + 1] << (16 - s)) & 0xffff : 0)) & 0xffff : u[i];
  }
  r0 = (rd[0] | (rd[1] << 16)) >>> 0;
  r1 = (rd[2] | (rd[3] << 16)) >>> 0;
  finish(r0, r1);
  return true;
}

function finish(r0: number, r1: number): void {
  DIVISION[0] = q[0] + q[1] * B;
  DIVISION[1] = q[2] + q[3] * B;
  DIVISION[2] = r0;
  DIVISION[3] = r1;
}

/** Negate the 64-bit value hi:lo into [lo, hi] of `out` at `at`. */
function negate64(lo: number, hi: number): [number, number] {
  const nlo = (~lo + 1) >>> 0;
  return [nlo, (~hi + (nlo === 0 ? 1 : 0)) >>> 0];
}

/**
 * Signed (n3:n2:n1:n0) / (d1:d0), quotient truncated toward zero, remainder
 * with the dividend's sign, into DIVISION. `bits` is the quotient's width (64
 * or 32, the dividend then being n1:n0 sign-extended by the caller): false
 * when the divisor is 0 or the quotient does not fit (the #DE cases of idiv).
 */
export function divideS128(n0: number, n1: number, n2: number, n3: number, d0: number, d1: number, bits: 32 | 64): boolean {
  const negN = (n3 & 0x80000000) !== 0, negD = (d1 & 0x80000000) !== 0;
  if (negN) {
    // Negate the 128-bit dividend.
    n0 = (~n0 + 1) >>> 0; let c = n0 === 0 ? 1 : 0;
    n1 = (~n1 + c) >>> 0; c = c && n1 === 0 ? 1 : 0;
    n2 = (~n2 + c) >>> 0; c = c && n2 === 0 ? 1 : 0;
    n3 = (~n3 + c) >>> 0;
  }
  if (negD) [d0, d1] = negate64(d0, d1);
  if (!divideU128(n0, n1, n2, n3, d0, d1)) return false;
  let q0 = DIVISION[0], q1 = DIVISION[1];
  const negQ = negN !== negD;
  // The magnitude limit: 2^(bits-1) - 1 for a positive quotient, 2^(bits-1) for a negative one.
  if (bits === 64) {
    if (q1 > 0x80000000 || (q1 === 0x80000000 && (q0 !== 0 || !negQ))) return false;
  } else {
    if (q1 !== 0 || q0 > 0x80000000 || (q0 === 0x80000000 && !negQ)) return false;
  }
  if (negQ) [q0, q1] = negate64(q0, q1);
  let r0 = DIVISION[2], r1 = DIVISION[3];
  if (negN) [r0, r1] = negate64(r0, r1);
  DIVISION[0] = q0; DIVISION[1] = q1; DIVISION[2] = r0; DIVISION[3] = r1;
  return true;
}
