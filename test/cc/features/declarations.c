// enums, typedef, static and extern, storage of globals and locals.
#include "cctest.h"
//// enum_values
enum e { A, B = 10, C, D = -3, E };
int main(void) { printf("%d %d %d %d %d %d\n", A, B, C, D, E, (int)sizeof(enum e)); return C; }
//// enum_in_switch
enum color { RED, GREEN, BLUE };
const char *name(enum color c) { switch (c) { case RED: return "red"; case GREEN: return "green"; default: return "other"; } }
int main(void) { printf("%s %s %s\n", name(RED), name(BLUE), name(GREEN)); return 0; }
//// enum_constant_expressions
enum { SHIFT = 3, SIZE = 1 << SHIFT, MASK = SIZE - 1, BIG = 0x7fffffff };
int arr[SIZE];
int main(void) { printf("%d %d %d %d\n", SIZE, MASK, (int)sizeof arr, BIG); return 0; }
//// enum_unsigned_compare
enum small { X = 1 };
int main(void) { enum small s = X; printf("%d\n", s - 2 < 0); return 0; }
//// typedef_chain
typedef int i32; typedef i32 *pi32; typedef pi32 arr_t[3];
int main(void) { i32 a = 1, b = 2, c = 3; arr_t arr = { &a, &b, &c }; printf("%d %d\n", *arr[2], (int)sizeof(arr_t)); return 0; }
//// typedef_struct_anonymous
typedef struct { int x; char c; } pair;
int main(void) { pair p = { 5, 'k' }; pair *q = &p; printf("%d %c %d\n", q->x, q->c, (int)sizeof(pair)); return 0; }
//// typedef_function_type
typedef int op(int, int);
int add(int a, int b) { return a + b; }
int apply(op *f, int a, int b) { return f(a, b); }
int main(void) { printf("%d\n", apply(add, 20, 22)); return 0; }
//// typedef_scope_shadow
typedef int T;
int main(void) { T x = 1; { int T = 5; x += T; } T y = x; printf("%d\n", y); return 0; }
//// static_local_counter
int next(void) { static int n = 10; return n++; }
int main(void) { next(); next(); printf("%d\n", next()); return 0; }
//// static_global_and_function
static int hidden = 4;
static int twice(int x) { return 2 * x; }
int main(void) { printf("%d\n", twice(hidden)); return 0; }
//// extern_declaration_later_definition
extern int later;
int get(void) { return later; }
int later = 17;
int main(void) { printf("%d\n", get()); return 0; }
//// tentative_definitions
int t;
int t;
int u = 3;
int main(void) { t += u; printf("%d %d\n", t, u); return 0; }
//// block_scope_extern
int g = 5;
int main(void) { int g = 1; { extern int g; printf("%d ", g); } printf("%d\n", g); return 0; }
//// shadowing_nested_blocks
int x = 1;
int main(void) { int x = 2; { int x = 3; { int x = 4; printf("%d ", x); } printf("%d ", x); } printf("%d\n", x); return 0; }
//// const_volatile_qualifiers
const int c = 10;
volatile int v = 2;
int main(void) { const int *p = &c; int *volatile q = 0; v *= *p; printf("%d %d\n", v, q == 0); return 0; }
//// global_pointer_initializers
int arr[4] = { 1, 2, 3, 4 };
int *p = &arr[2];
char *s = "text" + 1;
int *end = arr + 4;
int main(void) { printf("%d %s %ld\n", *p, s, (long)(end - p)); return 0; }
//// static_local_array_address
int *slot(int i) { static int cells[4]; return &cells[i]; }
int main(void) { *slot(1) = 5; *slot(3) = *slot(1) * 2; printf("%d %d\n", *slot(1), *slot(3)); return 0; }
//// multiple_declarators
int main(void) { int a = 1, *p = &a, arr[2] = { 7, 8 }, (*pa)[2] = &arr; printf("%d %d\n", *p, (*pa)[1]); return 0; }
//// recursive_fibonacci
int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) { printf("%d\n", fib(20)); return fib(10); }
//// mutual_recursion
int odd(int); int even(int n) { return n == 0 ? 1 : odd(n - 1); } int odd(int n) { return n == 0 ? 0 : even(n - 1); }
int main(void) { printf("%d %d\n", even(10), odd(7)); return 0; }
