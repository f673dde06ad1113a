// printf(fmt, ...) to standard output and fprintf(fd, fmt, ...).
// Conversions: %d %u %x %p %s %c %%, with l or ll for 64-bit integers.
// Output is collected in a buffer and written with as few write() calls as
// possible, so a line from one process is not split by another's.

#include <stdarg.h>
#include "user.h"

struct out {
  int fd;
  int len;
  int total;
  char buf[256];
};

static void flush(struct out *o) {
  if (o->len > 0)
    write(o->fd, o->buf, o->len);
  o->len = 0;
}

static void putc(struct out *o, char c) {
  if (o->len == sizeof(o->buf))
    flush(o);
  o->buf[o->len++] = c;
  o->total++;
}

static void puts(struct out *o, const char *s) {
  while (*s)
    putc(o, *s++);
}

static void putnum(struct out *o, unsigned long x, int base, int negative) {
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = digits[x % base];
    x /= base;
  } while (x != 0);
  if (negative)
    putc(o, '-');
  while (--i >= 0)
    putc(o, tmp[i]);
}

static int vformat(int fd, const char *fmt, va_list ap) {
  struct out o;
  o.fd = fd;
  o.len = 0;
  o.total = 0;
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      putc(&o, *fmt);
      continue;
    }
    fmt++;
    int longs = 0;
    while (*fmt == 'l') {
      longs++;
      fmt++;
    }
    switch (*fmt) {
    case 'd': {
      long v = longs ? va_arg(ap, long) : va_arg(ap, int);
      putnum(&o, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0);
      break;
    }
    case 'u':
      putnum(&o, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 10, 0);
      break;
    case 'x':
      putnum(&o, longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 16, 0);
      break;
    case 'p':
      puts(&o, "0x");
      putnum(&o, (unsigned long)va_arg(ap, void *), 16, 0);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      puts(&o, s ? s : "(null)");
      break;
    }
    case 'c':
      putc(&o, (char)va_arg(ap, int));
      break;
    case '%':
      putc(&o, '%');
      break;
    case 0:
      fmt--;   // a lone % at the end
      break;
    default:   // unknown conversion: print it as is
      putc(&o, '%');
      putc(&o, *fmt);
      break;
    }
  }
  flush(&o);
  return o.total;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(1, fmt, ap);
  va_end(ap);
  return n;
}

int fprintf(int fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(fd, fmt, ap);
  va_end(ap);
  return n;
}
