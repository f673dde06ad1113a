#include "cctest.h"
struct point { int x, y; };
struct rect { struct point a, b; char name[8]; };
union u { int i; unsigned char c[4]; long l; };
struct big { long v[5]; };
struct mix { char c; long l; short s; };
struct two { long a; long b; };
struct odd { char c[3]; };
struct point add(struct point p, struct point q) { struct point r = { p.x + q.x, p.y + q.y }; return r; }
struct big scale(struct big b, int k) { for (int i = 0; i < 5; i++) b.v[i] *= k; return b; }
struct two swap2(struct two t) { struct two r = { t.b, t.a }; return r; }
struct odd odd(struct odd o) { o.c[0]++; o.c[2]--; return o; }
long area(struct rect *r) { return (long)(r->b.x - r->a.x) * (r->b.y - r->a.y); }
int main(void) {
  struct rect r = { { 1, 2 }, { 11, 22 }, "box" };
  printf("%ld %s %d\n", area(&r), r.name, (int)sizeof(struct rect));
  struct point p = add(r.a, r.b);
  printf("%d %d\n", p.x, p.y);
  struct big b = { { 1, 2, 3, 4, 5 } };
  struct big c = scale(b, 3);
  printf("%ld %ld %ld\n", b.v[4], c.v[0], c.v[4]);
  union u x; x.l = 0; x.i = 0x01020304;
  printf("%d %d %d\n", x.c[0], x.c[3], (int)sizeof x);
  printf("%d %d\n", (int)sizeof(struct mix), (int)__builtin_offsetof(struct mix, s));
  struct two t = swap2((struct two){ 5, 9 });
  printf("%ld %ld\n", t.a, t.b);
  struct odd o = { { 'a', 'b', 'c' } };
  o = odd(o);
  printf("%c%c%c\n", o.c[0], o.c[1], o.c[2]);
  struct rect copy = r; copy.a.x = 100; printf("%d %d\n", r.a.x, copy.a.x);
  struct point pts[3] = { [1] = { .y = 7 }, [2].x = 3 };
  printf("%d %d %d\n", pts[0].x, pts[1].y, pts[2].x);
  return add(p, p).x & 0xff;
}
