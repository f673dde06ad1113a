/* Native side of the host-CPU oracle (test/hostOracle.test.ts).
 *
 *   harness CODE.bin CASES.bin > RESULTS.bin
 *
 * CODE.bin holds one CODE_SLOT-byte slot per case (snippet + epilogue, built by
 * GNU as). CASES.bin holds, per case: 16 registers and RFLAGS (u64 each), then
 * SCRATCH_SIZE bytes of initial scratch memory. For each case the harness
 * copies the slot to CODE and the scratch bytes to SCRATCH, runs it, and
 * writes: status (0, or the signal number if the snippet faulted), 16
 * registers, RFLAGS, and the final scratch memory. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "layout.h"

void run_case(void);

static sigjmp_buf recover;
static volatile sig_atomic_t caught;

static void on_signal(int sig) {
  caught = sig;
  siglongjmp(recover, 1);
}

static void *map_at(uintptr_t addr, size_t size, int prot) {
  void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    fprintf(stderr, "harness: cannot map 0x%lx\n", (unsigned long)addr);
    exit(2);
  }
  return p;
}

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "harness: cannot open %s\n", path); exit(2); }
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(*size + 1);
  if (fread(buf, 1, *size, f) != *size) { fprintf(stderr, "harness: short read on %s\n", path); exit(2); }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: harness CODE.bin CASES.bin\n"); return 2; }
  size_t code_size, cases_size;
  unsigned char *code = read_file(argv[1], &code_size);
  unsigned char *cases = read_file(argv[2], &cases_size);
  size_t record = 17 * 8 + SCRATCH_SIZE;
  size_t count = cases_size / record;
  if (count * CODE_SLOT > code_size) { fprintf(stderr, "harness: %zu cases but only %zu code bytes\n", count, code_size); return 2; }

  map_at(SCRATCH & ~0xfffUL, 0x1000, PROT_READ | PROT_WRITE);
  map_at(CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC);
  map_at(SAVE, 0x1000, PROT_READ | PROT_WRITE);

  static char altstack[65536];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGTRAP, &sa, NULL);

  unsigned char *out = malloc(8 + record);
  for (size_t i = 0; i < count; i++) {
    const unsigned char *c = cases + i * record;
    memcpy((void *)CODE, code + i * CODE_SLOT, CODE_SLOT);
    __builtin___clear_cache((char *)CODE, (char *)CODE + CODE_SLOT);
    memcpy((void *)SAVE_IN, c, 17 * 8);
    memcpy((void *)SCRATCH, c + 17 * 8, SCRATCH_SIZE);
    memset((void *)SAVE, 0, 0x88);
    caught = 0;
    if (sigsetjmp(recover, 1) == 0) run_case();
    uint64_t status = (uint64_t)caught;
    memcpy(out, &status, 8);
    memcpy(out + 8, (void *)SAVE, 17 * 8);
    memcpy(out + 8 + 17 * 8, (void *)SCRATCH, SCRATCH_SIZE);
    fwrite(out, 1, 8 + record, stdout);
  }
  return 0;
}
