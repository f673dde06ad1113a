// Pointers, arrays, multi-dimensional arrays, pointer arithmetic.
#include "cctest.h"
//// pointer_difference
int main(void) { int a[10]; int *p = &a[2], *q = &a[9]; printf("%ld %ld\n", (long)(q - p), (long)(p - q)); return 0; }
//// pointer_compare
int main(void) { int a[4]; printf("%d %d %d\n", &a[1] < &a[3], &a[3] <= &a[3], &a[0] > &a[1]); return 0; }
//// array_decay_sizeof
int f(int *p) { return sizeof p; }
int main(void) { int a[7]; printf("%d %d %d\n", (int)sizeof a, (int)sizeof(a[0]), f(a)); return 0; }
//// two_dimensional
int main(void) { int m[3][4]; for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) m[i][j] = i * 10 + j;
  int *flat = &m[0][0]; printf("%d %d %d %d\n", m[2][3], flat[5], *(*(m + 1) + 2), (int)sizeof m[1]); return 0; }
//// three_dimensional
int main(void) { char c[2][3][4]; int n = 0; for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) c[i][j][k] = n++;
  printf("%d %d %d\n", c[1][2][3], c[1][0][1], (int)sizeof c[1]); return 0; }
//// pointer_to_array
int main(void) { int m[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } }; int (*row)[3] = m; row++; printf("%d %d\n", (*row)[1], row[0][2]); return 0; }
//// array_of_pointers
int main(void) { int a = 1, b = 2, c = 3; int *ps[] = { &a, &b, &c }; int s = 0; for (int i = 0; i < 3; i++) s += *ps[i] * (i + 1); printf("%d\n", s); return 0; }
//// pointer_to_pointer
void set(int **pp, int *v) { *pp = v; }
int main(void) { int x = 5, y = 9; int *p = &x; set(&p, &y); **&p += 1; printf("%d %d\n", x, y); return 0; }
//// void_pointer_roundtrip
int main(void) { long v = 77; void *p = &v; long *q = p; printf("%ld\n", *q); return 0; }
//// char_pointer_walk
int len(const char *s) { const char *p = s; while (*p) p++; return p - s; }
int main(void) { printf("%d %d\n", len("hello"), len("")); return 0; }
//// index_commutes
int main(void) { int a[3] = { 4, 5, 6 }; printf("%d %d\n", 2[a], *(1 + a)); return 0; }
//// pointer_increment_forms
int main(void) { int a[5] = { 10, 20, 30, 40, 50 }; int *p = a; int x = *p++; int y = *++p; int z = ++*p; int w = (*p)++;
  printf("%d %d %d %d %d %d\n", x, y, z, w, a[2], (int)(p - a)); return 0; }
//// struct_array_stride
struct s { char c; int i; };
int main(void) { struct s a[4]; printf("%ld %ld\n", (long)((char *)&a[3] - (char *)&a[0]), (long)((char *)&a[1].i - (char *)a)); return 0; }
//// negative_index
int main(void) { int a[5] = { 1, 2, 3, 4, 5 }; int *p = a + 4; printf("%d %d\n", p[-1], p[-4]); return 0; }
//// array_parameter_matrix
int trace(int n, int m[][4]) { int t = 0; for (int i = 0; i < n; i++) t += m[i][i]; return t; }
int main(void) { int m[4][4] = { { 1 }, { 0, 2 }, { 0, 0, 3 }, { 0, 0, 0, 4 } }; printf("%d\n", trace(4, m)); return 0; }
//// string_table
const char *names[] = { "zero", "one", "two", "three" };
int main(void) { for (int i = 0; i < 4; i++) printf("%s %c\n", names[i], names[i][1]); return 0; }
//// null_pointer_compare
int main(void) { int *p = 0; char *q = (char *)0; printf("%d %d %d\n", p == 0, !q, p == (void *)0); return 0; }
//// long_pointer_arith
int main(void) { long a[8]; long *p = a; p += 5; p -= 2; printf("%ld %ld\n", (long)(p - a), (long)((char *)p - (char *)a)); return 0; }
//// swap_through_pointers
void swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }
int main(void) { int x = 3, y = 8; swap(&x, &y); printf("%d %d\n", x, y); return x; }
//// bubble_sort
int main(void) { int a[8] = { 5, 3, 9, 1, 7, 2, 8, 0 };
  for (int i = 0; i < 8; i++) for (int j = 0; j + 1 < 8 - i; j++) if (a[j] > a[j + 1]) { int t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
  for (int i = 0; i < 8; i++) printf("%d ", a[i]); printf("\n"); return 0; }
//// local_array_initializer_partial
int main(void) { int a[6] = { 1, 2 }; char s[8] = "ab"; printf("%d %d %d %d\n", a[1], a[5], s[1], s[7]); return 0; }
