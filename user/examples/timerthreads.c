// timerthreads: user-level threads on the timer signal. Three threads count;
// SIGALRM preempts them (uthread.c swaps their registers in the signal frame), so
// their output interleaves without any of them yielding.

#include "user.h"
#include "signal.h"
#include "uthread.h"

static uthread_mutex_t print_lock;

static void *counter(void *arg) {
  char name = (char)(long)arg;
  for (int i = 0; i < 4; i++) {
    for (volatile int spin = 0; spin < 30000; spin++)  // a few timer ticks of work
      ;
    uthread_mutex_lock(&print_lock);
    printf("thread %c: step %d\n", name, i);
    uthread_mutex_unlock(&print_lock);
  }
  return 0;
}

int main(void) {
  uthread_mutex_init(&print_lock);
  uthread_init(1);
  int a = uthread_create(counter, (void *)'A');
  int b = uthread_create(counter, (void *)'B');
  int c = uthread_create(counter, (void *)'C');
  uthread_join(a);
  uthread_join(b);
  uthread_join(c);
  uthread_stop();
  printf("timerthreads: %d switches by SIGALRM\n", uthread_switches());
  return 0;
}
