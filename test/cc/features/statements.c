// Statements: switch (fall-through, default in the middle, nested), goto and
// labels, loops with break and continue, the exit status of main.
#include "cctest.h"
//// switch_fall_through
int f(int x) { int r = 0; switch (x) { case 1: r += 1; case 2: r += 10; break; case 3: r += 100; default: r += 1000; } return r; }
int main(void) { for (int i = 0; i < 5; i++) printf("%d ", f(i)); printf("\n"); return 0; }
//// switch_default_first
int f(int x) { switch (x) { default: return -1; case 5: return 5; case 6: return 6; } }
int main(void) { printf("%d %d %d\n", f(5), f(6), f(7)); return 0; }
//// switch_sparse_cases
int f(long x) { switch (x) { case -1000000: return 1; case 0: return 2; case 77: return 3; case 0x7fffffffffL: return 4; } return 0; }
int main(void) { printf("%d %d %d %d %d\n", f(-1000000), f(0), f(77), f(0x7fffffffffL), f(5)); return 0; }
//// switch_dense_cases
int f(int x) { switch (x) { case 0: return 10; case 1: return 11; case 2: return 12; case 3: return 13; case 4: return 14; case 5: return 15; case 6: return 16; case 7: return 17; } return -1; }
int main(void) { int s = 0; for (int i = -2; i < 10; i++) s = s * 3 + f(i); printf("%d\n", s); return 0; }
//// switch_char_and_unsigned
int f(unsigned char c) { switch (c) { case 255: return 1; case 'a': return 2; } return 0; }
int main(void) { printf("%d %d %d\n", f(-1), f('a'), f(0)); return 0; }
//// switch_nested_with_loop
int main(void) { int n = 0; for (int i = 0; i < 6; i++) { switch (i % 3) { case 0: continue; case 1: switch (i) { case 4: n += 100; break; default: n += 1; } break; case 2: n += 10; } n += 1000; } printf("%d\n", n); return 0; }
//// duffs_device
int copy(char *to, const char *from, int count) { int n = (count + 3) / 4; switch (count % 4) { case 0: do { *to++ = *from++; case 3: *to++ = *from++; case 2: *to++ = *from++; case 1: *to++ = *from++; } while (--n > 0); } return n; }
int main(void) { char out[16] = { 0 }; copy(out, "abcdefghij", 10); printf("%s\n", out); return 0; }
//// goto_loop
int main(void) { int i = 0, s = 0; again: s += i; if (++i < 10) goto again; printf("%d\n", s); return 0; }
//// goto_forward_out_of_nest
int main(void) { int found = -1; for (int i = 0; i < 10; i++) for (int j = 0; j < 10; j++) if (i * j == 42) { found = i * 10 + j; goto done; } done: printf("%d\n", found); return 0; }
//// goto_into_block_label
int main(void) { int x = 0; goto inside; { x = 100; inside: x += 1; } printf("%d\n", x); return 0; }
//// while_break_continue
int main(void) { int i = 0, s = 0; while (1) { i++; if (i % 2) continue; if (i > 20) break; s += i; } printf("%d\n", s); return 0; }
//// do_while_once
int main(void) { int n = 0; do n++; while (0); do { n += 10; } while (n < 35); printf("%d\n", n); return 0; }
//// for_with_comma_and_empty
int main(void) { int i, j, s = 0; for (i = 0, j = 10; i < j; i++, j--) s += j - i; for (;;) { if (s > 0) break; } printf("%d %d %d\n", i, j, s); return 0; }
//// for_declaration_scope
int main(void) { int i = 100; for (int i = 0; i < 3; i++) { int i = 7; (void)i; } printf("%d\n", i); return 0; }
//// nested_loops_labels_continue
int main(void) { int c = 0; for (int i = 0; i < 5; i++) { for (int j = 0; j < 5; j++) { if (j > i) goto next; c++; } next:; } printf("%d\n", c); return 0; }
//// return_status_truncated
int main(void) { printf("status\n"); return 0x1234; }
//// exit_from_nested_call
void deep(int n) { if (n == 0) { printf("leaving\n"); leave(7); } deep(n - 1); }
int main(void) { deep(5); printf("not reached\n"); return 0; }
//// empty_statements_and_blocks
int main(void) { ; {} { ; ; } if (1) ; else ; while (0) ; printf("ok\n"); return 0; }
//// if_else_chain
const char *grade(int s) { if (s >= 90) return "A"; else if (s >= 80) return "B"; else if (s >= 70) return "C"; else return "F"; }
int main(void) { printf("%s%s%s%s\n", grade(95), grade(85), grade(75), grade(5)); return 0; }
//// logical_short_circuit
int calls;
int t(int v) { calls++; return v; }
int main(void) { int r = t(0) && t(1); r += t(1) || t(0); r += !t(0) && (t(1) || t(1)); printf("%d %d\n", r, calls); return 0; }
