import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAsmProgram, runProgram } from './kernelHelpers.js';

test('a program opens /small.txt, copies it to the console, and exits with status 7', async () => {
  const image = buildAsmProgram(`
  .text
  .globl _start
_start:
  lea path(%rip), %rdi
  mov $0, %esi
  call open
  mov %eax, %r12d
  mov %eax, %edi
  lea buf(%rip), %rsi
  mov $100, %edx
  call read
  mov $1, %edi
  lea buf(%rip), %rsi
  mov %eax, %edx
  call write
  mov $7, %edi
  call exitstatus
  .data
path: .asciz "/small.txt"
  .bss
buf: .space 128
`);
  const run = await runProgram(image);
  assert.equal(run.message.includes('exited'), true, run.message);
  assert.equal(run.output, 'aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\n');
  assert.equal(run.status, 7);
});
