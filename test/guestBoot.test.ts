// The guest kernel boots on the bare xk machine (`xk boot`): its own GDT, IDT,
// TSS and page tables, four user processes at CPL 3, timer preemption,
// system calls, demand paging, processes killed by #GP and #PF, panics, and shutdown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildGuest, guestSymbols, REPO_ROOT } from './guestBuild.js';
import { bootImage, type BootOptions, type BootResult } from '../src/cli/bootCommand.js';

function boot(elf: Uint8Array, options: Omit<BootOptions, 'serialOut'> = {}): { result: BootResult; output: string } {
  let output = '';
  const decoder = new TextDecoder();
  const result = bootImage(elf, 'guest.elf', { ...options, serialOut: (bytes) => { output += decoder.decode(bytes); } });
  return { result, output };
}

/** Assemble and link a tiny test kernel (GNU as/ld) at 0x100000. */
function tinyImage(name: string, source: string): string {
  const dir = fs.mkdtempSync(path.join(buildGuest().dir, `${name}-`));
  fs.writeFileSync(path.join(dir, 'k.s'), source);
  execFileSync('as', ['--64', path.join(dir, 'k.s'), '-o', path.join(dir, 'k.o')], { stdio: 'pipe' });
  const elf = path.join(dir, `${name}.elf`);
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', path.join(dir, 'k.o'), '-o', elf], { stdio: 'pipe' });
  return elf;
}

test('the guest boots, runs four processes at CPL 3 and shuts down with status 0', () => {
  const { result, output } = boot(buildGuest().elf);
  assert.equal(result.reason, 'stopped', result.message);
  assert.equal(result.shutdownStatus, 0);
  const lines = output.split('\n');
  assert.equal(lines[0], '[guest] xk guest kernel booting at CPL 0');
  assert.match(output, /\[guest\] paging on, kernel cr3 0x[0-9a-f]+\n/);
  // Both processes print all their lines.
  for (let i = 0; i < 5; i++) {
    assert.ok(lines.includes(`A: line ${i} from pid 1`), `A line ${i}`);
    assert.ok(lines.includes(`B: line ${i} from pid 2`), `B line ${i}`);
  }
  // Demand paging: a read fault (error 4 = user) and a write fault (6 = user, write) at the same
  // virtual address, each served with a fresh zero page in that process's own address space.
  assert.ok(lines.includes('[guest] pid 1: page fault at 0x40100000 (error 0x4): mapped a zero page'));
  assert.ok(lines.includes('[guest] pid 2: page fault at 0x40100000 (error 0x6): mapped a zero page'));
  assert.ok(lines.includes('A: pid 1 starts; its heap word reads 0 (a fresh zero page)'));
  assert.ok(lines.includes('A: heap word is still 1 (pid 1): address spaces are separate'));
  assert.ok(lines.includes('B: heap word is still 2 (pid 2)'));
  // write() refuses a kernel pointer; hlt at CPL 3 is a #GP that kills the process.
  assert.ok(lines.includes('B: write from a kernel address returned -1'));
  assert.ok(lines.includes('B: write from an unmapped heap page returned -1'));
  assert.ok(lines.includes('C: executing hlt at CPL 3'));
  assert.ok(lines.some((l) => /^\[guest\] pid 3: exception 13 at rip 0x400[0-9a-f]{5}, killed$/.test(l)));
  // The kernel's pages are supervisor-only: a user read is a protection fault (error 5 = present | user).
  assert.ok(lines.includes('D: reading kernel memory at 0x100000'));
  assert.ok(lines.some((l) => /^\[guest\] pid 4: page fault at 0x100000 \(error 0x5\) at rip 0x400[0-9a-f]{5}, killed$/.test(l)));
  // The summary.
  assert.ok(lines.includes('[guest] pid 1: exit with status 0'));
  assert.ok(lines.includes('[guest] pid 2: exit with status 7'));
  assert.match(output, /\[guest\] all processes done: timer ticks [1-9]\d*, system calls 28, demand-paging faults 2, context switches \d+\n/);
  assert.ok(lines.includes('[guest] pid 1 exited with status 0'));
  assert.ok(lines.includes('[guest] pid 2 exited with status 7'));
  assert.ok(lines.includes('[guest] pid 3 was killed'));
  assert.ok(lines.includes('[guest] pid 4 was killed'));
  assert.equal(lines.at(-2), '[guest] shutdown');
  // The machine is back at CPL 0 in the guest kernel, with paging on.
  assert.equal(result.machine.cpu.cpl, 0);
  assert.ok((result.machine.cpu.cr0 & 0x80000000) !== 0);
});

test('the timer preempts process A, which never gives up the processor itself', () => {
  const { output } = boot(buildGuest().elf);
  const lines = output.split('\n');
  // A makes no system call between its lines; B's lines appear between them only because
  // the timer interrupted A and the scheduler ran B.
  for (const i of [0, 1]) {
    const a = lines.indexOf(`A: line ${i} from pid 1`);
    const next = lines.indexOf(`A: line ${i + 1} from pid 1`);
    assert.ok(lines.slice(a + 1, next).some((l) => l.startsWith('B: line')), `B ran between A's lines ${i} and ${i + 1}:\n${output}`);
  }
  const ticks = Number(output.match(/timer ticks (\d+)/)![1]);
  assert.ok(ticks >= 5, `ticks ${ticks}`);
});

