#include "cctest.h"
int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
long fact(long n) { return n <= 1 ? 1 : n * fact(n - 1); }
int ack(int m, int n) { if (m == 0) return n + 1; if (n == 0) return ack(m - 1, 1); return ack(m - 1, ack(m, n - 1)); }
int even(int n);
int odd(int n) { return n == 0 ? 0 : even(n - 1); }
int even(int n) { return n == 0 ? 1 : odd(n - 1); }
void hanoi(int n, int *moves) { if (n == 0) return; hanoi(n - 1, moves); (*moves)++; hanoi(n - 1, moves); }
int main(void) {
  int moves = 0;
  hanoi(10, &moves);
  printf("%d %ld %d %d %d %d\n", fib(20), fact(20), ack(2, 3), even(10), odd(7), moves);
  return fib(10);
}
