// Asynchronous I/O helpers over the system calls (aio.h).
#include "aio.h"

// Wait for request `id` (a signal handler may run meanwhile: -EINTR just waits again),
// then return its result and forget it. -1 if the id is not yours.
int aio_wait(int id) {
  for (;;) {
    int r = aio_waitany(&id, 1);
    if (r == id) return aio_return(id);
    if (r != -EINTR) return -1;
  }
}
