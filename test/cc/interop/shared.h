// Declarations shared by the two halves of the interop test: gcc.c (built by
// gcc -c) and xkcc.c (built by xk cc), linked together by xk ld.
struct small { int a; char b; };
struct pair { long x, y; };
struct twelve { int v[3]; };
struct large { long v[4]; char tag; };
struct bits { unsigned lo : 4; int mid : 9; unsigned hi : 3; };

long gcc_mix(char c, short s, int i, long l, unsigned char uc, unsigned short us, unsigned u, long extra);
struct small gcc_small(struct small s, int k);
struct pair gcc_pair(struct pair p, struct pair q);
struct twelve gcc_twelve(struct twelve t);
struct large gcc_large(struct large l, int a1, int a2, int a3, int a4, int a5, struct pair onstack);
long gcc_sum(int n, ...);
long gcc_callback(long (*f)(struct pair, int), int n);
struct bits gcc_bits(struct bits b);
_Bool gcc_is_odd(int v);
signed char gcc_narrow(int v);
extern int gcc_counter;
extern const char gcc_name[];

long xk_mix(char c, short s, int i, long l, unsigned char uc, unsigned short us, unsigned u, long extra);
struct small xk_small(struct small s, int k);
struct pair xk_pair(struct pair p, struct pair q);
struct twelve xk_twelve(struct twelve t);
struct large xk_large(struct large l, int a1, int a2, int a3, int a4, int a5, struct pair onstack);
long xk_sum(int n, ...);
long xk_weigh(struct pair p, int w);
struct bits xk_bits(struct bits b);
_Bool xk_is_odd(int v);
signed char xk_narrow(int v);
extern int xk_counter;
long gcc_calls_xk(void);
