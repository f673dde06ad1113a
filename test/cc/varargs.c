#include "cctest.h"
#include <stdarg.h>
long total(int n, ...) {
  va_list ap; va_start(ap, n);
  long s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, long);
  va_end(ap);
  return s;
}
struct pair { long a, b; };
struct triple { long a, b, c; };
long mixed(const char *fmt, ...) {
  va_list ap, copy; va_start(ap, fmt); va_copy(copy, ap);
  long s = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p == 'i') s += va_arg(ap, int);
    else if (*p == 'l') s += va_arg(ap, long);
    else if (*p == 'p') { struct pair q = va_arg(ap, struct pair); s += q.a * 10 + q.b; }
    else if (*p == 't') { struct triple q = va_arg(ap, struct triple); s += q.a + q.b + q.c; }
    else if (*p == 's') { const char *x = va_arg(ap, const char *); while (*x) s += *x++; }
  }
  s += va_arg(copy, int) * 1000;
  va_end(ap); va_end(copy);
  return s;
}
int main(void) {
  printf("%ld %ld\n", total(3, 1L, 2L, 3L), total(9, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L));
  struct pair pr = { 3, 4 };
  struct triple tr = { 100, 200, 300 };
  printf("%ld\n", mixed("ilpts", 5, 6L, pr, tr, "AB"));
  printf("%ld\n", mixed("iiiiiiiiip", 1, 2, 3, 4, 5, 6, 7, 8, 9, pr));
  printf("%s %c %x %lu %d\n", "str", 'z', 255u, 123456789012UL, -42);
  return 0;
}
