// Issue 6: time of check to time of use, and isolation between processes.
//
// TOCTOU: while the kernel is blocked inside a system call (a pipe write that does
// not fit), something else changes the user buffer; the kernel must act only on
// what it copied in before it slept. In xk no second process can reach another's
// memory, so the "something else" is the test itself, writing the sleeping
// process's pages between two slices of the run, as a timer-driven agent would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';
import { startSession } from '../src/kernel/boot/session.js';
import { PAGE_SIZE, USER_STACK_BOTTOM } from '../src/kernel/mem/kernelLayout.js';
import { PTE_COW, PTE_W } from '../src/kernel/mem/vm.js';
import { resolveUserFault } from '../src/kernel/mem/pageFault.js';
import type { Proc } from '../src/kernel/proc/proc.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';

const WRITER = C_PROTOTYPES + `
char big[8192];
int main(void) {
  int fds[2];
  if (pipe(fds) != 0) return 3;
  for (int i = 0; i < 8192; i++) big[i] = 'A';
  int pid = fork();
  if (pid == 0) {
    close(fds[1]);
    sleep(3);                       /* let the writer fill the pipe and block */
    char b[512];
    int n, total = 0, bad = 0;
    while ((n = read(fds[0], b, sizeof b)) > 0) {
      for (int j = 0; j < n; j++) if (b[j] != 'A') bad++;
      total += n;
    }
    exitstatus(bad != 0 ? 10 : total != 8192 ? 11 : 0);
  }
  close(fds[0]);
  int w = write(fds[1], big, 8192);  /* blocks: the pipe holds less */
  close(fds[1]);
  int status = -1;
  waitstatus(&status);
  int changed = 0;
  for (int i = 0; i < 8192; i++) if (big[i] == 'B') changed++;
  puts("write "); putint(w); puts(" child "); putint(status); puts(" changed "); putint(changed); puts("\\n");
  exitstatus(0);
}`;

/**
 * Writable data pages of p (not the stack): [physical page] list. A copy-on-write
 * page is first made private, as the program's own write would (pageFault.ts):
 * the agent writes as the process does, never behind another process's back.
 */
function dataPages(p: Proc): number[] {
  const pages = p.vm.userPages().filter(([va, , f]) => (f & (PTE_W | PTE_COW)) && va < USER_STACK_BOTTOM - PAGE_SIZE);
  for (const [va] of pages) resolveUserFault(p.vm, va, true);
  return pages.map(([va]) => p.vm.lookup(va)!.addr);
}

/** Physical pages p can write, and all the pages it maps. */
function writableAndMapped(p: Proc): { writable: Set<number>; mapped: Set<number> } {
  const all = p.vm.userPages();
  return { writable: new Set(all.filter(([, , f]) => f & PTE_W).map(([, pa]) => pa)), mapped: new Set(all.map(([, pa]) => pa)) };
}

test('TOCTOU: a pipe write that blocks sends what was copied in, not what the buffer holds later', async () => {
  let output = '';
  let changed = -1;
  let shared = true;
  // The agent: the moment the writer's write() goes to sleep (the trace's 'sleep'
  // event, inside the kernel), every 'A' in the writer's data pages becomes 'B'.
  const agent = (e: TraceEvent): void => {
    if (e.step !== 'sleep' || e.pid !== 1 || e.args?.name !== 'write' || changed >= 0) return;
    const k = session.kernel;
    const writer = k.procs.byPid(1)!;
    changed = 0;
    for (const pa of dataPages(writer)) {
      for (let i = pa; i < pa + PAGE_SIZE; i++) {
        if (session.machine.memory.bytes[i] === 0x41) {
          session.machine.memory.bytes[i] = 0x42;
          changed++;
        }
      }
    }
    // Isolation while both live: a page one of them can write is not mapped in the other
    // (copy-on-write shares pages only read-only).
    const child = k.procs.live().find((q) => q.parent === writer)!;
    const [a, b] = [writableAndMapped(writer), writableAndMapped(child)];
    shared = [...a.writable].some((pa) => b.mapped.has(pa)) || [...b.writable].some((pa) => a.mapped.has(pa));
  };
  const session = await startSession({
    program: { path: 'writer', image: buildCProgram(WRITER), argv: ['writer'] },
    memoryBytes: 16 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    trace: (e) => agent(e),
  });
  try {
    const k = session.kernel;
    for (let slice = 0; slice < 5000 && !session.run(100_000); slice++);
    assert.equal(changed, 8192, 'the writer did not block in write() with its buffer in place');
    assert.equal(shared, false, 'a page one process can write is mapped in the other');
    assert.equal(k.exitStatus, 0, output);
    // The child read 8192 'A's (exit 0); the writer's own buffer does hold the B's.
    assert.match(output, /^write 8192 child 0 changed 8192$/m);
  } finally {
    session.close();
  }
});

const ISOLATION = C_PROTOTYPES + `
int secret = 1234;
int main(void) {
  int fd = open("/small.txt", 0);
  int sync[2];
  pipe(sync);
  int pid = fork();
  if (pid == 0) {
    secret = 5678;                        /* the child's copy only */
    int mine = open("/README", 0);        /* a descriptor the parent does not have */
    close(fd);                            /* the child's descriptor only */
    char c = (char)mine;
    write(sync[1], &c, 1);
    sleep(5);
    exitstatus(secret == 5678 ? 0 : 1);
  }
  char c = 0;
  read(sync[0], &c, 1);
  int childFd = c;
  char buf[4];
  puts("secret "); putint(secret);
  puts(" childfd-in-parent "); putint(read(childFd, buf, 1));
  puts(" own-fd "); putint(read(fd, buf, 4));
  int status = -1;
  waitstatus(&status);
  puts(" child "); putint(status); puts("\\n");
  exitstatus(0);
}`;

test("isolation: a child cannot change its parent's memory or descriptors, nor lend it its own", async () => {
  const run = await runProgram(buildCProgram(ISOLATION), ['iso'], { trace: () => {} });
  assert.equal(run.status, 0, run.output);
  // fd 6 is the child's /README (0-2 console, 3 small.txt, 4 and 5 the pipe): -1 in the parent.
  assert.match(run.output, /^secret 1234 childfd-in-parent -1 own-fd 4 child 0$/m);
});
