// The corpus programs' one header: xk's user library when built by xk cc
// (-DXK), the host's C library when built by gcc; both give printf.
#ifdef XK
#include "user.h"
#else
#include <stdio.h>
#endif

// leave(n): end the program with exit status n (xk's exit takes no status).
#ifdef XK
#define leave(n) exitstatus(n)
#else
#include <stdlib.h>
#define leave(n) exit(n)
#endif
