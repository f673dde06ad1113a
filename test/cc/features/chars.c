// char signedness as gcc on x86-64: plain char is signed.
#include "cctest.h"
//// plain_char_signed
int main(void) { char c = 0xff; printf("%d %d\n", c, c < 0); return 0; }
//// char_compare_with_literal
int main(void) { char c = '\xe9'; printf("%d %d\n", c == '\xe9', c == 0xe9); return 0; }
//// char_to_unsigned
int main(void) { char c = -2; unsigned u = c; unsigned char uc = c; printf("%u %u\n", u, uc); return 0; }
//// char_shift_right
int main(void) { char c = -128; printf("%d %d\n", c >> 1, (unsigned char)c >> 1); return 0; }
//// char_array_high_bytes
int main(void) { char s[] = "\x80\x7f\xff"; int sum = 0; for (int i = 0; i < 3; i++) sum += s[i]; printf("%d\n", sum); return 0; }
//// char_literal_type
int main(void) { printf("%d %d %d\n", (int)sizeof('a'), 'ab' == ('a' * 256 + 'b'), '\377'); return 0; }
//// char_increment_wrap
int main(void) { char c = 127; c++; printf("%d\n", c); return 0; }
//// char_function_argument
int f(char c) { return c; }
unsigned g(unsigned char c) { return c; }
int main(void) { printf("%d %u\n", f(200), g(-1)); return 0; }
//// char_return_value
char f(int x) { return x; }
int main(void) { int r = f(0x1ff); printf("%d\n", r); return 0; }
//// signed_char_vs_unsigned_char_compare
int main(void) { signed char a = -1; unsigned char b = 255; printf("%d %d\n", a == b, (unsigned char)a == b); return 0; }
