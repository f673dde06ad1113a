// npm run bench, part: the cost of fork + exit + wait for a process with a 4 MiB
// heap (every page touched), with the eager fork that copies every page and with
// copy-on-write, measured side by side in this run (k.forkCopies selects the fork).
// The parent writes nothing between forks but its stack, so copy-on-write copies
// about one page per fork where the eager fork copies 1024 and more.

import { buildAsmProgram } from '../test/kernelHelpers.js';
import { startSession } from '../src/kernel/boot/session.js';

const FORKS = 50;
const HEAP_BYTES = 4 * 1024 * 1024;
const RUNS = 7;

const PROGRAM = `
  .text
  .globl _start
_start:
  andq $-16, %rsp
  mov $${HEAP_BYTES}, %edi
  call sbrk
  mov %rax, %rbx
  xor %ecx, %ecx
1: movb $1, (%rbx,%rcx)       # touch every heap page
  add $4096, %rcx
  cmp $${HEAP_BYTES}, %rcx
  jb 1b
  mov $${FORKS}, %r12d
2: call fork
  test %eax, %eax
  jz 3f
  call wait
  dec %r12d
  jnz 2b
  xor %edi, %edi
  call exitstatus
3: call exit                  # the child: exit at once
`;

/** Seconds for one run of the program with the given fork, and its emulated instruction count. */
async function runOnce(image: Uint8Array, mode: 'cow' | 'eager'): Promise<{ seconds: number; instructions: number }> {
  const session = await startSession({ program: { path: 'forks', image, argv: ['forks'] }, output: () => {} });
  try {
    session.kernel.forkCopies = mode;
    const t0 = process.hrtime.bigint();
    while (!session.run(10_000_000));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (session.kernel.exitStatus !== 0) throw new Error(`bench fork: the program exited with ${session.kernel.exitStatus}`);
    return { seconds, instructions: session.machine.cpu.instructionCount };
  } finally {
    session.close();
  }
}

export async function forkBench(): Promise<void> {
  const image = buildAsmProgram(PROGRAM);
  const best = { cow: Infinity, eager: Infinity };
  for (let run = 0; run < RUNS; run++) {
    for (const mode of ['eager', 'cow'] as const) best[mode] = Math.min(best[mode], (await runOnce(image, mode)).seconds);
  }
  const per = (s: number): string => `${(s / FORKS * 1000).toFixed(2)} ms`;
  console.log(`fork+exit+wait with a 4 MiB heap (${FORKS} forks): eager copy ${per(best.eager)}, copy-on-write ${per(best.cow)} per fork: copy-on-write is ${(best.eager / best.cow).toFixed(1)}x faster`);
}
