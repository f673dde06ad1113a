// malloc and free: a first-fit free list of blocks carved out of memory from sbrk.
//
// Every block starts with a header holding its size in header units; the free
// blocks form a circular list sorted by address, so free() can merge a block
// with free neighbours.

#include "user.h"

struct header {
  struct header *next;   // next free block (only while free)
  unsigned long units;   // size of this block in header units, header included
};

static struct header base;          // an empty block that anchors the list
static struct header *freelist;     // where the last search stopped

void free(void *p) {
  if (p == 0)
    return;
  struct header *h = (struct header *)p - 1;
  struct header *at = freelist;
  // Find the free block just below h (the list is circular and address-ordered).
  while (!(h > at && h < at->next)) {
    if (at >= at->next && (h > at || h < at->next))
      break;   // h is past the highest or below the lowest block
    at = at->next;
  }
  if (h + h->units == at->next) {   // merge with the block above
    h->units += at->next->units;
    h->next = at->next->next;
  } else {
    h->next = at->next;
  }
  if (at + at->units == h) {        // merge with the block below
    at->units += h->units;
    at->next = h->next;
  } else {
    at->next = h;
  }
  freelist = at;
}

static struct header *grow(unsigned long units) {
  if (units < 4096)
    units = 4096;
  char *p = sbrk(units * sizeof(struct header));
  if (p == (char *)-1)
    return 0;
  struct header *h = (struct header *)p;
  h->units = units;
  free(h + 1);
  return freelist;
}

void *malloc(uint nbytes) {
  unsigned long units = (nbytes + sizeof(struct header) - 1) / sizeof(struct header) + 1;
  if (freelist == 0) {
    base.next = freelist = &base;
    base.units = 0;
  }
  struct header *prev = freelist;
  for (struct header *h = prev->next;; prev = h, h = h->next) {
    if (h->units >= units) {
      if (h->units == units) {
        prev->next = h->next;
      } else {   // hand out the top end of the block
        h->units -= units;
        h += h->units;
        h->units = units;
      }
      freelist = prev;
      return h + 1;
    }
    if (h == freelist && (h = grow(units)) == 0)
      return 0;
  }
}
