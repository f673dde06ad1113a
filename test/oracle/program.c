/* A freestanding integer program for the host-CPU oracle (test/cpuProgram.test.ts).
 * It computes one 64-bit checksum over arithmetic, string operations, bit
 * operations, a sort and a hash. The same object runs natively (startNative.S)
 * and on xk (startXk.S); both must produce the same number.
 * Built with -ffreestanding -nostdlib: it defines the few library functions gcc
 * may call (memcpy, memset, memmove, memcmp). */

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;

void *memcpy(void *dst, const void *src, u64 n) {
  u8 *d = dst; const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}
void *memset(void *dst, int c, u64 n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}
void *memmove(void *dst, const void *src, u64 n) {
  u8 *d = dst; const u8 *s = src;
  if (d < s) while (n--) *d++ = *s++;
  else { d += n; s += n; while (n--) *--d = *--s; }
  return dst;
}
int memcmp(const void *a, const void *b, u64 n) {
  const u8 *x = a, *y = b;
  for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
  return 0;
}

static u64 mix(u64 h, u64 v) {
  h ^= v + 0x9e3779b97f4a7c15UL + (h << 6) + (h >> 2);
  return h;
}

static u64 rng_state = 88172645463325252UL;
static u64 next_random(void) {
  u64 x = rng_state;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return rng_state = x;
}

static u64 arithmetic(void) {
  u64 h = 0;
  for (int i = 1; i < 300; i++) {
    u64 a = next_random(), b = next_random() | 1;
    i64 sa = (i64)a, sb = (i64)(b >> (i % 60));
    u32 x = (u32)a, y = (u32)b | 1;
    i32 sx = (i32)x, sy = (i32)(y >> (i % 31)) | 1;
    h = mix(h, a * b);
    h = mix(h, a / b + a % b);
    h = mix(h, (u64)(sb ? sa / sb : 0) + (u64)(sb ? sa % sb : 0));
    h = mix(h, x / y + x % y);
    h = mix(h, (u64)(sx / sy) ^ (u64)(sx % sy));
    h = mix(h, (u64)((unsigned __int128)a * b >> 64));
    h = mix(h, (u64)((__int128)sa * sb >> 64));
    h = mix(h, (u64)(u16)(x * y) + (u64)(signed char)(x >> 3));
    h = mix(h, (a >> (i & 63)) | (a << ((64 - i) & 63)));
    h = mix(h, (u64)(sa >> (i & 63)));
    h = mix(h, (u64)(x < y) + (u64)(sx < sy) * 2 + (u64)(a > b) * 4);
    h = mix(h, x / 7 + x / 10 + (u64)(sx / 3) + a / 1000);
  }
  return h;
}

static u64 popcount(u64 v) {
  u64 n = 0;
  while (v) { v &= v - 1; n++; }
  return n;
}

static u64 bits(void) {
  u64 h = 0;
  for (int i = 0; i < 300; i++) {
    u64 a = next_random() >> (i % 64);
    u32 x = (u32)a;
    h = mix(h, popcount(a));
    if (a) h = mix(h, (u64)__builtin_ctzl(a) * 64 + (u64)__builtin_clzl(a));
    if (x) h = mix(h, (u64)__builtin_ctz(x) * 32 + (u64)__builtin_clz(x));
    h = mix(h, __builtin_bswap64(a) ^ __builtin_bswap32(x));
    h = mix(h, (a >> 5) & 1 ? a | (1UL << (i % 64)) : a & ~(1UL << (i % 64)));
    h = mix(h, (u64)(u16)((x << 3) | (x >> 13)));
  }
  return h;
}

static char text[600];
static char copy[600];

static u64 strings(void) {
  u64 h = 0;
  for (int i = 0; i < (int)sizeof text - 1; i++) text[i] = (char)('a' + next_random() % 26);
  text[sizeof text - 1] = 0;
  for (int round = 0; round < 20; round++) {
    u64 off = next_random() % 100, len = next_random() % 400;
    __builtin_memcpy(copy, text + off, len);
    copy[len] = 0;
    u64 n = 0;
    while (copy[n]) n++;
    h = mix(h, n);
    __builtin_memset(copy + len / 2, 'z', len / 4);
    memmove(copy + 3, copy, len / 2);
    h = mix(h, (u64)memcmp(copy, text, len) + 7);
    for (u64 k = 0; k < len; k += 37) h = mix(h, (u64)(u8)copy[k]);
  }
  return h;
}

static i32 values[400];

static void sort(i32 *v, int n) {
  /* insertion sort for short runs, quicksort above */
  if (n < 12) {
    for (int i = 1; i < n; i++) {
      i32 x = v[i];
      int j = i - 1;
      while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
      v[j + 1] = x;
    }
    return;
  }
  i32 pivot = v[n / 2];
  int i = 0, j = n - 1;
  while (i <= j) {
    while (v[i] < pivot) i++;
    while (v[j] > pivot) j--;
    if (i <= j) { i32 t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
  }
  sort(v, j + 1);
  sort(v + i, n - i);
}

static u64 sorting(void) {
  for (int i = 0; i < 400; i++) values[i] = (i32)next_random();
  sort(values, 400);
  u64 h = 0;
  for (int i = 0; i < 400; i++) h = mix(h, (u64)(u32)values[i]);
  for (int i = 1; i < 400; i++) if (values[i - 1] > values[i]) h ^= 1;
  return h;
}

static u64 hash_fnv(const char *p, u64 n) {
  u64 h = 1469598103934665603UL;
  for (u64 i = 0; i < n; i++) { h ^= (u8)p[i]; h *= 1099511628211UL; }
  return h;
}

static u32 crc32(const char *p, u64 n) {
  u32 c = 0xffffffffu;
  for (u64 i = 0; i < n; i++) {
    c ^= (u8)p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static int classify(u64 v) {
  switch (v % 9) {
    case 0: return 11; case 1: return 23; case 2: return 5; case 3: return 71;
    case 4: return 2; case 5: return 19; case 6: return 3; case 7: return 41;
    default: return 13;
  }
}

static u64 fib(int n) { return n < 2 ? (u64)n : fib(n - 1) + fib(n - 2); }

u64 compute(void) {
  u64 h = 0;
  h = mix(h, arithmetic());
  h = mix(h, bits());
  h = mix(h, strings());
  h = mix(h, sorting());
  h = mix(h, hash_fnv(text, sizeof text));
  h = mix(h, crc32(text, sizeof text));
  for (int i = 0; i < 100; i++) h = mix(h, (u64)classify(next_random()));
  h = mix(h, fib(18));
  return h;
}
