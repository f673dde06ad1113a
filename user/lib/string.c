// String and memory functions for user programs.

#include "user.h"

int strlen(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}

char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

// Copies at most n bytes; pads with NULs like the standard one.
char *strncpy(char *dst, const char *src, int n) {
  int i = 0;
  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

char *strcat(char *dst, const char *src) {
  strcpy(dst + strlen(dst), src);
  return dst;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

int strncmp(const char *a, const char *b, int n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b)
      return (uchar)*a - (uchar)*b;
    if (*a == 0)
      return 0;
  }
  return 0;
}

char *strchr(const char *s, int c) {
  for (; *s; s++)
    if (*s == (char)c)
      return (char *)s;
  return c == 0 ? (char *)s : 0;
}

void *memset(void *dst, int c, unsigned long n) {
  uchar *d = dst;
  while (n-- > 0)
    *d++ = (uchar)c;
  return dst;
}

// Handles overlapping regions by copying backwards when dst is above src.
void *memmove(void *dst, const void *src, unsigned long n) {
  uchar *d = dst;
  const uchar *s = src;
  if (d > s && d < s + n) {
    while (n-- > 0)
      d[n] = s[n];
  } else {
    while (n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n) {
  return memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, unsigned long n) {
  const uchar *x = a, *y = b;
  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

// Decimal, with an optional sign; stops at the first non-digit.
int atoi(const char *s) {
  int sign = 1, n = 0;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '-' || *s == '+')
    sign = *s++ == '-' ? -1 : 1;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}
