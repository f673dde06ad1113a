#include "cctest.h"
int arr[10];
int sum(int *p, int n) { int s = 0; for (int *q = p; q < p + n; q++) s += *q; return s; }
void swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }
int main(void) {
  for (int i = 0; i < 10; i++) arr[i] = i * i;
  int *p = &arr[3];
  printf("%d %d %d %ld\n", *p, p[2], *(p - 1), (long)(&arr[9] - p));
  printf("%d\n", sum(arr, 10));
  int x = 1, y = 2; swap(&x, &y); printf("%d %d\n", x, y);
  char s[] = "hello";
  char *c = s; while (*c) { *c = *c - 32; c++; }
  printf("%s %ld\n", s, (long)(c - s));
  int m[3][4];
  for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) m[i][j] = i * 10 + j;
  int (*row)[4] = m + 1;
  printf("%d %d %d %ld\n", m[2][3], (*row)[2], row[1][0], (long)sizeof m);
  int **pp = &p; **pp = 99; printf("%d\n", arr[3]);
  void *v = arr; printf("%d\n", ((int *)v)[4]);
  return p == &arr[3];
}
