#include "cctest.h"
struct flags { unsigned a : 3; int b : 5; unsigned c : 1; unsigned long d : 40; signed char e : 4; };
struct packed { unsigned x : 12, y : 12, z : 8; };
int main(void) {
  struct flags f = { 5, -7, 1, 0x123456789UL, -2 };
  printf("%u %d %u %lx %d %d\n", f.a, f.b, f.c, (unsigned long)f.d, f.e, (int)sizeof f);
  f.a = 9; f.b = 15; f.b += 3; f.c = 2; f.e = 7; f.e++;
  printf("%u %d %u %d\n", f.a, f.b, f.c, f.e);
  struct packed p = { 4095, 1, 255 };
  p.y = p.x + 5;
  printf("%u %u %u %d\n", p.x, p.y, p.z, (int)sizeof p);
  int r = (f.a = 12);
  printf("%d\n", r);
  // an unsigned bit-field narrower than int promotes to int: 0 < (a | negative) is false, a - 6 is negative
  short neg = -12;
  printf("%d %d %d %d\n", 0 < (f.a | neg), f.a - 6 < 0, (f.c - 2) / 2, (int)sizeof(f.a + 0));
  return f.b;
}
