// Expressions: sizeof, _Alignof, casts, the comma and ternary operators,
// compound literals, string literals and escapes, operators' corners.
#include "cctest.h"
//// sizeof_types
int main(void) { printf("%d %d %d %d %d %d %d\n", (int)sizeof(char), (int)sizeof(short), (int)sizeof(int), (int)sizeof(long), (int)sizeof(long long), (int)sizeof(void *), (int)sizeof(_Bool)); return 0; }
//// sizeof_expressions_not_evaluated
int main(void) { int i = 0; int s = sizeof(i++); long a[3]; printf("%d %d %d %d\n", s, i, (int)sizeof a / (int)sizeof *a, (int)sizeof(a[0] + 1)); return 0; }
//// sizeof_string_and_char
int main(void) { printf("%d %d %d\n", (int)sizeof "hello", (int)sizeof(char[7]), (int)sizeof((char)1 + (char)1)); return 0; }
//// alignof_types
struct s { char c; long l; };
int main(void) { printf("%d %d %d %d %d\n", (int)_Alignof(char), (int)_Alignof(short), (int)_Alignof(int), (int)_Alignof(long), (int)_Alignof(struct s)); return 0; }
//// comma_operator
int main(void) { int a = 1, b; b = (a += 2, a * 10); int c = (a++, b++, a + b); printf("%d %d %d\n", a, b, c); return 0; }
//// ternary_nested
int sign(int x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
int main(void) { printf("%d %d %d\n", sign(5), sign(-5), sign(0)); return 0; }
//// ternary_lvalue_pointer
int main(void) { int a = 1, b = 2; *(a > b ? &a : &b) = 9; printf("%d %d\n", a, b); return 0; }
//// ternary_omitted_middle
int main(void) { int a = 0, b = 5; printf("%d %d\n", a ?: 7, b ?: 7); return 0; }
//// casts_pointer_integer
int main(void) { int x; unsigned long u = (unsigned long)&x; int *p = (int *)u; *p = 42; printf("%d %d\n", x, (int)(u & 3)); return 0; }
//// cast_to_void
int f(void) { printf("called\n"); return 1; }
int main(void) { (void)f(); (void)0; return 0; }
//// compound_literal_array
int sum(int *a, int n) { int s = 0; while (n--) s += a[n]; return s; }
int main(void) { printf("%d\n", sum((int[]){ 1, 2, 3, 4 }, 4)); return 0; }
//// compound_literal_struct
struct p { int x, y; };
int dot(struct p a, struct p b) { return a.x * b.x + a.y * b.y; }
int main(void) { printf("%d\n", dot((struct p){ 1, 2 }, (struct p){ .y = 10, .x = 3 })); return 0; }
//// compound_literal_lvalue
int main(void) { int *p = (int[3]){ 0 }; p[1] = 5; struct one { int a; } *q = &(struct one){ 7 }; q->a++; printf("%d %d\n", p[1], q->a); return 0; }
//// string_escapes
int main(void) { const char *s = "a\tb\\c\"d\'e\x41\101\0hidden"; for (const char *p = s; *p; p++) printf("%d ", *p); printf("\n"); return 0; }
//// string_concatenation
int main(void) { const char *s = "con" "cat" "enated"; printf("%s %d\n", s, (int)sizeof("ab" "cd")); return 0; }
//// string_literal_array_init
int main(void) { char a[] = "hi"; char b[5] = "hi"; char c[2] = "hi"; printf("%d %d %c%c\n", (int)sizeof a, (int)sizeof b, c[0], c[1]); return 0; }
//// char_escapes
int main(void) { printf("%d %d %d %d %d %d %d\n", '\n', '\r', '\0', '\\', '\'', '\x7f', '\177'); return 0; }
//// increment_decrement_mix
int main(void) { int a = 5; int b = a++; b += ++a; int c = a--; c -= --a; printf("%d %d %d\n", a, b, c); return 0; }
//// compound_assignment_all
int main(void) { long x = 1000; x += 5; x -= 3; x *= 7; x /= 3; x %= 1000; x <<= 4; x >>= 2; x &= 0xfff; x |= 0x10000; x ^= 0x5555; printf("%ld\n", x); return 0; }
//// shifts_signed_unsigned
int main(void) { int a = -16; unsigned b = 0x80000000u; long c = -1; printf("%d %u %ld %lu\n", a >> 2, b >> 31, c >> 63, (unsigned long)c >> 63); return 0; }
//// bitwise_operators
int main(void) { unsigned a = 0xf0f0, b = 0x0ff0; printf("%x %x %x %x\n", a & b, a | b, a ^ b, ~a); return 0; }
//// relational_results_are_int
int main(void) { int r = (3 < 4) + (4 < 3) + (5 == 5) + (5 != 5) + !0 + !7; printf("%d %d\n", r, (int)sizeof(1 < 2)); return 0; }
//// statement_expression
int main(void) { int x = ({ int t = 6; t * 7; }); printf("%d\n", x); return 0; }
//// address_of_and_deref
int main(void) { int a[3] = { 1, 2, 3 }; int *p = &*a; int (*q)[3] = &a; printf("%d %d %d\n", *p, (*q)[2], *&a[1]); return 0; }
//// unsigned_overflow_wraps
int main(void) { unsigned x = 4294967295u; x += 2; unsigned long long y = 0; y -= 1; printf("%u %llu\n", x, y); return 0; }
//// multiplication_widths
int main(void) { int a = 100000; long b = (long)a * a; long c = a * 1000L; printf("%ld %ld\n", b, c); return 0; }
