// sigthreads: three user-level threads preempted by SIGALRM all make progress,
// and a counter protected by a uthread mutex ends exact.

#include "user.h"
#include "signal.h"
#include "uthread.h"
#include "../check.h"

#define ROUNDS 3000

static uthread_mutex_t lock;
static volatile long counter;
static volatile int progress[4];
static volatile int seen_others;

static void *worker(void *arg) {
  int me = (int)(long)arg;
  for (int i = 0; i < ROUNDS; i++) {
    uthread_mutex_lock(&lock);
    long c = counter;          // read-modify-write with a window for preemption
    for (volatile int d = 0; d < 20; d++)
      ;
    counter = c + 1;
    uthread_mutex_unlock(&lock);
    progress[me]++;
    if (i == ROUNDS / 2) {
      int others = 0;
      for (int j = 1; j <= 3; j++)
        if (j != me && progress[j] > 0)
          others++;
      if (others > 0)
        seen_others++;
    }
  }
  return (void *)(long)(me * 10);
}

int main(void) {
  uthread_mutex_init(&lock);
  CHECK(uthread_init(1) == 0, "uthread_init");
  int id[4];
  for (int i = 1; i <= 3; i++)
    CHECK((id[i] = uthread_create(worker, (void *)(long)i)) > 0, "create");
  for (int i = 1; i <= 3; i++)
    CHECK(uthread_join(id[i]) == (void *)(long)(i * 10), "join returns the result");
  uthread_stop();
  for (int i = 1; i <= 3; i++)
    CHECK(progress[i] == ROUNDS, "each thread finished its rounds");
  CHECK(counter == 3 * ROUNDS, "the mutex-protected counter is exact");
  CHECK(seen_others > 0, "threads ran interleaved (preempted)");
  printf("sigthreads: %d switches, counter %ld\n", uthread_switches(), counter);
  printf("sigthreads: PASS\n");
  return 0;
}
