// Several VMs on one machine, isolated (issue 11 item 6): VMs as processes of
// the xk kernel at once — the guest kernel next to misbehaving guests (a
// runaway loop, a triple fault, a guest that pokes physical memory beyond its
// own and the host's device ports). The misbehaving guests print only '~', so
// the well-behaved guest's output is what is left when those are removed: it
// must be the guest's output alone, and the host kernel must go on unharmed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSession } from '../src/kernel/boot/session.js';
import { kernelMonitor } from '../src/vmm/kernelProcess.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';
import { buildGuest, buildTinyGuest } from './guestBuild.js';
import { buildCProgram, C_PROTOTYPES, runProgram } from './kernelHelpers.js';

const MiB = 1024 * 1024;

const TILDE = `mov $0x3f8, %dx\n mov $'~', %al\n out %al, (%dx)\n`;
/** A runaway guest: one '~', then a loop that never ends (and never traps). */
const LOOP = `.globl _start\n_start: ${TILDE}\n1: inc %rax\n jmp 1b\n`;
/** IDT limit 0: #UD cannot be delivered, nor the #GP, nor the #DF: triple fault. */
const TRIPLE = `.globl _start\n_start: ${TILDE}\n lidt idtr(%rip)\n ud2\nidtr: .word 0\n .quad 0\n`;
/**
 * Escape attempts: stores to guest-physical addresses from the end of its 4 MiB
 * to 64 MiB (where the host kernel and the other VMs live), port writes to the
 * real PIC's mask, the disk controller, the real timer; then a shutdown with status 5.
 */
const POKE = `.globl _start
_start: ${TILDE}
        mov $0x400000, %rbx
        movabs $0x4141414141414141, %rax
1:      mov %rax, (%rbx)
        add $0x1000, %rbx
        cmp $0x4000000, %rbx
        jb 1b
        mov $0xff, %al
        out %al, $0x21
        out %al, $0xa1
        mov $0x1f7, %dx
        mov $0x30, %al
        out %al, (%dx)
        mov $1, %al
        out %al, $0x40
        out %al, $0x43
        ${TILDE}
        mov $5, %al
        out %al, $0xf4
        hlt
`;

const INIT = C_PROTOTYPES + `
int vmrun(const char *path); int sysinfo(int *info);
int main(void) {
  int info[5]; sysinfo(info); int freeBefore = info[2];
  int loop = vmrun("loop.elf");
  int good = vmrun("guest.elf");
  int triple = vmrun("triple.elf");
  int poke = vmrun("poke.elf");
  if (loop < 0 || good < 0 || triple < 0 || poke < 0) { puts("vmrun failed\\n"); return 1; }
  int sg = -99, st = -99, sp = -99;
  for (int i = 0; i < 3; i++) {
    int s; int w = waitstatus(&s);
    if (w == good) sg = s; else if (w == triple) st = s; else if (w == poke) sp = s;
    else { puts("unexpected child\\n"); return 1; }
  }
  kill(loop);
  int sl; int wl = waitstatus(&sl);
  int q = fork();
  if (q == 0) { long s = 0; for (int i = 0; i < 20000; i++) s += i; exitstatus(s == 199990000L ? 42 : 1); }
  int c; waitstatus(&c);
  puts("good "); putint(sg); puts(" triple "); putint(st == 0 ? 0 : 1); puts(" poke "); putint(sp);
  puts(wl == loop ? " loop killed" : " loop?"); puts(" child "); putint(c); puts("\\n");
  sysinfo(info); puts(info[2] == freeBefore ? "memory back\\n" : "memory leaked\\n");
  return 0;
}
`;

/** The guest's lines as a multiset, with the counts that depend on interleaving masked (as in vmmProcess.test.ts). */
const lines = (text: string): string[] => text.split('\n').map((l) => l.replace(/(?<=(ticks|calls|faults|switches) )\d+/g, 'N')).sort();

async function runSession(programs: Map<string, Uint8Array>, init: string): Promise<{ output: string; status: number | null | undefined }> {
  let output = '';
  const session = await startSession({
    program: { path: 'init', image: buildCProgram(init), argv: ['init'] },
    programs, memoryBytes: 64 * MiB, monitor: kernelMonitor,
    output: (x) => { output += Buffer.from(x).toString('latin1'); },
  });
  try {
    let ran = 0;
    while (!session.run(1_000_000)) {
      ran += 1_000_000;
      assert.ok(ran < 400_000_000, `still running; output so far: ${output}`);
    }
    return { output, status: session.kernel.exitStatus };
  } finally {
    session.close();
  }
}

test('four VMs at once under the xk kernel: a runaway loop, a triple fault and escape attempts change nothing in the guest kernel\'s output or the host', async () => {
  const guest = buildGuest().elf;
  const programs = new Map<string, Uint8Array>([
    ['guest.elf', guest], ['loop.elf', buildTinyGuest('loop', LOOP)], ['triple.elf', buildTinyGuest('triple', TRIPLE)], ['poke.elf', buildTinyGuest('poke', POKE)],
  ]);
  // The guest kernel alone under the xk kernel: the reference.
  const alone = await runSession(programs, C_PROTOTYPES + `int vmrun(const char *path);
int main(void) { int v = vmrun("guest.elf"); int s; waitstatus(&s); puts("alone "); putint(s); puts("\\n"); return v < 0; }`);
  assert.equal(alone.status, 0, alone.output);
  assert.ok(alone.output.endsWith('[guest] shutdown\nalone 0\n'), alone.output);
  const reference = alone.output.slice(0, -'alone 0\n'.length);
  assert.ok(!reference.includes('~'));

  const both = await runSession(programs, INIT);
  assert.equal(both.status, 0, both.output);
  const tail = 'good 0 triple 1 poke 5 loop killed child 42\nmemory back\n';
  assert.ok(both.output.endsWith(tail), both.output);
  const console = both.output.slice(0, -tail.length);
  // loop, triple and poke: one '~' each, poke a second one after its escape attempts.
  assert.equal([...console].filter((ch) => ch === '~').length, 4, console);
  // The host kernel's own report of the VM it ended (a whole string, possibly inside a guest line).
  const stopped = /pid \d+ \(triple\.elf\): vm stopped: [^\n]*\n/;
  assert.match(console, stopped);
  const goodOutput = console.replace(stopped, '').replace(/~/g, '');
  assert.deepEqual(lines(goodOutput), lines(reference));
  assert.match(goodOutput, /system calls 28, demand-paging faults 2, context switches/);
});

test('in xk\'s shell: vm a.elf & vm b.elf runs two VMs at once, each reporting its own end', async () => {
  const programs = new Map(buildUserPrograms());
  programs.set('guest.elf', buildGuest().elf);
  programs.set('triple.elf', buildTinyGuest('triple', TRIPLE));
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: 'vm triple.elf & vm guest.elf\necho done\n', inputEnds: true, trace: () => {}, memoryBytes: 64 * MiB,
  });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /\[guest\] shutdown\n/);
  assert.match(run.output, /vm: guest\.elf powered off with status 0\n/);
  assert.match(run.output, /done\n/);
});
