#include "cctest.h"
int classify(int n) {
  switch (n) {
  case 0: return 100;
  case 1: case 2: return 200;
  case 3 ... 7: return 300;
  case -5: return -1;
  default: break;
  }
  return 0;
}
int fall(int n) { int r = 0; switch (n) { case 1: r += 1; case 2: r += 2; break; case 3: r += 3; default: r += 10; } return r; }
long bigswitch(long v) { switch (v) { case 5000000000L: return 1; case -1: return 2; } return 3; }
int main(void) {
  for (int i = -6; i < 10; i++) printf("%d ", classify(i));
  printf("\n%d %d %d %d\n", fall(1), fall(2), fall(3), fall(4));
  printf("%ld %ld %ld\n", bigswitch(5000000000L), bigswitch(-1), bigswitch(0));
  int i = 0, s = 0;
  while (1) { if (++i > 10) break; if (i % 2) continue; s += i; }
  do { s--; } while (s > 25);
  printf("%d %d\n", i, s);
  int n = 0;
again:
  n++;
  if (n < 5) goto again;
  printf("%d\n", n);
  int k = 0;
  for (;;) { for (int j = 0; j < 3; j++) { if (j == 1) continue; k += j; } if (k > 8) break; }
  printf("%d %d\n", k, n > 3 ? n * 2 : n / 2);
  return 0;
}
