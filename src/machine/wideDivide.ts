// Division without BigInt, for div and idiv (executeArithmetic.ts) and the
// JIT's translations of them (jit/translateMulDiv.ts): both call the
// functions here, so the two tiers divide the same way.
//
// A dividend that fits in 64 bits (the common case: rDX is 0, or only the
// sign of rAX) takes the fast path, divideU64: plain double arithmetic when
// both operands fit in 53 bits, else a double estimate of the quotient
// corrected exactly, or a short division by 16-bit digits for a 32-bit
// divisor. A wider dividend goes through schoolbook long division (Knuth's
// algorithm D) in 16-bit digits. Every intermediate value stays exact in a JS
// number, and nothing is allocated. Values travel as uint32 halves, least
// significant first.

const B = 65536;
const TWO_32 = 0x100000000;

/** Quotient and remainder of the last division (q0 q1 r0 r1: low and high halves). */
export const DIVISION = new Uint32Array(4);

const u = new Float64Array(9); // the dividend, normalized, one extra digit on top
const v = new Float64Array(4); // the divisor, normalized
const q = new Float64Array(8);

/** The 16-bit digits of (hi:lo) into `out` at `at` (4 digits). */
function digits(out: Float64Array, at: number, lo: number, hi: number): void {
  out[at] = lo & 0xffff; out[at + 1] = lo >>> 16; out[at + 2] = hi & 0xffff; out[at + 3] = hi >>> 16;
}

function result(q0: number, q1: number, r0: number, r1: number): true {
  DIVISION[0] = q0; DIVISION[1] = q1; DIVISION[2] = r0; DIVISION[3] = r1;
  return true;
}

/**
 * Unsigned 64-bit (n1:n0) / (d1:d0) into DIVISION; false (nothing computed)
 * when the divisor is 0.
 */
export function divideU64(n0: number, n1: number, d0: number, d1: number): boolean {
  if (d1 === 0) {
    if (d0 === 0) return false;
    if (n1 < 0x200000) {
      // Both below 2^53: the double quotient's floor is exact (it cannot round up to the next integer).
      const n = n1 * TWO_32 + n0, qt = Math.floor(n / d0);
      return result(qt >>> 0, Math.floor(qt / TWO_32), n - qt * d0, 0);
    }
    // A 32-bit divisor: short division, the high half, then two 16-bit digits (every partial dividend below 2^48).
    const q1 = Math.floor(n1 / d0);
    let r = n1 - q1 * d0;
    let t = r * B + (n0 >>> 16);
    const qa = Math.floor(t / d0);
    r = t - qa * d0;
    t = r * B + (n0 & 0xffff);
    const qb = Math.floor(t / d0);
    return result(qa * B + qb, q1, t - qb * d0, 0);
  }
  // A divisor of at least 2^32: the quotient is below 2^32, and the double quotient is within 1 of it.
  let qt = Math.floor((n1 * TWO_32 + n0) / (d1 * TWO_32 + d0));
  // The remainder n - qt * d, exactly, as rH * 2^32 + rL (rH a small signed integer): qt * d0 in
  // 16-bit pieces (each product below 2^49); qt * d1 is below 2^33 since qt * d is close to n.
  const pLow = qt * (d0 & 0xffff), pMid = qt * (d0 >>> 16);
  const mHigh = Math.floor(pMid / B);
  const low = n0 - (pMid - mHigh * B) * B - pLow;
  const carry = Math.floor(low / TWO_32);
  let rL = low - carry * TWO_32, rH = n1 - qt * d1 - mHigh + carry;
  while (rH < 0) {
    qt--; rL += d0; rH += d1;
    if (rL >= TWO_32) { rL -= TWO_32; rH++; }
  }
  while (rH > d1 || (rH === d1 && rL >= d0)) {
    qt++; rL -= d0; rH -= d1;
    if (rL < 0) { rL += TWO_32; rH--; }
  }
  return result(qt, 0, rL, rH);
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
  if ((n2 | n3) === 0) return divideU64(n0, n1, d0, d1);
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
  if (negD) { d0 = (~d0 + 1) >>> 0; d1 = (~d1 + (d0 === 0 ? 1 : 0)) >>> 0; }
  if (!divideU128(n0, n1, n2, n3, d0, d1)) return false;
  let q0 = DIVISION[0], q1 = DIVISION[1];
  const negQ = negN !== negD;
  // The magnitude limit: 2^(bits-1) - 1 for a positive quotient, 2^(bits-1) for a negative one.
  if (bits === 64) {
    if (q1 > 0x80000000 || (q1 === 0x80000000 && (q0 !== 0 || !negQ))) return false;
  } else {
    if (q1 !== 0 || q0 > 0x80000000 || (q0 === 0x80000000 && !negQ)) return false;
  }
  if (negQ) { q0 = (~q0 + 1) >>> 0; q1 = (~q1 + (q0 === 0 ? 1 : 0)) >>> 0; }
  let r0 = DIVISION[2], r1 = DIVISION[3];
  if (negN) { r0 = (~r0 + 1) >>> 0; r1 = (~r1 + (r0 === 0 ? 1 : 0)) >>> 0; }
  return result(q0, q1, r0, r1);
}

// The instructions' divisions (rDX:rAX by a source), for the interpreter and
// the JIT alike: quotient and remainder into DIVISION, false for #DE. Their
// halves may come as uint32 or as the int32 with the same bits (the JIT passes
// `x | 0`: V8 passes an int32 to a call as a small integer, a uint32 of 2^31 or
// more as a newly allocated heap number); they are made uint32 first.

/** div r/m32: edx:eax / s. */
export function div32(eax: number, edx: number, s: number): boolean {
  eax >>>= 0; edx >>>= 0; s >>>= 0;
  if (s === 0 || edx >= s) return false;
  if (edx === 0) return result(Math.floor(eax / s), 0, eax % s, 0);
  return divideU64(eax, edx, s, 0);
}

/** div r/m64: rdx:rax / s. */
export function div64(raxLo: number, raxHi: number, rdxLo: number, rdxHi: number, sLo: number, sHi: number): boolean {
  raxLo >>>= 0; raxHi >>>= 0; rdxLo >>>= 0; rdxHi >>>= 0; sLo >>>= 0; sHi >>>= 0;
  if ((rdxLo | rdxHi) === 0) return divideU64(raxLo, raxHi, sLo, sHi);
  return divideU128(raxLo, raxHi, rdxLo, rdxHi, sLo, sHi);
}

/** idiv r/m32: edx:eax / s, signed. */
export function idiv32(eax: number, edx: number, s: number): boolean {
  eax >>>= 0; edx >>>= 0; s >>>= 0;
  if (s === 0) return false;
  if (edx === ((eax & 0x80000000) ? 0xffffffff : 0)) {
    // A 32-bit dividend: double arithmetic is exact; only -2^31 / -1 does not fit.
    const n = eax | 0, v = s | 0;
    const qt = Math.trunc(n / v);
    if (qt > 0x7fffffff) return false;
    return result(qt >>> 0, 0, (n - qt * v) >>> 0, 0);
  }
  const ext = (edx & 0x80000000) ? 0xffffffff : 0;
  return divideS128(eax, edx, ext, ext, s, (s & 0x80000000) ? 0xffffffff : 0, 32);
}

/** idiv r/m64: rdx:rax / s, signed. */
export function idiv64(raxLo: number, raxHi: number, rdxLo: number, rdxHi: number, sLo: number, sHi: number): boolean {
  return divideS128(raxLo >>> 0, raxHi >>> 0, rdxLo >>> 0, rdxHi >>> 0, sLo >>> 0, sHi >>> 0, 64);
}
