// The preprocessor: object- and function-like macros, # and ##, conditionals,
// defined, __LINE__, nested expansion.
#include "cctest.h"
//// macro_object_and_function
#define N 10
#define SQ(x) ((x) * (x))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
int main(void) { printf("%d %d %d\n", N, SQ(N + 1), MAX(3, SQ(2))); return 0; }
//// macro_stringize_and_paste
#define STR(x) #x
#define XSTR(x) STR(x)
#define CAT(a, b) a##b
#define V 42
int main(void) { int CAT(val, ue) = 5; printf("%s %s %s %d\n", STR(a + b), XSTR(V), STR("q"), value); return 0; }
//// macro_conditionals
#define LEVEL 3
int main(void) {
#if LEVEL > 2 && defined(LEVEL)
  printf("high\n");
#elif LEVEL > 1
  printf("mid\n");
#else
  printf("low\n");
#endif
#ifdef NOT_DEFINED
  printf("wrong\n");
#endif
#ifndef NOT_DEFINED
  printf("right\n");
#endif
  return 0; }
//// macro_line
int main(void) {
  int a = __LINE__;
  int b = __LINE__;
  printf("%d\n", b - a); return 0; }
//// macro_recursion_stops
int foo = 1, bar = 2;
#define foo (foo + 1)
#define bar baz
#define baz bar
int main(void) { printf("%d %d\n", foo, bar); return 0; }
//// macro_variadic
#define SHOW(fmt, ...) printf(fmt "\n", __VA_ARGS__)
int main(void) { SHOW("%d %d", 1, 2); SHOW("%s", "x"); return 0; }
//// macro_undef_redefine
#define A 1
#undef A
#define A 2
int main(void) { printf("%d\n", A); return 0; }
//// macro_multiline_and_do_while
#define SWAP(a, b) do { \
  int t = (a); (a) = (b); (b) = t; \
} while (0)
int main(void) { int x = 1, y = 2; if (x) SWAP(x, y); else SWAP(y, x); printf("%d %d\n", x, y); return 0; }
//// macro_if_arithmetic
#if (1 << 4) == 16 && -1 < 0 && 10 / 3 == 3 && (0 || 2) && !0
int ok = 1;
#else
int ok = 0;
#endif
int main(void) { printf("%d\n", ok); return 0; }
