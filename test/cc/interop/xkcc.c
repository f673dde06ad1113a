#include <stdarg.h>
#include "shared.h"
int xk_counter = 42;
long xk_mix(char c, short s, int i, long l, unsigned char uc, unsigned short us, unsigned u, long extra) {
  return c * 1 + s * 3 + i * 5 + l * 7 + uc * 11 + us * 13 + (long)u * 17 + extra * 19;
}
struct small xk_small(struct small s, int k) { s.a *= k; s.b += 1; return s; }
struct pair xk_pair(struct pair p, struct pair q) { struct pair r = { p.x * q.y, p.y - q.x }; return r; }
struct twelve xk_twelve(struct twelve t) { for (int i = 0; i < 3; i++) t.v[i] = t.v[i] * 2 + i; return t; }
struct large xk_large(struct large l, int a1, int a2, int a3, int a4, int a5, struct pair onstack) {
  for (int i = 0; i < 4; i++) l.v[i] += a1 + a2 * 2 + a3 * 3 + a4 * 4 + a5 * 5 + onstack.x * onstack.y;
  l.tag ^= 0x20;
  return l;
}
long xk_sum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long s = 0;
  for (int i = 0; i < n; i++) s = s * 3 + va_arg(ap, long);
  va_end(ap);
  return s;
}
long xk_weigh(struct pair p, int w) { return (p.x + p.y) * w; }
struct bits xk_bits(struct bits b) { b.lo++; b.mid = -b.mid; b.hi = 5; return b; }
_Bool xk_is_odd(int v) { return v & 1; }
signed char xk_narrow(int v) { return (signed char)v; }

/** Calls every gcc function and folds the results into one number (the same fold as gcc_calls_xk). */
long xk_calls_gcc(void) {
  struct small s = { 3, 'a' };
  struct pair p = { 4, 5 }, q = { 6, 7 };
  struct twelve t = { { 1, 2, 3 } };
  struct large l = { { 1, 2, 3, 4 }, 'x' };
  struct bits b = { 9, -100, 2 };
  long r = gcc_mix(-1, -2, -3, -4, 250, 65000, 4000000000u, 9);
  s = gcc_small(s, 7);
  p = gcc_pair(p, q);
  t = gcc_twelve(t);
  l = gcc_large(l, 1, 2, 3, 4, 5, q);
  b = gcc_bits(b);
  r += s.a + s.b + p.x + p.y + t.v[0] + t.v[1] + t.v[2] + l.v[0] + l.v[3] + l.tag + b.lo + b.mid + b.hi;
  r += gcc_sum(5, 1L, 2L, 3L, 4L, 5L) + gcc_sum(8, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
  r += gcc_callback(xk_weigh, 4) - gcc_callback(xk_weigh, 4) + xk_weigh(p, 3) + gcc_is_odd(7) * 1000 + gcc_narrow(300) + xk_counter;
  return r;
}

int printf(const char *fmt, ...);
int main(void) {
  long a = xk_calls_gcc();
  long b = gcc_calls_xk();
  printf("xk->gcc %ld gcc->xk %ld callback %ld counter %d %s\n", a, b, gcc_callback(xk_weigh, 5), gcc_counter, gcc_name);
  return a == b ? 0 : 1;
}
