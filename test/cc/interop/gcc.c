#include <stdarg.h>
#include "shared.h"
int gcc_counter = 100;
const char gcc_name[] = "gcc";
long gcc_mix(char c, short s, int i, long l, unsigned char uc, unsigned short us, unsigned u, long extra) {
  return c * 1 + s * 3 + i * 5 + l * 7 + uc * 11 + us * 13 + (long)u * 17 + extra * 19;
}
struct small gcc_small(struct small s, int k) { s.a *= k; s.b += 1; return s; }
struct pair gcc_pair(struct pair p, struct pair q) { struct pair r = { p.x * q.y, p.y - q.x }; return r; }
struct twelve gcc_twelve(struct twelve t) { for (int i = 0; i < 3; i++) t.v[i] = t.v[i] * 2 + i; return t; }
struct large gcc_large(struct large l, int a1, int a2, int a3, int a4, int a5, struct pair onstack) {
  for (int i = 0; i < 4; i++) l.v[i] += a1 + a2 * 2 + a3 * 3 + a4 * 4 + a5 * 5 + onstack.x * onstack.y;
  l.tag ^= 0x20;
  return l;
}
long gcc_sum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long s = 0;
  for (int i = 0; i < n; i++) s = s * 3 + va_arg(ap, long);
  va_end(ap);
  return s;
}
long gcc_callback(long (*f)(struct pair, int), int n) {
  long s = 0;
  for (int i = 0; i < n; i++) { struct pair p = { i, i * i }; s += f(p, i + 1); }
  return s;
}
struct bits gcc_bits(struct bits b) { b.lo++; b.mid = -b.mid; b.hi = 5; return b; }
_Bool gcc_is_odd(int v) { return v & 1; }
signed char gcc_narrow(int v) { return (signed char)v; }
long gcc_calls_xk(void) {
  struct small s = { 3, 'a' };
  struct pair p = { 4, 5 }, q = { 6, 7 };
  struct twelve t = { { 1, 2, 3 } };
  struct large l = { { 1, 2, 3, 4 }, 'x' };
  struct bits b = { 9, -100, 2 };
  long r = xk_mix(-1, -2, -3, -4, 250, 65000, 4000000000u, 9);
  s = xk_small(s, 7);
  p = xk_pair(p, q);
  t = xk_twelve(t);
  l = xk_large(l, 1, 2, 3, 4, 5, q);
  b = xk_bits(b);
  r += s.a + s.b + p.x + p.y + t.v[0] + t.v[1] + t.v[2] + l.v[0] + l.v[3] + l.tag + b.lo + b.mid + b.hi;
  r += xk_sum(5, 1L, 2L, 3L, 4L, 5L) + xk_sum(8, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
  r += xk_weigh(p, 3) + xk_is_odd(7) * 1000 + xk_narrow(300) + xk_counter;
  return r;
}
