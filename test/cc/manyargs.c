#include "cctest.h"
struct s16 { long a, b; };
struct s24 { long a, b, c; };
struct s12 { int a, b, c; };
long f8(long a, long b, long c, long d, long e, long f, long g, long h) { return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h; }
long g(int a, struct s16 x, int b, struct s24 y, int c, struct s16 z, struct s12 w, char d) {
  return a + x.a * 2 + x.b * 3 + b + y.a + y.b + y.c + c * 5 + z.a * 7 + z.b * 11 + w.a + w.b * 13 + w.c + d;
}
struct s12 mk12(int v) { struct s12 r = { v, v * 2, v * 3 }; return r; }
struct s24 mk24(long v, long w) { struct s24 r = { v, w, v * w }; return r; }
int main(void) {
  printf("%ld\n", f8(1, 2, 3, 4, 5, 6, 7, 8));
  struct s16 x = { 1, 2 }, z = { 3, 4 };
  struct s24 y = { 10, 20, 30 };
  printf("%ld\n", g(1, x, 2, y, 3, z, mk12(4), 'A'));
  struct s24 m = mk24(6, 7);
  printf("%ld %ld %ld %d\n", m.a, m.b, m.c, mk12(5).c);
  return 0;
}
