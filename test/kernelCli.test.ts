import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';

const XK = join(REPO_ROOT, 'bin', 'xk.js');
const PROGRAM = `
  .text
  .globl _start
_start:
  lea path(%rip), %rdi
  mov $0, %esi
  call open
  mov %eax, %edi
  lea buf(%rip), %rsi
  mov $100, %edx
  call read
  mov $1, %edi
  lea buf(%rip), %rsi
  mov %eax, %edx
  call write
  mov $5, %edi
  call exitstatus
  .data
path: .asciz "/small.txt"
  .bss
buf: .space 128
`;

function xk(args: string[], input = '') {
  const r = spawnSync('node', [XK, ...args], { input, encoding: 'utf8', timeout: 50_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('xk run PROGRAM.s assembles it with xk\'s toolchain, runs it, and exits with its status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xk-cli-'));
  try {
    writeFileSync(join(dir, 'cat.s'), PROGRAM);
    const r = xk(['run', join(dir, 'cat.s')]);
    assert.equal(r.stdout, 'aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\n');
    assert.equal(r.status, 5, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xk trace prints each system call\'s path and writes Chrome trace JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xk-cli-'));
  try {
    writeFileSync(join(dir, 'cat.s'), PROGRAM);
    const json = join(dir, 'trace.json');
    const r = xk(['trace', '--trace-json', json, join(dir, 'cat.s')]);
    assert.equal(r.status, 5, r.stderr);
    for (const step of ['open: movl $15,%eax', 'int $64 at', 'IDT[64] interrupt gate (DPL 3)', 'vector64:', 'alltraps:',
      'trap(tf = ', 'syscall(): rax = 15 -> sys_open', 'sys_open("/small.txt", 0)', 'sys_open returns 3', 'trapret:', 'iretq', 'back in user mode']) {
      assert.ok(r.stdout.includes(step), `trace shows ${step}`);
    }
    const events = JSON.parse(readFileSync(json, 'utf8')).traceEvents;
    assert.ok(events.some((e: { ph: string; name: string }) => e.ph === 'X' && e.name === 'read(3, 0x' + e.name.slice(10)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input gets a clear message, not a stack trace', () => {
  let r = xk(['run', '/nonexistent/prog']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /xk run: cannot read \/nonexistent\/prog: ENOENT/);
  r = xk(['run', '--bogus', 'x']);
  assert.match(r.stderr, /unknown option '--bogus'/);
  const dir = mkdtempSync(join(tmpdir(), 'xk-cli-'));
  try {
    writeFileSync(join(dir, 'notelf'), 'hello'.repeat(20));
    r = xk(['run', join(dir, 'notelf')]);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /not an ELF file/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    writeFileSync(join(dir, 'bad.s'), 'movq %rax\n');
    r = xk(['run', join(dir, 'bad.s')]);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
