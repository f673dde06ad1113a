// The corpus programs' one header: xk's user library when built by xk cc
// (-DXK), the host's C library when built by gcc; both give printf.
#ifdef XK
#include "user.h"
#else
#include <stdio.h>
#endif
