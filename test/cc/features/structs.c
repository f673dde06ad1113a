// Structs and unions: nesting, anonymous members, bit-fields, designated
// initializers, assignment, passing and returning by value.
#include "cctest.h"
//// struct_layout_padding
struct a { char c; int i; char d; };
struct b { char c; long l; };
struct c { short s; char c; };
int main(void) { printf("%d %d %d\n", (int)sizeof(struct a), (int)sizeof(struct b), (int)sizeof(struct c)); return 0; }
//// nested_struct_access
struct in { int x, y; };
struct out { char tag; struct in p; struct in q[2]; };
int main(void) { struct out o = { 'a', { 1, 2 }, { { 3, 4 }, { 5, 6 } } }; printf("%c %d %d %d\n", o.tag, o.p.y, o.q[1].x, o.q[0].y); return 0; }
//// struct_assignment_copy
struct s { int a[5]; char c; };
int main(void) { struct s x = { { 1, 2, 3, 4, 5 }, 'z' }, y; y = x; x.a[0] = 99; printf("%d %d %c\n", y.a[0], y.a[4], y.c); return 0; }
//// union_type_punning
union u { unsigned i; unsigned char b[4]; unsigned short h[2]; };
int main(void) { union u v; v.i = 0x11223344; printf("%x %x %x\n", v.b[0], v.b[3], v.h[1]); return (int)sizeof v; }
//// anonymous_union_member
struct s { int tag; union { int i; char c; }; };
int main(void) { struct s v; v.tag = 1; v.i = 0x4142; printf("%d %c\n", v.tag, v.c); return 0; }
//// anonymous_struct_in_union
union u { struct { unsigned short lo, hi; }; unsigned w; };
int main(void) { union u v; v.w = 0xabcd1234; printf("%x %x\n", v.lo, v.hi); return 0; }
//// designated_initializers
struct p { int x, y, z; };
int main(void) { struct p a = { .z = 3, .x = 1 }; int arr[6] = { [4] = 40, [1] = 10, 11 }; printf("%d %d %d | %d %d %d %d\n", a.x, a.y, a.z, arr[1], arr[2], arr[4], arr[5]); return 0; }
//// designated_nested
struct in { int a, b; };
struct out { struct in i; int arr[3]; };
int main(void) { struct out o = { .i.b = 7, .arr[2] = 9 }; printf("%d %d %d %d\n", o.i.a, o.i.b, o.arr[0], o.arr[2]); return 0; }
//// global_struct_initializer
struct p { char c; short s; int i; long l; };
struct p g = { 'q', -2, 100000, -5000000000L };
struct p zero;
int main(void) { printf("%c %d %d %ld %d\n", g.c, g.s, g.i, g.l, zero.i); return 0; }
//// array_of_structs_initializer
struct kv { const char *k; int v; };
struct kv table[] = { { "one", 1 }, { "two", 2 }, { .v = 3, .k = "three" } };
int main(void) { int n = sizeof table / sizeof table[0]; for (int i = 0; i < n; i++) printf("%s=%d\n", table[i].k, table[i].v); return n; }
//// bitfield_basic
struct f { unsigned a : 3; unsigned b : 5; int c : 4; };
int main(void) { struct f x = { 0 }; x.a = 9; x.b = 33; x.c = 7; x.c++; printf("%u %u %d %d\n", x.a, x.b, x.c, (int)sizeof x); return 0; }
//// bitfield_signed_extend
struct f { int s : 3; unsigned u : 3; };
int main(void) { struct f x; x.s = 5; x.u = 5; printf("%d %u %d\n", x.s, x.u, x.s < 0); return 0; }
//// bitfield_layout_bytes
struct f { unsigned a : 4, b : 4, c : 8; unsigned short d : 7; };
union u { struct f f; unsigned char b[4]; };
int main(void) { union u v = { { 1, 2, 3, 4 } }; printf("%x %x %x %d\n", v.b[0], v.b[1], v.b[2], (int)sizeof(struct f)); return 0; }
//// bitfield_compound_assign
struct f { unsigned a : 5; int b : 6; };
int main(void) { struct f x = { 30, -30 }; x.a += 5; x.b -= 5; x.a <<= 1; printf("%u %d\n", x.a, x.b); return 0; }
//// bitfield_long
struct f { unsigned long a : 40; unsigned long b : 24; };
int main(void) { struct f x; x.a = 0xffffffffffUL; x.b = 0x123456; x.a++; printf("%lx %lx %d\n", (unsigned long)x.a, (unsigned long)x.b, (int)sizeof x); return 0; }
//// bitfield_zero_width
struct f { char a : 3; int : 0; char b : 3; };
int main(void) { printf("%d\n", (int)sizeof(struct f)); return 0; }
//// struct_pointer_arrow
struct node { int v; struct node *next; };
int main(void) { struct node c = { 3, 0 }, b = { 2, &c }, a = { 1, &b }; printf("%d %d\n", a.next->next->v, (&a)->next->v); return 0; }
//// struct_return_small
struct p { int x, y; };
struct p make(int a) { struct p r = { a, a * 2 }; return r; }
int main(void) { struct p v = make(21); printf("%d %d %d\n", v.x, v.y, make(3).y); return 0; }
//// struct_return_large
struct big { long a[6]; };
struct big fill(long k) { struct big b; for (int i = 0; i < 6; i++) b.a[i] = k * i; return b; }
int main(void) { struct big b = fill(7); printf("%ld %ld\n", b.a[5], fill(2).a[3]); return 0; }
//// struct_argument_mixed
struct m { char c; short s; int i; };
struct w { long a; char b; };
long f(struct m x, struct w y, struct m z) { return x.c + x.s * 10 + x.i * 100 + y.a + y.b + z.i; }
int main(void) { struct m a = { 1, 2, 3 }, c = { 0, 0, 1000 }; struct w b = { 100000, 5 }; printf("%ld\n", f(a, b, c)); return 0; }
//// struct_many_args_stack
struct s { long a, b; };
long f(long p1, long p2, long p3, long p4, long p5, struct s x, long p6, struct s y) { return p1 + p2 + p3 + p4 + p5 + x.a * x.b + p6 + y.a - y.b; }
int main(void) { struct s x = { 3, 4 }, y = { 100, 1 }; printf("%ld\n", f(1, 2, 3, 4, 5, x, 6, y)); return 0; }
//// union_initializer_first_member
union u { int i; char c[8]; };
union u g = { 0x41424344 };
union u h = { .c = "xy" };
int main(void) { printf("%c %c %s\n", g.c[0], g.c[3], h.c); return 0; }
//// flexible_array_member
struct s { int n; int data[]; };
int main(void) { printf("%d\n", (int)sizeof(struct s)); return 0; }
//// self_referential_list_reverse
struct n { int v; struct n *next; };
int main(void) { struct n a[5]; for (int i = 0; i < 5; i++) { a[i].v = i; a[i].next = i < 4 ? &a[i + 1] : 0; }
  struct n *r = 0, *p = a; while (p) { struct n *t = p->next; p->next = r; r = p; p = t; }
  for (p = r; p; p = p->next) printf("%d", p->v); printf("\n"); return 0; }
