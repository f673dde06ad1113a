// Integer conversions and promotions (C11 6.3.1): widening, narrowing,
// signed/unsigned mixes, the usual arithmetic conversions, _Bool.
#include "cctest.h"
//// char_promotes_to_int
int main(void) { char a = 100, b = 100; int s = a + b; printf("%d %d\n", s, (char)(a + b)); return 0; }
//// unsigned_char_wrap
int main(void) { unsigned char c = 250; c += 10; printf("%u\n", c); return c; }
//// signed_char_narrow
int main(void) { signed char c = (signed char)200; printf("%d %d\n", c, (signed char)-129); return 0; }
//// short_arith
int main(void) { short a = 30000, b = 30000; int i = a + b; short s = a + b; printf("%d %d\n", i, s); return 0; }
//// unsigned_short_promotes_signed
int main(void) { unsigned short a = 65535; printf("%d %d\n", a * a > 0, (int)(a * 2)); return 0; }
//// int_to_unsigned_compare
int main(void) { int i = -1; unsigned u = 1; printf("%d %d\n", i < u, i < (int)u); return 0; }
//// long_vs_unsigned_int
int main(void) { long l = -1; unsigned u = 1; printf("%d\n", l < u); return 0; }
//// unsigned_long_vs_long
int main(void) { long l = -1; unsigned long u = 1; printf("%d\n", l < u); return 0; }
//// sign_extension
int main(void) { int i = -5; long l = i; unsigned long ul = i; printf("%ld %lx\n", l, ul); return 0; }
//// zero_extension
int main(void) { unsigned u = 0xfffffffbu; long l = u; printf("%ld %lx\n", l, (unsigned long)l); return 0; }
//// truncation_chain
int main(void) { long long x = 0x123456789abcdefLL; printf("%x %x %x %x\n", (int)x, (unsigned short)x, (unsigned char)x, (signed char)x); return 0; }
//// bool_conversion
int main(void) { _Bool b1 = 7 == 7, b2 = 256, b3 = -1L, b4 = 0; printf("%d %d %d %d\n", b1, b2, b3, b4); return b2 + b3; }
//// bool_from_pointer
int main(void) { int x; int *p = &x, *q = 0; _Bool a = p, b = q; printf("%d %d\n", a, b); return 0; }
//// bool_arith
int main(void) { _Bool b = 1; b++; printf("%d ", b); b--; printf("%d ", b); b--; printf("%d\n", b); return 0; }
//// integer_constant_types
int main(void) { printf("%d %d %d %d %d\n", (int)sizeof(2147483647), (int)sizeof(2147483648), (int)sizeof(0xffffffff), (int)sizeof(1u), (int)sizeof(1ll)); return 0; }
//// hex_constant_unsigned
int main(void) { printf("%d %d\n", -1 < 0xffffffff, -1 < 0x7fffffff); return 0; }
//// shift_promotion
int main(void) { unsigned char c = 0x80; printf("%d %u\n", c << 24 < 0, (unsigned)(c << 1)); return 0; }
//// compound_assign_narrow
int main(void) { unsigned char c = 200; c *= 3; short s = 1000; s *= 100; printf("%u %d\n", c, s); return 0; }
//// division_signs
int main(void) { printf("%d %d %d %d\n", -7 / 2, -7 % 2, 7 / -2, 7 % -2); printf("%u %u\n", -7u / 2, -7u % 2); return 0; }
//// unsigned_negation
int main(void) { unsigned u = 5; unsigned long ul = -u; printf("%u %lu\n", -u, ul); return 0; }
//// ternary_common_type
int main(void) { int c = 1; long r = c ? -1 : 1u; printf("%ld\n", r); return 0; }
//// long_long_mul
int main(void) { long long a = 3000000000LL; unsigned long long b = a * a; printf("%llu %lld\n", b, a * -3); return 0; }
//// cast_chain_roundtrip
int main(void) { int v = -123456; printf("%d %d %d\n", (int)(short)v, (int)(unsigned short)v, (int)(long)(unsigned)v); return 0; }
//// char_array_index_negative
int main(void) { char s[] = "xyz"; signed char i = -1; printf("%c\n", (s + 2)[i]); return 0; }
