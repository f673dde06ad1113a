#include "cctest.h"
enum color { RED, GREEN = 5, BLUE };
typedef struct node { int v; struct node *next; } node;
int main(void) {
  enum color c = BLUE;
  printf("%d %d %d\n", RED, GREEN, c);
  node n3 = { 3, 0 }, n2 = { 2, &n3 }, n1 = { 1, &n2 };
  int s = 0; for (node *p = &n1; p; p = p->next) s += p->v;
  printf("%d\n", s);
  int a = 1, b = (a++, a + 10);
  printf("%d %d\n", a, b);
  int x = ({ int t = 4; t * t; });
  printf("%d\n", x);
  int *cl = (int[]){ 7, 8, 9 };
  printf("%d %d\n", cl[2], ((struct node){ .v = 77 }).v);
  printf("%d %d %d\n", (int)sizeof(long long), (int)_Alignof(long), (int)sizeof(node));
  int y = 0; y += 5; y <<= 2; y |= 1; y ^= 3; y %= 7; y -= 10; y *= -3; y /= 2; y >>= 1; y &= 0xff;
  printf("%d\n", y);
  int arr[5] = { 1, 2, 3, 4, 5 }, i = 0;
  arr[i++] += 10; arr[++i] *= 3;
  printf("%d %d %d %d\n", arr[0], arr[1], arr[2], i);
  unsigned long big = 0; big--; printf("%lu\n", big);
  int z = 10; int q = z--; q -= --z; printf("%d %d\n", z, q);
  return a ?: 9;
}
