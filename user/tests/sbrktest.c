// sbrktest: growing and shrinking the heap with sbrk, and malloc/free on top.

#include "user.h"
#include "check.h"

int main(void) {
  char *start = sbrk(0);
  CHECK(start != (char *)-1, "sbrk(0)");
  char *a = sbrk(10000);
  CHECK(a == start, "sbrk returns the old break");
  CHECK(sbrk(0) == start + 10000, "break moved");
  for (int i = 0; i < 10000; i++)
    a[i] = (char)i;
  for (int i = 0; i < 10000; i++)
    CHECK(a[i] == (char)i, "heap memory holds data");
  CHECK(sbrk(-10000) == start + 10000, "shrink");
  CHECK(sbrk(0) == start, "break back");
  CHECK(sbrk(0x7fffffff) == (char *)-1, "too much memory is refused");

  // The child gets a copy of the heap.
  char *h = sbrk(4096);
  h[0] = 'p';
  int pid = fork();
  if (pid == 0) {
    if (h[0] != 'p')
      exitstatus(1);
    h[0] = 'c';
    exitstatus(0);
  }
  int status;
  CHECK(waitstatus(&status) == pid && status == 0, "child saw the parent's heap");
  CHECK(h[0] == 'p', "the child's write stayed in the child");

  // malloc: many blocks, freed and reused, no overlap.
  char *blocks[100];
  for (int i = 0; i < 100; i++) {
    blocks[i] = malloc(1 + i * 37);
    CHECK(blocks[i] != 0, "malloc");
    memset(blocks[i], i, 1 + i * 37);
  }
  for (int i = 0; i < 100; i++)
    for (int j = 0; j < 1 + i * 37; j++)
      CHECK(blocks[i][j] == (char)i, "blocks do not overlap");
  for (int i = 0; i < 100; i += 2)
    free(blocks[i]);
  char *big = malloc(100000);
  CHECK(big != 0, "big malloc");
  memset(big, 1, 100000);
  for (int i = 1; i < 100; i += 2)
    CHECK(blocks[i][0] == (char)i, "odd blocks intact");
  printf("sbrktest: PASS\n");
  return 0;
}
