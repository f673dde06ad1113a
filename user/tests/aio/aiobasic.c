// aiobasic: asynchronous I/O system calls 40-45. Several reads of the file "big"
// (byte i is (i*131 + (i>>8)) & 0xff) are in flight at once and complete in the
// order the disk serves them; each completion raises SIGUSR1 with si_code
// SI_ASYNCIO, the request id and the result; status, return, waitany, cancel
// and the per-process limit behave as aio.h says.

#include "user.h"
#include "signal.h"
#include "aio.h"
#include "../check.h"

#define BLOCK 1024
static const int offsets[4] = {0, 36 * BLOCK, 1 * BLOCK, 18 * BLOCK};
static char bufs[4][BLOCK];

static volatile int signals, bad_info;
static volatile int order[8], norder;
static void on_done(int sig, siginfo_t *si, void *uc) {
  signals++;
  if (sig != SIGUSR1 || si->si_code != SI_ASYNCIO) bad_info++;
  if (aio_info_result(si) != BLOCK && aio_info_result(si) != -ECANCELED) bad_info++;
  if (norder < 8) order[norder++] = aio_info_id(si);
}

static int expected(int i) { return (i * 131 + (i >> 8)) & 0xff; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_done;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGUSR1, &sa, 0) == 0, "sigaction");
  int fd = open("big", 0);
  CHECK(fd >= 0, "open big");

  // Bad arguments: no request.
  CHECK(aio_read(99, 0, bufs[0], BLOCK, SIGUSR1) == -1, "bad fd");
  CHECK(aio_read(fd, -1, bufs[0], BLOCK, SIGUSR1) == -1, "negative offset");
  CHECK(aio_read(fd, 0, bufs[0], -1, SIGUSR1) == -1, "negative length");
  CHECK(aio_read(fd, 0, bufs[0], BLOCK, 32) == -1, "bad signal");
  CHECK(aio_read(fd, 0, (void *)0x10, BLOCK, SIGUSR1) == -1, "unmapped buffer");
  CHECK(aio_read(fd, 0, (void *)main, BLOCK, SIGUSR1) == -1, "read into text");
  CHECK(aio_write(fd, 0, bufs[0], BLOCK, SIGUSR1) == -1, "write to a read-only open");
  CHECK(aio_read(1, 0, bufs[0], BLOCK, SIGUSR1) == -1, "not a regular file");
  CHECK(aio_status(12345) == -1 && aio_return(12345) == -1 && aio_cancel(12345) == -1, "unknown id");

  // Four reads in flight; the enqueue returns before any data moved.
  int ids[4];
  for (int i = 0; i < 4; i++) {
    ids[i] = aio_read(fd, offsets[i], bufs[i], BLOCK, SIGUSR1);
    CHECK(ids[i] > 0, "enqueue");
  }
  int inflight = 0;
  for (int i = 0; i < 4; i++) if (aio_status(ids[i]) == -EINPROGRESS) inflight++;
  CHECK(inflight == 4, "all four in flight right after enqueue");
  CHECK(aio_return(ids[0]) == -EINPROGRESS, "aio_return of a request in flight keeps it");
  CHECK(bufs[0][5] == 0, "nothing copied at enqueue");

  // Wait for all four in turn with aio_waitany.
  int left[4] = {ids[0], ids[1], ids[2], ids[3]};
  int nleft = 4, waited[4];
  for (int k = 0; k < 4; k++) {
    int id = aio_waitany(left, nleft);
    if (id == -EINTR) { k--; continue; }
    CHECK(id > 0, "waitany");
    waited[k] = id;
    int j = 0;
    while (left[j] != id) j++;
    left[j] = left[--nleft];
  }
  for (int i = 0; i < 4; i++) {
    CHECK(aio_status(ids[i]) == BLOCK, "status: the byte count");
    CHECK(aio_return(ids[i]) == BLOCK, "return: the byte count");
    CHECK(aio_status(ids[i]) == -1, "forgotten after aio_return");
    for (int b = 0; b < BLOCK; b++) CHECK((bufs[i][b] & 0xff) == expected(offsets[i] + b), "the file's bytes");
  }
  sleep(2);
  // Signals do not queue: completions in one interrupt may share a delivery (aio.h).
  CHECK(signals >= 1 && signals <= 4, "completion signals");
  CHECK(bad_info == 0, "siginfo: SIGUSR1, SI_ASYNCIO, the result");
  for (int i = 0; i < signals; i++) CHECK(order[i] >= ids[0] && order[i] <= ids[3], "siginfo: one of the ids");
  int sorted = 1;
  for (int i = 0; i < signals; i++) if (order[i] != ids[i]) sorted = 0;
  printf("aiobasic: %d signals, completion order", signals);
  for (int i = 0; i < signals; i++) printf(" %d", order[i] - ids[0] + 1);
  printf(" (enqueued 1 2 3 4)%s\n", sorted ? "" : ", out of order");
  for (int a = 0; a < 4; a++) for (int b = a + 1; b < 4; b++) CHECK(waited[a] != waited[b], "waitany gave each id once");

  // A read past the end of the file completes with 0; no signal when sig is 0.
  int s0 = signals;
  int id = aio_read(fd, 1 << 20, bufs[0], BLOCK, 0);
  CHECK(id > 0 && aio_wait(id) == 0, "past the end: 0 bytes");
  sleep(2);
  CHECK(signals == s0, "sig 0: no signal");

  // Cancel: a request whose data has not moved completes with -ECANCELED (and its signal).
  id = aio_read(fd, 30 * BLOCK, bufs[1], BLOCK, SIGUSR1);
  CHECK(aio_cancel(id) == AIO_CANCELED, "cancel in flight");
  CHECK(aio_status(id) == -ECANCELED, "cancelled");
  CHECK(aio_cancel(id) == AIO_ALLDONE, "cancel again: already done");
  CHECK(aio_return(id) == -ECANCELED, "return: -ECANCELED");

  // The limit: AIO_MAX requests held, then -1 until one is returned.
  int many[AIO_MAX];
  for (int i = 0; i < AIO_MAX; i++) {
    many[i] = aio_read(fd, i * BLOCK, bufs[i % 4], 16, 0);
    CHECK(many[i] > 0, "under the limit");
  }
  CHECK(aio_read(fd, 0, bufs[0], 16, 0) == -1, "over the limit");
  CHECK(aio_wait(many[0]) == 16, "wait one");
  id = aio_read(fd, 0, bufs[0], 16, 0);
  CHECK(id > 0, "room again");
  CHECK(aio_wait(id) == 16, "wait");
  for (int i = 1; i < AIO_MAX; i++) CHECK(aio_wait(many[i]) == 16, "wait the rest");
  int none[1] = {id};
  CHECK(aio_waitany(none, 1) == -1 && aio_waitany(none, 0) == -1, "waitany with no request of yours");
  printf("aiobasic: PASS\n");
  return 0;
}
