// Divisions written into a translation (JS text) instead of a call to
// wideDivide.ts, for the common operands: the translations are too large for
// V8 to inline a helper into, and a call costs its arguments and the DIVISION
// array stored and read back.
//
// The code declares `let dq0, dq1, dr0, dr1` (the int32 halves of quotient and
// remainder) and `ddone`; when the operands are not ones it handles (a zero
// divisor, a 128-bit dividend, a quotient that may not fit) it leaves ddone
// false and runs `fallback`, the helper call, which sets the four (or throws
// #DE). What it handles, with exact double arithmetic (every value an integer
// below 2^53, so each operation is exact; the floor or truncation of the
// double quotient of two such integers is the integer quotient):
// - div / idiv r/m32: the 64-bit dividend edx:eax below 2^53 in magnitude (edx
//   within +-2^21) and the quotient within 32 bits;
// - div r/m64 with rdx = 0, idiv r/m64 with rdx the sign of rax (idiv works
//   on the magnitudes, then gives the quotient the sign of the operands' signs
//   and the remainder the dividend's), and a nonzero divisor: the unsigned
//   64-bit division of wideDivide.ts's divideU64 (a double estimate corrected
//   exactly for a divisor of 2^32 or more, plain doubles when both fit in 53
//   bits, short division by 16-bit digits for a 32-bit divisor); idiv leaves a
//   magnitude of 2^63 or more (the overflow, and -2^63 / 1) to the helper.
// test/jitDivide.test.ts checks every form against BigInt and wideDivide.ts.

const TWO_32 = '4294967296';

/** 1 when the int32 x is 0, else 0 (the borrow into the high half when the low half of a negation is 0). */
function isZero(x: string): string {
  return `(((${x} | -${x}) >>> 31) ^ 1)`;
}

/**
 * JS for the unsigned division of 64-bit uint32 halves (doubles) dN0 dN1 by dD0 dD1 (not 0) into
 * dq0.. (int32), setting ddone; with `signed`, a quotient of 2^63 or more is left undone.
 */
function unsignedDivide64(signed: boolean): string {
  // A divisor of 2^32 or more: the quotient is below 2^32 and the double quotient is within 1 of it.
  // The remainder n - qt * d exactly, as dH * 2^32 + dL (dH a small signed integer): qt * dD0 in 16-bit
  // pieces (each product below 2^49); qt * dD1 is below 2^33 since qt * d is close to n.
  const wideDivisor = `let dqt = Math.floor((dN1 * ${TWO_32} + dN0) / (dD1 * ${TWO_32} + dD0));
    const dpLow = dqt * (dD0 & 0xffff), dpMid = dqt * (dD0 >>> 16), dmHigh = Math.floor(dpMid / 65536);
    const dlow = dN0 - (dpMid - dmHigh * 65536) * 65536 - dpLow, dcarry = Math.floor(dlow / ${TWO_32});
    let dL = dlow - dcarry * ${TWO_32}, dH = dN1 - dqt * dD1 - dmHigh + dcarry;
    while (dH < 0) { dqt--; dL += dD0; dH += dD1; if (dL >= ${TWO_32}) { dL -= ${TWO_32}; dH++; } }
    while (dH > dD1 || (dH === dD1 && dL >= dD0)) { dqt++; dL -= dD0; dH -= dD1; if (dL < 0) { dL += ${TWO_32}; dH--; } }
    dq0 = dqt | 0; dq1 = 0; dr0 = dL | 0; dr1 = dH | 0; ddone = true;`;
  // Both below 2^53.
  const small = `const dn = dN1 * ${TWO_32} + dN0, dqt = Math.floor(dn / dD0);
    dq0 = dqt | 0; dq1 = Math.floor(dqt / ${TWO_32}) | 0; dr0 = (dn - dqt * dD0) | 0; dr1 = 0; ddone = true;`;
  // A 32-bit divisor: the high half, then two 16-bit digits (every partial dividend below 2^48).
  const short = `const dqh = Math.floor(dN1 / dD0);
    ${signed ? 'if (dqh < 0x80000000) {' : '{'}
    let dt = (dN1 - dqh * dD0) * 65536 + (dN0 >>> 16);
    const dqa = Math.floor(dt / dD0);
    dt = (dt - dqa * dD0) * 65536 + (dN0 & 0xffff);
    const dqb = Math.floor(dt / dD0);
    dq0 = (dqa * 65536 + dqb) | 0; dq1 = dqh | 0; dr0 = (dt - dqb * dD0) | 0; dr1 = 0; ddone = true; }`;
  return `if (dD1 !== 0) { ${wideDivisor} } else if (dN1 < 0x200000) { ${small} } else { ${short} }`;
}

