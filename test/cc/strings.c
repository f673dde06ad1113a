#include "cctest.h"
int len(const char *s) { int n = 0; while (s[n]) n++; return n; }
void rev(char *s) { int n = len(s); for (int i = 0; i < n / 2; i++) { char t = s[i]; s[i] = s[n - 1 - i]; s[n - 1 - i] = t; } }
int main(void) {
  char s[] = "Hello, world";
  rev(s);
  printf("%s %d\n", s, len("tab\there"));
  printf("[%s] %d %d %d\n", "a\x41\102\n", '\0', '\\', "x" "yz"[2]);
  const char *multi = "line1\n"
                      "line2\n";
  printf("%s", multi);
  printf("%d %d\n", (int)sizeof "abc", (int)sizeof(L"ab"));
  char c = 'A'; c += 2;
  printf("%c %d\n", c, "hi"[1]);
  return len(s);
}
