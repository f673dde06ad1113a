// The host CPU as the oracle for what can run in user mode: rdmsr, wrmsr,
// swapgs, sysretq and sysretl at CPL 3. A gcc-built program executes each one
// under Linux (which sets EFER.SCE) and reports the signal it got; xk runs the
// same instruction at CPL 3 with EFER.SCE set and must raise the exception
// Linux turns into that signal (#GP -> SIGSEGV, #UD -> SIGILL). syscall itself
// would enter the host kernel, so it is tested against the manual instead
// (test/systemCall.test.ts) and end to end through the kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { have } from './helpers/tools.js';
import { boot, setGate } from './systemHelpers.js';
import { EFER_LMA, EFER_LME, EFER_SCE } from '../src/machine/mmu.js';

const INSTRUCTIONS = ['rdmsr', 'wrmsr', 'swapgs', 'sysretq', 'sysretl'];
const VECTOR_SIGNAL: Record<number, number> = { 13: 11, 6: 4 };

const PROGRAM = `
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void caught(int sig) { _exit(100 + sig); }
int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = caught;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  switch (atoi(argv[1])) {
${INSTRUCTIONS.map((insn, i) => `  case ${i}: __asm__ volatile("xor %%ecx, %%ecx\\n\\t${insn}" ::: "rax", "rcx", "rdx", "r11", "memory"); break;`).join('\n')}
  }
  return 0;
}
`;

/** The vector xk raises for `insn` at CPL 3 (EFER.SCE set, as under Linux), or 0 if none. */
function xkVector(insn: string): number {
  const { m, at } = boot(`  xor %ecx, %ecx\n  ${insn}\n  hlt`, 'gp: movq $13, %rax\n  hlt\nud: movq $6, %rax\n  hlt');
  m.cpu.efer = EFER_LME | EFER_LMA | EFER_SCE;
  setGate(m, 13, at('gp'), 0);
  setGate(m, 6, at('ud'), 0);
  m.run(200);
  return m.cpu.cpl === 0 ? m.cpu.regs[0] : 0;
}

test('host CPU: rdmsr, wrmsr, swapgs, sysretq, sysretl at CPL 3 fault as on xk', (t) => {
  if (process.arch !== 'x64' || !have('gcc')) { t.skip('needs gcc on an x86-64 host'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-sysret-host-'));
  try {
    const c = path.join(dir, 'p.c'), exe = path.join(dir, 'p');
    fs.writeFileSync(c, PROGRAM);
    execFileSync('gcc', ['-O1', '-o', exe, c]);
    INSTRUCTIONS.forEach((insn, i) => {
      const r = spawnSync(exe, [String(i)]);
      const hostSignal = r.status !== null && r.status > 100 ? r.status - 100 : 0;
      const vector = xkVector(insn);
      assert.notEqual(hostSignal, 0, `${insn} did not fault on the host`);
      assert.equal(VECTOR_SIGNAL[vector], hostSignal, `${insn}: host signal ${hostSignal}, xk vector ${vector}`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
