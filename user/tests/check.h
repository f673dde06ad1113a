// CHECK(cond, what): on failure print where and why, and exit with status 1.
// Each user test prints "<name>: PASS" and exits 0 when everything held.
#ifndef XK_CHECK_H
#define XK_CHECK_H

#include "user.h"

#define CHECK(cond, what)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(2, "FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, what, #cond);       \
      exitstatus(1);                                                                   \
    }                                                                            \
  } while (0)

#endif
