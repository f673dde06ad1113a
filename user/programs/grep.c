// grep PATTERN [FILES...]: prints the lines that match PATTERN.
//
// Patterns: a character matches itself, '.' matches any character, 'c*' matches
// zero or more c's, '^' at the start anchors to the line's start, '$' at the
// end to its end.

#include "user.h"
#include "fcntl.h"

static int match_at(const char *re, const char *text);

// 'c*' followed by rest: try the shortest run of c's first.
static int match_repeat(char c, const char *rest, const char *text) {
  for (;;) {
    if (match_at(rest, text))
      return 1;
    if (*text == 0 || (c != '.' && *text != c))
      return 0;
    text++;
  }
}

// Does re match a prefix of text?
static int match_at(const char *re, const char *text) {
  while (re[0] != 0) {
    if (re[1] == '*')
      return match_repeat(re[0], re + 2, text);
    if (re[0] == '$' && re[1] == 0)
      return *text == 0;
    if (*text == 0 || (re[0] != '.' && re[0] != *text))
      return 0;
    re++;
    text++;
  }
  return 1;
}

// Does re match anywhere in text?
static int match(const char *re, const char *text) {
  if (re[0] == '^')
    return match_at(re + 1, text);
  for (;; text++) {
    if (match_at(re, text))
      return 1;
    if (*text == 0)
      return 0;
  }
}

static char buf[1024];

static void grep(const char *pattern, int fd) {
  int have = 0, n;
  while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
    have += n;
    buf[have] = 0;
    char *line = buf, *end;
    while ((end = strchr(line, '\n')) != 0) {
      *end = 0;
      if (match(pattern, line)) {
        *end = '\n';
        write(1, line, end + 1 - line);
      }
      line = end + 1;
    }
    have -= line - buf;
    if (have == sizeof(buf) - 1) {   // a line longer than the buffer: test it as it is
      if (match(pattern, buf))
        printf("%s\n", buf);
      have = 0;
    } else if (have > 0) {
      memmove(buf, line, have);
    }
  }
  if (have > 0) {   // last line without a newline
    buf[have] = 0;
    if (match(pattern, buf))
      printf("%s\n", buf);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(2, "usage: grep PATTERN [FILE...]\n");
    return 1;
  }
  if (argc == 2) {
    grep(argv[1], 0);
    return 0;
  }
  int status = 0;
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    grep(argv[1], fd);
    close(fd);
  }
  return status;
}