test('a run is deterministic: same output and instruction count twice; the interleaving follows --timer', () => {
  const elf = buildGuest().elf;
  const first = boot(elf);
  const second = boot(elf);
  assert.equal(second.output, first.output);
  assert.equal(second.result.instructions, first.result.instructions);
  // A faster timer: more ticks, the same lines in a different interleaving.
  const fast = boot(elf, { timerInterval: 3000 });
  assert.equal(fast.result.shutdownStatus, 0);
  const ticks = (o: string) => Number(o.match(/timer ticks (\d+)/)![1]);
  assert.ok(ticks(fast.output) > ticks(first.output), 'more ticks with a shorter interval');
  const sorted = (o: string) => o.split('\n').filter((l) => /^[AB]: line/.test(l)).sort();
  assert.ok(sorted(first.output).length > 0, 'the guest printed its A:/B: lines');
  assert.deepEqual(sorted(fast.output), sorted(first.output));
});

test('the instruction limit stops a run', () => {
  const { result, output } = boot(buildGuest().elf, { maxInstructions: 5000 });
  assert.equal(result.reason, 'limit');
  assert.equal(result.instructions, 5000);
  assert.match(output, /^\[guest\] xk guest kernel booting/);
});

/** Run `xk boot ARGS` in a child process. (It loads bootCommand.js alone, not the whole CLI, so
 *  that this test does not depend on every other subcommand's module.) */
function xkBoot(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const command = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'bootCommand.js');
  const script = `import(${JSON.stringify(command)}).then(async (m) => { process.exitCode = await m.bootCommand(process.argv.slice(1)); })`;
  return spawnSync(process.execPath, ['-e', script, '--', ...args], { encoding: 'utf8' });
}

test('xk boot: serial output on stdout, the shutdown status as exit status, errors on stderr', () => {
  const ok = xkBoot([buildGuest().elfPath]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /\[guest\] shutdown\n$/);

  const status = tinyImage('status', `
    .globl _start
_start: mov $0x3f8, %dx
        mov $'h', %al
        out %al, (%dx)
        mov $'i', %al
        out %al, (%dx)
        mov $3, %al
        out %al, $0xf4
        hlt
`);
  const r3 = xkBoot([status]);
  assert.equal(r3.stdout, 'hi');
  assert.equal(r3.status, 3);

  const bad = xkBoot([path.join(buildGuest().dir, 'boot.o')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^xk boot: .*boot\.o: not an executable/);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');

  const usage = xkBoot(['--timer']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--timer needs an integer/);
  assert.match(xkBoot(['--memory', '99999', 'x.elf']).stderr, /--memory needs an integer from 1 to 1024/);
});

test('a kernel that halts with IF = 0 stops the machine; one without a usable IDT triple-faults', () => {
  const halt = tinyImage('halt', '.globl _start\n_start: cli\n hlt\n');
  const halted = boot(fs.readFileSync(halt));
  assert.equal(halted.result.reason, 'halted');
  assert.equal(halted.result.shutdownStatus, undefined);

  // IDT limit 0: #UD cannot be delivered (#GP), nor can that (#DF), nor that: triple fault.
  const triple = tinyImage('triple', `
    .globl _start
_start: lidt idtr(%rip)
        ud2
idtr:   .word 0
        .quad 0
`);
  const tripled = boot(fs.readFileSync(triple));
  assert.equal(tripled.result.reason, 'triple-fault');
});

test('a page fault inside the guest kernel is a panic: message with CR2, shutdown status 255', () => {
  // Once paging is on (when proc_init is reached), unmap the allocator's first page
  // (physical 0x200000, kernel_pt[512]): the first kalloc's zeroing store faults in the kernel.
  const build = buildGuest();
  const symbols = guestSymbols(build);
  const procInit = symbols.get('proc_init')!;
  const kernelPt = symbols.get('kernel_pt')!;
  const { result, output } = boot(build.elf, {
    beforeRun: (m) => m.cpu.hostCalls.set(procInit, (cpu) => {
      m.memory.write64(kernelPt + 512 * 8, 0, 0);
      cpu.hostCalls.delete(procInit); // then proc_init's first instruction runs as usual
    }),
  });
  assert.equal(result.shutdownStatus, 255);
  assert.match(output, /\[guest\] panic: exception 14 in the kernel at rip 0x10[0-9a-f]{4}, error code 0x2, cr2 0x200000\n$/);
});

test('the guest panics when it runs out of physical pages', () => {
  const build = buildGuest();
  const nextFree = guestSymbols(build).get('next_free')!;
  const { result, output } = boot(build.elf, { beforeRun: (m) => m.memory.write64(nextFree, 0x3ff000, 0) });
  assert.equal(result.shutdownStatus, 255);
  assert.match(output, /\[guest\] panic: out of physical pages\n$/);
});
