#include "cctest.h"
int main(void) {
  int a = 7, b = -3;
  unsigned u = 4000000000u;
  long l = -123456789012L;
  unsigned long ul = 18446744073709551615UL;
  printf("%d %d %d %d %d\n", a + b, a - b, a * b, a / b, a % b);
  printf("%u %u %u\n", u + 1000000000u, u / 3, u % 7);
  printf("%ld %ld %ld\n", l / 1000, l % 1000, l * 3);
  printf("%lu %lu\n", ul / 10, ul % 10);
  printf("%d %d %d\n", b >> 1, -b << 3, (int)(u >> 5));
  printf("%d %d %d %d\n", a & b, a | b, a ^ b, ~a);
  printf("%d %d %d %d %d %d\n", a < b, a <= b, a > b, a >= b, a == b, a != b);
  printf("%d %d\n", u > 5, -1 < (int)u);
  printf("%d %d %d\n", !a, !!b, a && 0 || b);
  return 0;
}
