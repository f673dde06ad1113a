// __asm__ (basic and extended) and __attribute__ as the project's code uses
// them: noreturn, aligned, packed, section; unknown attributes are ignored.
#include "cctest.h"
//// asm_extended_add
int main(void) { int a = 40, b = 2; __asm__("addl %1, %0" : "+r"(a) : "r"(b)); printf("%d\n", a); return 0; }
//// asm_extended_output_input
long twice(long x) { long r; __asm__("leaq (%1,%1), %0" : "=r"(r) : "r"(x)); return r; }
int main(void) { printf("%ld\n", twice(21)); return 0; }
//// asm_memory_operand
int main(void) { int v = 5; __asm__ volatile("incl %0" : "+m"(v)); printf("%d\n", v); return 0; }
//// asm_specific_registers
unsigned long mulhi(unsigned long a, unsigned long b) { unsigned long hi, lo; __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "r"(b)); return hi + (lo & 0); }
int main(void) { printf("%lx\n", mulhi(0xffffffffffffffffUL, 0x10)); return 0; }
//// asm_basic_and_clobbers
int main(void) { __asm__("nop"); int x = 3; __asm__ volatile("" ::: "memory"); printf("%d\n", x); return 0; }
//// asm_immediate_constraint
int main(void) { int x = 1; __asm__("shll %1, %0" : "+r"(x) : "i"(5)); printf("%d\n", x); return 0; }
//// attribute_packed
struct __attribute__((packed)) p { char c; int i; short s; };
int main(void) { struct p v = { 1, 2, 3 }; printf("%d %d %d\n", (int)sizeof(struct p), v.i, (int)((char *)&v.s - (char *)&v)); return 0; }
//// attribute_aligned
struct a { char c; } __attribute__((aligned(16)));
int g __attribute__((aligned(64)));
int main(void) { printf("%d %d %d\n", (int)sizeof(struct a), (int)_Alignof(struct a), (int)((unsigned long)&g % 64)); return 0; }
//// attribute_noreturn
__attribute__((noreturn)) void stop(int n) { printf("stop %d\n", n); leave(n); }
int main(void) { stop(3); }
//// attribute_section
int counter __attribute__((section(".data.counter"))) = 5;
__attribute__((section(".text.helper"))) int helper(void) { return counter * 2; }
int main(void) { printf("%d\n", helper()); return 0; }
//// attribute_unused_and_unknown
static int f(int x __attribute__((unused))) __attribute__((cold));
static int f(int x) { return 1; }
int main(void) { __attribute__((unused)) int y = 2; printf("%d\n", f(0) + y); return 0; }
