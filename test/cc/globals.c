#include "cctest.h"
int counter = 5;
static long hidden = -1;
const char *words[] = { "zero", "one", "two", 0 };
char buf[16] = "abc";
int table[2][3] = { { 1, 2, 3 }, { 4 } };
struct cfg { int id; const char *name; int *ptr; } cfgs[] = { { 1, "a", &counter }, { .name = "b", .id = 2 } };
int *pc = &counter;
char *tail = buf + 2;
long longs[] = { 1L << 40, -7 };
unsigned char bytes[] = { 255, 0x80, 1 };
short shorts[4] = { -1, 2 };
int uninit[100];
int next(void) { static int n = 10; return n++; }
int main(void) {
  printf("%d %ld %s %s %c\n", counter, hidden, words[2], buf, *tail);
  printf("%d %d %d\n", table[0][2], table[1][0], table[1][2]);
  printf("%d %s %d %d %s\n", cfgs[0].id, cfgs[0].name, *cfgs[0].ptr, cfgs[1].id, cfgs[1].name);
  *pc = 42;
  printf("%d %ld %ld %d %d %d\n", counter, longs[0], longs[1], bytes[0] + bytes[1], shorts[0], shorts[3]);
  printf("%d %d %d %d\n", next(), next(), uninit[99], (int)(sizeof words / sizeof words[0]));
  int n = 0; for (const char **w = words; *w; w++) n++;
  return n;
}
