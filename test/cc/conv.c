#include "cctest.h"
signed char sc = -5; unsigned char uc = 200; short s = -30000; unsigned short us = 60000;
int i = -100000; unsigned ui = 3000000000u; long l = -5000000000L; unsigned long ul = 10000000000UL;
_Bool b;
int main(void) {
  printf("%d %d %d %d\n", sc + uc, s + us, (char)300, (unsigned char)-1);
  printf("%ld %lu %ld\n", (long)i, (unsigned long)i, (long)ui);
  printf("%d %u %d\n", (int)l, (unsigned)ul, (short)ul);
  b = 256; printf("%d %d %d\n", b, (_Bool)0 == 0 ? 1 : 0, (_Bool)-1);
  b = l; printf("%d\n", b);
  printf("%d %d\n", sc < ui, i < ui);
  printf("%ld\n", (long)(sc * uc * s));
  unsigned char x = 255; x++; printf("%d\n", x);
  signed char y = 127; y++; printf("%d\n", y);
  short z = s; z -= 10000; printf("%d\n", z);
  long long ll = -1; unsigned long long ull = ll; printf("%lu %ld\n", ull >> 60, ll >> 60);
  return uc;
}
