// aioread: overlap computation with reads by asynchronous I/O, and measure it.
//
// The file (argv[1], default "sh") is processed in 4 KiB chunks, each hashed
// with enough work to take about as long as the disk takes to read it. The first
// half goes the blocking way: read(), then compute; the process sleeps while
// the disk works. The second half (as large, also not yet cached) goes the
// asynchronous way: aio_read() the next chunk, compute the current one while
// the disk reads, aio_wait(); each completion also raises SIGUSR1. Time is the
// machine's clock: uptime() ticks, TICK instructions each (the timer interval).
//
//   usage: aioread [file]

#include "user.h"
#include "signal.h"
#include "aio.h"

#define CHUNK 4096
#define TICK 10000   // instructions per clock tick (DEFAULT_TIMER_INTERVAL)
#define ROUNDS 1     // work per byte

static char buf[2][CHUNK];
static volatile int completions;

static void on_done(int sig, siginfo_t *si, void *uc) {
  if (si->si_code == SI_ASYNCIO) completions++;
}

static unsigned compute(const char *p, int n) {
  unsigned h = 5381;
  for (int i = 0; i < n; i++)
    for (int r = 0; r < ROUNDS; r++) h = h * 33 + (unsigned char)p[i] + r;
  return h;
}

int main(int argc, char **argv) {
  const char *file = argc > 1 ? argv[1] : "sh";
  int fd = open(file, 0);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    fprintf(2, "aioread: cannot open %s\n", file);
    return 1;
  }
  int half = (int)(st.size / 2) / CHUNK * CHUNK;
  if (half < 2 * CHUNK) {
    fprintf(2, "aioread: %s is too small (%d bytes; need %d)\n", file, (int)st.size, 4 * CHUNK);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_done;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, 0);

  // Blocking: read, then compute; the disk and the CPU take turns.
  unsigned h1 = 0;
  int t0 = uptime();
  for (int off = 0; off < half; off += CHUNK) {
    int n = read(fd, buf[0], CHUNK);
    if (n <= 0) { fprintf(2, "aioread: read failed\n"); return 1; }
    h1 += compute(buf[0], n);
  }
  int blocking = uptime() - t0;

  // Asynchronous: the next chunk is on its way while this one is computed.
  unsigned h2 = 0;
  int t1 = uptime();
  int cur = 0;
  int id = aio_read(fd, half, buf[cur], CHUNK, SIGUSR1);
  for (int off = half; off < 2 * half; off += CHUNK) {
    int n = aio_wait(id);
    if (n <= 0) { fprintf(2, "aioread: aio_read failed: %d\n", n); return 1; }
    if (off + CHUNK < 2 * half) id = aio_read(fd, off + CHUNK, buf[1 - cur], CHUNK, SIGUSR1);
    h2 += compute(buf[cur], n);
    cur = 1 - cur;
  }
  int async = uptime() - t1;

  printf("aioread: %s, 2 x %d bytes in %d-byte chunks (hashes %x %x)\n", file, half, CHUNK, h1, h2);
  printf("aioread: blocking reads: %d ticks; asynchronous reads: %d ticks (%d completion signals)\n", blocking, async, completions);
  printf("aioread: saved %d ticks = about %d instructions (%d%%)\n", blocking - async, (blocking - async) * TICK,
         blocking > 0 ? 100 * (blocking - async) / blocking : 0);
  return 0;
}
