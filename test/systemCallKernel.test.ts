// The kernel's `syscall` road end to end (src/kernel/trap/trapEntry.S:
// syscall_entry, the fast sysretq exit): a gcc-built program that enters the
// kernel both ways, and every user test run with the syscall stubs
// (XK_USYS=syscall links user/usys_syscall.S instead of user/usys.S).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gccVersion } from '../src/build/gcc.js';
import { REPO_ROOT } from './helpers/userBuild.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

const PROGRAM = `#include "user.h"
static long by_int(long n) {
  long r;
  __asm__ volatile("int $64" : "=a"(r) : "a"(n) : "memory");
  return r;
}
static long by_syscall3(long n, long a, long b, long c, long *rcx, long *r11) {
  long r, x, y;
  register long rdi __asm__("rdi") = a;
  register long rsi __asm__("rsi") = b;
  register long rdx __asm__("rdx") = c;
  __asm__ volatile("syscall\\n\\tmov %%rcx, %1\\n\\tmov %%r11, %2"
                   : "=a"(r), "=r"(x), "=r"(y) : "a"(n), "r"(rdi), "r"(rsi), "r"(rdx) : "rcx", "r11", "memory");
  *rcx = x; *r11 = y;
  return r;
}
int main(void) {
  long rcx, r11;
  long a = by_int(11);                                    /* SYS_getpid */
  long b = by_syscall3(11, 0, 0, 0, &rcx, &r11);
  printf("getpid: %s\\n", a == b && a > 0 ? "same both ways" : "DIFFERENT");
  printf("rcx is a user address: %s\\n", rcx > 0 && rcx < 0x800000000000L ? "yes" : "no");
  printf("r11 has IF and bit 1: %s\\n", (r11 & 0x202) == 0x202 ? "yes" : "no");
  long n = by_syscall3(16, 1, (long)"written by syscall\\n", 19, &rcx, &r11);  /* SYS_write */
  printf("write returned %d\\n", (int)n);
  return 0;
}
`;

test('a C program built by gcc and by xk cc enters the kernel by int $64 and by syscall: same answers', (t) => {
  if (gccVersion() === null) return t.skip('gcc is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-syscall-kernel-'));
  try {
    const file = path.join(dir, 'both.c');
    fs.writeFileSync(file, PROGRAM);
    // Built by gcc (the oracle) and by xk cc (its extended asm with local register variables).
    for (const cc of ['gcc', 'xk']) {
      const r = spawnSync(process.execPath, [XK, 'run', '--cc', cc, file], { encoding: 'latin1', timeout: 50_000 });
      assert.equal(r.stdout, 'getpid: same both ways\nrcx is a user address: yes\nr11 has IF and bit 1: yes\nwritten by syscall\nwrite returned 19\n', `--cc ${cc}: ${r.stderr}`);
      assert.equal(r.status, 0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the user programs and user tests pass with the syscall stubs (XK_USYS=syscall)', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, XK_USYS: 'syscall' };
  delete env.NODE_TEST_CONTEXT; // a top-level run of its own, with the usual report
  const r = spawnSync(process.execPath, ['--test', path.join(REPO_ROOT, 'dist', 'test', 'userProgramsXk.test.js')], {
    encoding: 'utf8', timeout: 300_000, env,
  });
  assert.match(r.stdout, /# fail 0/, r.stdout.slice(-3000));
  assert.equal(r.status, 0);
});

test('xk trace shows the syscall road beside int $64: no IDT gate, the stub builds the frame, sysretq back', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-syscall-trace-'));
  try {
    const file = path.join(dir, 'both.s');
    fs.writeFileSync(file, '  .text\n  .globl main\nmain:\n  movl $11, %eax\n  movq %rcx, %r10\n  syscall\n  movl $11, %eax\n  int $64\n  xor %eax, %eax\n  ret\n');
    const r = spawnSync(process.execPath, [XK, 'trace', file], { encoding: 'latin1', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    const episodes = r.stdout.split('\n\n').filter((e) => /getpid\(\) = /.test(e));
    assert.equal(episodes.length, 2, r.stdout);
    const [bySyscall, byInt] = episodes;
    assert.match(bySyscall, /user +syscall at 0x/);
    assert.match(bySyscall, /entry +syscall_entry:/);
    assert.match(bySyscall, /cpu +sysretq:/);
    assert.doesNotMatch(bySyscall, /IDT\[|iretq:/);
    assert.match(byInt, /user +int \$64 at 0x/);
    assert.match(byInt, /cpu +IDT\[64\] interrupt gate/);
    assert.match(byInt, /cpu +iretq:/);
    assert.doesNotMatch(byInt, /sysretq/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