/**
 * JS for div (signed: idiv) of `size` 32 or 64: the dividend rDX:rAX as int32 halves `a` (rax: lo,
 * hi) and `d` (rdx: lo, hi; at 32 bits only the lows), the divisor `s` (lo, hi). Declares dq0 dq1
 * dr0 dr1 (int32; at 32 bits only dq0 and dr0 hold the result) and runs `fallback` for the rest.
 */
export function inlineDivide(signed: boolean, size: 32 | 64, a: string[], d: string[], s: string[], fallback: string): string {
  let fast: string;
  if (size === 32) {
    const [eax] = a, [edx] = d, [v] = s;
    fast = signed
      ? `if (${v} !== 0 && ${edx} < 0x200000 && ${edx} >= -0x200000) {
        const dn = ${edx} * ${TWO_32} + (${eax} >>> 0), dqt = Math.trunc(dn / ${v});
        if (dqt >= -0x80000000 && dqt <= 0x7fffffff) { dq0 = dqt | 0; dr0 = (dn - dqt * ${v}) | 0; ddone = true; } }`
      : `const dE = ${edx} >>> 0, dS = ${v} >>> 0;
      if (dS !== 0 && dE < 0x200000) {
        const dn = dE * ${TWO_32} + (${eax} >>> 0), dqt = Math.floor(dn / dS);
        if (dqt < ${TWO_32}) { dq0 = dqt | 0; dr0 = (dn - dqt * dS) | 0; ddone = true; } }`;
  } else if (!signed) {
    fast = `if ((${d[0]} | ${d[1]}) === 0 && (${s[0]} | ${s[1]}) !== 0) {
      const dN0 = ${a[0]} >>> 0, dN1 = ${a[1]} >>> 0, dD0 = ${s[0]} >>> 0, dD1 = ${s[1]} >>> 0;
      ${unsignedDivide64(false)} }`;
  } else {
    // The magnitudes (x ^ sign) - sign, the high half's borrow from a low half of 0; then the signs back.
    const negate = (lo: string, hi: string, sign: string): string =>
      `${hi} = ((${hi} ^ ${sign}) + (${sign} & ${isZero(lo)})) | 0; ${lo} = ((${lo} ^ ${sign}) - ${sign}) | 0;`;
    fast = `const dsn = ${a[1]} >> 31;
    if (${d[0]} === dsn && ${d[1]} === dsn && (${s[0]} | ${s[1]}) !== 0) {
      const dsd = ${s[1]} >> 31, dsq = dsn ^ dsd;
      const dN0 = ((${a[0]} ^ dsn) - dsn) >>> 0, dN1 = ((${a[1]} ^ dsn) + (dsn & ${isZero(a[0])})) >>> 0;
      const dD0 = ((${s[0]} ^ dsd) - dsd) >>> 0, dD1 = ((${s[1]} ^ dsd) + (dsd & ${isZero(s[0])})) >>> 0;
      ${unsignedDivide64(true)}
      ${negate('dq0', 'dq1', 'dsq')} ${negate('dr0', 'dr1', 'dsn')} }`;
  }
  return `let dq0 = 0, dq1 = 0, dr0 = 0, dr1 = 0, ddone = false; ${fast.replace(/\n\s*/g, ' ')} if (!ddone) { ${fallback} }`;
}
