// A virtual machine as a process of the xk kernel (src/vmm/kernelProcess.ts): a user
// program asks for one with vmrun(path); the guest kernel boots under the host
// kernel's monitor next to ordinary processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootImage } from '../src/cli/bootCommand.js';
import { PhysicalMemory } from '../src/machine/memory.js';
import { PageAllocator } from '../src/kernel/mem/kalloc.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';
import { buildGuest, buildTinyGuest } from './guestBuild.js';
import { C_PROTOTYPES, runInitToEnd, runProgram } from './kernelHelpers.js';

const MiB = 1024 * 1024;

// The first process: boots the VM, lets a child compute meanwhile, reaps both,
// then runs one more ordinary child and tries vmrun on a file that is not a guest image.
const INIT = C_PROTOTYPES + `
int vmrun(const char *path); int sysinfo(int *info);
int main(void) {
  int info[5]; sysinfo(info); int freeBefore = info[2];
  int v = vmrun("guest.elf");
  if (v < 0) { puts("vmrun failed\\n"); return 1; }
  int pid = fork();
  if (pid == 0) { long s = 0; for (int i = 0; i < 20000; i++) { s += i; if (i % 5000 == 0) sleep(1); } exitstatus(s == 199990000L ? 42 : 1); }
  int a, b; int w1 = waitstatus(&a); int w2 = waitstatus(&b);
  if (w1 == pid) { int t = a; a = b; b = t; w1 = w2; }
  puts("vm "); putint(a); puts(" child "); putint(b); puts(w1 == v ? " (vm pid ok)\\n" : " (vm pid wrong)\\n");
  int q = fork();
  if (q == 0) exitstatus(7);
  int c; waitstatus(&c); puts("after "); putint(c); puts("\\n");
  puts("bad image "); putint(vmrun("notes.txt")); puts("\\n");
  sysinfo(info); puts(info[2] == freeBefore ? "memory back\\n" : "memory leaked\\n");
  return 0;
}
`;

test('vmrun: the guest kernel runs as an xk process, same serial output as on the bare machine, host processes unharmed', async () => {
  const elf = buildGuest().elf;
  let bare = '';
  const b = bootImage(elf, 'image', { memoryBytes: 4 * MiB, maxInstructions: 50_000_000, serialOut: (x) => { bare += Buffer.from(x).toString('latin1'); } });
  assert.equal(b.shutdownStatus, 0);

  const programs = new Map([['guest.elf', elf], ['notes.txt', new TextEncoder().encode('not a boot image\n')]]);
  await runInitToEnd(INIT, programs, 300_000_000, (output) => {
    const tail = 'vm 0 child 42 (vm pid ok)\nafter 7\n';
    const at = output.indexOf(tail);
    assert.ok(at > 0, output);
    assert.match(output.slice(at + tail.length), /^bad image -1\nmemory back\n$/);
    // The guest's virtual timer fires at its deadline's instruction (src/vmm/guestTimer.ts), as
    // on the bare machine: the guest kernel prints exactly the same lines, in the same order,
    // tick and context-switch counts included, although host processes run beside it.
    const guest = output.slice(0, at);
    assert.equal(guest, bare);
    assert.match(guest, /system calls 28, demand-paging faults 2, context switches/);
  });
});

test('the vm user program boots a guest image from the shell and reports its status', async () => {
  const programs = new Map(buildUserPrograms());
  programs.set('guest.elf', buildGuest().elf);
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: 'vm guest.elf\nvm README\necho done\n', inputEnds: true, trace: () => {}, memoryBytes: 32 * MiB,
  });
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /\[guest\] shutdown\nvm: guest\.elf powered off with status 0\n/);
  assert.match(run.output, /vm: cannot boot README/);
  assert.match(run.output, /done\n/);
});

test('allocContiguous finds a run of free pages and takes exactly those', () => {
  const mem = new PhysicalMemory(64 * 4096);
  const a = new PageAllocator(mem, 0, 64 * 4096);
  const pages = Array.from({ length: 10 }, () => a.alloc());
  a.release(pages[3]); a.release(pages[5]); a.release(pages[6]); // holes: 3, 5-6
  const start = a.allocContiguous(3);
  assert.equal(start, 10 * 4096); // the first run of three is after the allocated pages
  assert.equal(a.allocContiguous(2), pages[5]);
  assert.equal(a.freePages, 64 - 10 + 3 - 3 - 2);
  assert.equal(a.allocContiguous(60), -1);
});

test('a run given back with releaseRun stays whole: single pages come from elsewhere first', () => {
  const mem = new PhysicalMemory(64 * 4096);
  const a = new PageAllocator(mem, 0, 64 * 4096);
  const run = a.allocContiguous(16);
  const single = a.alloc();
  a.release(single);
  a.releaseRun(run, 16);
  // The single page freed last is handed out again, then the pages past the run, not the run's.
  const next = Array.from({ length: 48 }, () => a.alloc());
  assert.ok(next.every((p) => p < run || p >= run + 16 * 4096), next.map((p) => p.toString(16)).join(' '));
  for (const p of next) a.release(p);
  assert.equal(a.allocContiguous(16), run);
  assert.throws(() => a.releaseRun(run + 16 * 4096, 1), /not allocated/);
});

// Each VM takes 4 MiB of guest memory and 2 MiB of shadow tables, one contiguous run. Its pages
// used to go back on top of the free list, so the next `vm` process's pages were taken from the
// middle of the freed run; after a few dozen VMs in one session (58 in 64 MiB) no 6 MiB run was left.
test('one shell session boots a VM many more times than its memory holds VMs', async () => {
  const programs = new Map(buildUserPrograms());
  programs.set('off.elf', buildTinyGuest('off', '.globl _start\n_start: mov $0x3f8, %dx\n mov $0x2e, %al\n out %al, (%dx)\n mov $3, %al\n out %al, $0xf4\n hlt\n'));
  const VMS = 40;
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: 'vm off.elf\n'.repeat(VMS) + 'echo host alive\n', inputEnds: true, trace: () => {}, memoryBytes: 32 * MiB,
  });
  assert.equal(run.status, 0, run.output);
  assert.doesNotMatch(run.output, /cannot boot/);
  assert.equal(run.output.match(/\.vm: off\.elf powered off with status 3\n/g)?.length, VMS, run.output);
  assert.match(run.output, /host alive\n/);
});
