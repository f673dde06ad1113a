// Function pointers and variadic functions (<stdarg.h>, the System V va_list).
#include "cctest.h"
#include <stdarg.h>
//// function_pointer_table
int add(int a, int b) { return a + b; } int sub(int a, int b) { return a - b; } int mul(int a, int b) { return a * b; }
int (*ops[])(int, int) = { add, sub, mul };
int main(void) { for (int i = 0; i < 3; i++) printf("%d ", ops[i](7, 3)); printf("\n"); return 0; }
//// function_pointer_return
int one(void) { return 1; } int two(void) { return 2; }
int (*pick(int w))(void) { return w ? two : one; }
int main(void) { printf("%d %d\n", pick(0)(), (*pick(1))()); return 0; }
//// function_pointer_compare
int f(void) { return 0; } int g(void) { return 0; }
int main(void) { int (*p)(void) = f; printf("%d %d %d\n", p == f, p == g, p != 0); return 0; }
//// callback_sort
void sort(int *a, int n, int (*less)(int, int)) { for (int i = 1; i < n; i++) for (int j = i; j > 0 && less(a[j], a[j - 1]); j--) { int t = a[j]; a[j] = a[j - 1]; a[j - 1] = t; } }
int desc(int a, int b) { return a > b; }
int main(void) { int a[6] = { 3, 1, 4, 1, 5, 9 }; sort(a, 6, desc); for (int i = 0; i < 6; i++) printf("%d", a[i]); printf("\n"); return 0; }
//// function_pointer_in_struct
struct ops { int (*f)(int); const char *name; };
int inc(int x) { return x + 1; } int neg(int x) { return -x; }
int main(void) { struct ops t[2] = { { inc, "inc" }, { neg, "neg" } }; for (int i = 0; i < 2; i++) printf("%s %d\n", t[i].name, t[i].f(10)); return 0; }
//// function_pointer_many_args
long f(long a, long b, long c, long d, long e, long g, long h, long i) { return a - b + c - d + e - g + h * i; }
int main(void) { long (*p)(long, long, long, long, long, long, long, long) = f; printf("%ld\n", p(1, 2, 3, 4, 5, 6, 7, 8)); return 0; }
//// varargs_sum_ints
int sum(int n, ...) { va_list ap; va_start(ap, n); int s = 0; while (n--) s += va_arg(ap, int); va_end(ap); return s; }
int main(void) { printf("%d %d %d\n", sum(0), sum(3, 1, 2, 3), sum(10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)); return 0; }
//// varargs_longs_past_registers
long sum(int n, ...) { va_list ap; va_start(ap, n); long s = 0; for (int i = 0; i < n; i++) s = s * 3 + va_arg(ap, long); va_end(ap); return s; }
int main(void) { printf("%ld\n", sum(8, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8000000000L)); return 0; }
//// varargs_mixed_types
long f(const char *fmt, ...) { va_list ap; va_start(ap, fmt); long s = 0;
  for (; *fmt; fmt++) { if (*fmt == 'c') s += (char)va_arg(ap, int); else if (*fmt == 'u') s += va_arg(ap, unsigned); else if (*fmt == 'p') s += *va_arg(ap, int *); else s += va_arg(ap, long); }
  va_end(ap); return s; }
int main(void) { int x = 1000; printf("%ld\n", f("cuplc", -3, 4000000000u, &x, 5L, 'a')); return 0; }
//// varargs_struct_argument
struct s { int a; char b; };
int f(int n, ...) { va_list ap; va_start(ap, n); int t = 0; for (int i = 0; i < n; i++) { struct s v = va_arg(ap, struct s); t += v.a * v.b; } va_end(ap); return t; }
int main(void) { struct s a = { 2, 3 }, b = { 10, 10 }; printf("%d\n", f(2, a, b)); return 0; }
//// varargs_va_copy
int f(int n, ...) { va_list a, b; va_start(a, n); va_copy(b, a); int x = 0, y = 0; for (int i = 0; i < n; i++) x += va_arg(a, int); for (int i = 0; i < n; i++) y = y * 10 + va_arg(b, int); va_end(a); va_end(b); return x * 1000 + y; }
int main(void) { printf("%d\n", f(3, 1, 2, 3)); return 0; }
//// varargs_pass_va_list
int vsum(int n, va_list ap) { int s = 0; while (n--) s += va_arg(ap, int); return s; }
int sum(int n, ...) { va_list ap; va_start(ap, n); int s = vsum(n, ap); va_end(ap); return s; }
int main(void) { printf("%d\n", sum(4, 10, 20, 30, 40)); return 0; }
//// printf_many_arguments
int main(void) { printf("%d %d %d %d %d %d %d %d %d %d %s %c %x %lu\n", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "s", 'c', 255, 18446744073709551615UL); return 0; }
//// printf_formats
int main(void) { printf("%d %u %x %ld %lu %lx %lld %llu %llx %c%c %s %%\n", -1, -1, -1, -1L, -1L, -1L, -1LL, -1LL, -1LL, 'o', 'k', "end"); return 0; }
//// recursion_through_pointer
int (*self)(int);
int fact(int n) { return n <= 1 ? 1 : n * self(n - 1); }
int main(void) { self = fact; printf("%d\n", fact(10)); return 0; }
//// many_int_parameters
int f(char a, short b, int c, long d, unsigned char e, unsigned short g, unsigned h, long i, char j) { return a + b + c + d + e + g + h + i + j; }
int main(void) { printf("%d\n", f(-1, -2, -3, -4, 250, 65000, 7, 8, -9)); return 0; }
