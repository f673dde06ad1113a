#include "cctest.h"
typedef int (*binop)(int, int);
int add(int a, int b) { return a + b; }
int mul(int a, int b) { return a * b; }
static int sub(int a, int b) { return a - b; }
binop table[] = { add, mul, sub };
struct ops { const char *name; binop f; };
struct ops named[] = { { "add", add }, { "mul", &mul } };
int apply(binop f, int a, int b) { return f(a, b); }
binop pick(int i) { return table[i]; }
int main(void) {
  for (int i = 0; i < 3; i++) printf("%d ", table[i](6, 3));
  printf("\n%d %d\n", apply(sub, 10, 4), pick(1)(7, 7));
  for (int i = 0; i < 2; i++) printf("%s=%d ", named[i].name, (*named[i].f)(2, 5));
  int (*fp)(int, int) = add;
  printf("\n%d %d\n", fp(1, 2), fp == add);
  return 0;
}
