// Any guest address space (issue 11, item 3): a guest kernel linked in the
// higher half (guest/high: 0xffffffff80000000, PML4 slot 511, where the monitor
// keeps its own pages under `xk vm`) with a direct map in slot 256 (where the
// xk kernel lives when it is the host) boots with the same serial output on the
// bare machine, under `xk vm` and under the xk kernel's `vm` program; so does
// its build linked in slot 256 (0xffff800000000000), which also maps slot 510
// later, so that both hosts move their region twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootImage } from '../src/cli/bootCommand.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { readBootImage } from '../src/toolchain/bootImage.js';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';
import { GUEST_DIR, REPO_ROOT } from './guestBuild.js';
import { buildCProgram, C_PROTOTYPES, runProgram } from './kernelHelpers.js';
import { spawnVm, type KernelVmEnd, type SpawnVmOptions } from '../src/vmm/kernelProcess.js';
import { vmStateCodec } from '../src/vmm/vmStateCodec.js';
import { loadVmState, savePortableState } from '../src/vmm/vmState.js';
import type { VirtualMachineMonitorFactory } from '../src/kernel/proc/virtualMachine.js';
import type { Kernel } from '../src/kernel/kernel.js';
import type { Mmu } from '../src/machine/mmu.js';

const MiB = 1024 * 1024;
const HIGH = path.join(GUEST_DIR, 'high');
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-high-'));

/** Link an object with GNU ld and the guest's linker script (virtual KERNEL_BASE + 0x100000, physical 0x100000). */
function linkHigh(object: string, name: string, kernelBase?: string): Uint8Array {
  const elf = path.join(dir, name);
  const base = kernelBase === undefined ? [] : ['--defsym', `KERNEL_BASE=${kernelBase}`];
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', ...base, '-T', path.join(HIGH, 'high.ld'), object, '-o', elf], { stdio: 'pipe' });
  return new Uint8Array(fs.readFileSync(elf));
}

/**
 * guest/high/high.S assembled by GNU as (through gcc -c), and by xk as. `build`:
 * the default, its build linked in slot 256, or that build with every PML4 slot mapped.
 */
function buildHigh(build: 'high' | 'high256' | 'every' = 'high'): { gnu: Uint8Array; xk: Uint8Array; gnuPath: string } {
  const name = build;
  const defines: Record<string, string> = build === 'high' ? {} : build === 'high256' ? { SLOT_256: '1' } : { SLOT_256: '1', EVERY_SLOT: '1' };
  const kernelBase = build === 'high' ? undefined : '0xffff800000000000';
  const gnuObject = path.join(dir, `${name}.o`);
  execFileSync('gcc', ['-c', ...Object.keys(defines).map((d) => `-D${d}`), path.join(HIGH, 'high.S'), '-o', gnuObject], { stdio: 'pipe' });
  const file = path.join(HIGH, 'high.S');
  const { object } = assemble(fs.readFileSync(file, 'utf8'), { fileName: file, includeDirs: [HIGH], defines, readFile: (p) => fs.readFileSync(p, 'utf8') });
  const xkObject = path.join(dir, `${name}-xk.o`);
  fs.writeFileSync(xkObject, object);
  return { gnu: linkHigh(gnuObject, `${name}.elf`, kernelBase), xk: linkHigh(xkObject, `${name}-xk.elf`, kernelBase), gnuPath: path.join(dir, `${name}.elf`) };
}

const images = buildHigh();
const images256 = buildHigh('high256');
const imagesEvery = buildHigh('every');
const decoder = new TextDecoder();

function bare(elf: Uint8Array) {
  let output = '';
  const r = bootImage(elf, 'high.elf', { memoryBytes: 4 * MiB, serialOut: (b) => { output += decoder.decode(b); } });
  return { r, output };
}

/**
 * The guest under xk vm, patched and strict: the bare machine's output, clock and
 * memory; the monitor moved `moves` times, to slot `lastSlot`; `probes` guest
 * accesses to the monitor's slot (not mapped by the guest) ran on the guest's processor.
 */
function assertUnderXkVm(images: { gnu: Uint8Array; gnuPath: string }, moves: number, lastSlot: number, probes: number | 'many' = 0): void {
  const b = bare(images.gnu);
  for (const strict of [false, true]) {
    let output = '';
    const v = runVm(images.gnu, 'high.elf', { memoryMiB: 4, strict, serialOut: (x) => { output += decoder.decode(x); } });
    assert.equal(v.reason, 'shutdown', v.message);
    assert.equal(v.status, 0);
    assert.equal(output, b.output);
    assert.equal(v.guestInstructions, b.r.instructions);
    const memory = v.host.machine.memory.bytes.slice(0, 4 * MiB);
    for (const [at, original] of v.host.vm.patches) memory[at] = original[0];
    assert.equal(sha(memory), sha(b.r.machine.memory.bytes.subarray(0, 4 * MiB)));
    assert.equal(v.exitKinds.get('monitor-relocated') ?? 0, moves);
    assert.equal(v.host.relocations, moves);
    assertProbes(v.exitKinds, probes, b.output);
    // Its GDT, IDT and TSS moved to that slot.
    assert.equal(v.host.machine.cpu.idtrBase, (lastSlot - 512) * 2 ** 39 + 0x1000);
  }
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'xk.js'), 'vm', images.gnuPath, '--memory', '4'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, b.output);
}

/**
 * A guest image for assertUnderKernel: the kernel's half moves `moves` times, to
 * the PML4 slots `windows`; `probes`: as for assertUnderXkVm.
 */
interface KernelGuest { name: string; elf: Uint8Array; moves: number; windows?: number[]; probes?: number | 'many' }

/** What runUnderKernel saw: the console, each VM's serial output and end, and the processor's CPL-0 accesses by PML4 slot. */
interface KernelRun {
  status: number | null;
  output: string;
  serial: Map<string, string>;
  ends: Map<string, KernelVmEnd>;
  /** How often the serial output passed from one VM to another. */
  turns: number;
  /**
   * The processor's own accesses at CPL 0 (delivery, the entry stub, slowret)
   * while a VM whose kernel window moved is current, by PML4 slot.
   */
  kernelAccesses: Map<number, number>;
}

/**
 * Boot the xk kernel with `files` (guest images or states) and run `command`
 * in its shell, or, given a list of file names, a C program that vmruns them
 * all at once (first reading each into the buffer cache, so that no vmrun waits
 * for the disk and the VMs really run side by side).
 */
async function runUnderKernel(files: Map<string, Uint8Array>, command: string | string[], timerInterval?: number, spawnOptions: Partial<SpawnVmOptions> = {}): Promise<KernelRun> {
  const programs = new Map(buildUserPrograms());
  for (const [name, bytes] of files) programs.set(name, bytes);
  const result: KernelRun = { status: null, output: '', serial: new Map(), ends: new Map(), turns: 0, kernelAccesses: new Map() };
  let writer = '', watched = false;
  const watchKernelAccesses = (k: Kernel): void => {
    const mmu = k.hw.mmu as unknown as Mmu;
    const translate = mmu.translate.bind(mmu);
    mmu.translate = (linear, access, cpl) => {
      if (cpl === 0 && k.kernelOffset !== 0) {
        const slot = Math.floor((linear < 0 ? linear + 2 ** 48 : linear) / 2 ** 39);
        result.kernelAccesses.set(slot, (result.kernelAccesses.get(slot) ?? 0) + 1);
      }
      return translate(linear, access, cpl);
    };
  };
  const monitor: VirtualMachineMonitorFactory = (memory) => ({
    spawn: (k, image, name, parent) => {
      if (!watched) { watchKernelAccesses(k); watched = true; }
      result.serial.set(name, '');
      return spawnVm(k, memory, image, name, {
        ...spawnOptions, parent, onStop: (end) => result.ends.set(name, end),
        serialOut: (b) => {
          if (writer !== name) { result.turns++; writer = name; }
          result.serial.set(name, result.serial.get(name) + decoder.decode(b));
        },
      });
    },
  });
  const options = { programs, trace: () => {}, memoryBytes: 32 * MiB, monitor, timerInterval };
  const run = typeof command === 'string'
    ? await runProgram(programs.get('sh')!, ['sh'], { ...options, input: `${command}\necho host alive\n`, inputEnds: true })
    : await runProgram(buildCProgram(C_PROTOTYPES + `int vmrun(const char *path);
static char block[4096];
static void warm(const char *path) { int fd = open(path, 0); while (read(fd, block, sizeof block) > 0) {} close(fd); }
int main(void) {
  ${command.map((name) => `warm("${name}");`).join(' ')}
  ${command.map((name) => `if (vmrun("${name}") < 0) return 1;`).join(' ')}
  for (int i = 0; i < ${command.length}; i++) { int s; waitstatus(&s); if (s != 0) return 2; }
  puts("host alive\\n");
  return 0;
}`), ['init'], options);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /host alive\n/);
  return { ...result, status: run.status, output: run.output };
}

/**
 * The guests as processes of the xk kernel, started by `command` in its shell
 * (`vm a.elf`), or all at once (command null; runUnderKernel): each gives the
 * bare machine's serial output, clock and memory, the host runs on, and while
 * a VM whose window moved is current the processor at CPL 0 touches only the
 * window's slots, never slot 256 (the guest's now). Returns runUnderKernel's turns.
 */
async function assertUnderKernel(guests: KernelGuest[], command: string | null, timerInterval?: number): Promise<number> {
  const files = new Map(guests.map((g) => [g.name, g.elf]));
  const run = await runUnderKernel(files, command ?? guests.map((g) => g.name), timerInterval);
  for (const g of guests) {
    const b = bare(g.elf);
    assert.equal(run.serial.get(g.name), b.output);
    if (command !== null) assert.ok(run.output.includes(`vm: ${g.name} powered off with status 0\n`), run.output);
    const end = run.ends.get(g.name)!;
    assert.equal(end.clock, b.r.instructions);
    assert.equal(sha(end.memory), sha(b.r.machine.memory.bytes.subarray(0, 4 * MiB)));
    assert.equal(end.exits.get('monitor-relocated') ?? 0, g.moves);
    assertProbes(end.exits, g.probes ?? 0, b.output);
  }
  assert.equal(run.kernelAccesses.get(256), undefined);
  const windows = new Set(guests.flatMap((g) => g.windows ?? []));
  assert.deepEqual([...run.kernelAccesses.keys()].sort(), [...windows].sort());
  return run.turns;
}

/**
 * The guest's accesses to the host's slot that ran on its processor: `probes`
 * ones, and else about one exit per serial byte (its `out`s); or, when the host
 * could not move ('many'), dozens more.
 */
function assertProbes(exitKinds: Map<string, number>, probes: number | 'many', output: string): void {
  const unshadowed = exitKinds.get('unshadowed-access') ?? 0;
  const exits = [...exitKinds.values()].reduce((a, n) => a + n, 0);
  if (probes === 'many') {
    assert.ok(unshadowed > 50, `${unshadowed} accesses to the host's slot`);
  } else {
    assert.equal(unshadowed, probes);
    assert.ok(exits < output.length + 100, `${exits} exits for ${output.length} serial bytes`);
  }
}

test('the higher-half guest: linked at 0xffffffff80100000, loaded at 0x100000; GNU as and xk as give the same image', () => {
  const a = readBootImage(images.gnu, 'high.elf'), b = readBootImage(images.xk, 'high-xk.elf');
  assert.equal(a.entry, 0x100000);
  assert.deepEqual(a.segments.map((s) => [s.paddr, s.vaddr, s.memsz]), [[0x100000, -(2 ** 31) + 0x100000, a.segments[0].memsz], [0x101000, -(2 ** 31) + 0x101000, a.segments[1].memsz]]);
  assert.deepEqual(b.segments.map((s) => [s.paddr, s.vaddr, s.memsz, sha(s.data)]), a.segments.map((s) => [s.paddr, s.vaddr, s.memsz, sha(s.data)]));
});

test('the higher-half guest on the bare machine', () => {
  const { r, output } = bare(images.gnu);
  assert.equal(r.shutdownStatus, 0, r.message);
  assert.equal(output, [
    'high: running at 0xffffffff801000c0',
    'high: written through the direct map at 0xffff800000000000, read at 0xffffffff80000000',
    'high: system call from CPL 3: user: hello from CPL 3',
    'high: frame rip 0x00000000005003e7 on the kernel stack at 0xffffffff8010e0d8',
    'high: page fault at 0x0000000000001000 error 0x0000000000000004 rip 0x00000000005003e7',
    'high: shutdown', ''].join('\n'));
});

test('under xk vm: the same output, clock and memory; the monitor moves out of slot 511 instead of trapping every access', () => {
  assertUnderXkVm(images, 1, 510);
});

test('under the xk kernel (the vm program): the same output, clock and memory; the kernel\'s half moves out of slot 256 for the direct map', async () => {
  await assertUnderKernel([{ name: 'high.elf', elf: images.gnu, moves: 1, windows: [510] }], 'vm high.elf');
});

test('the slot-256 build: linked at 0xffff800000100000, loaded at 0x100000; GNU as and xk as give the same image', () => {
  const a = readBootImage(images256.gnu, 'high256.elf'), b = readBootImage(images256.xk, 'high256-xk.elf');
  assert.equal(a.entry, 0x100000);
  assert.deepEqual(a.segments.map((s) => [s.paddr, s.vaddr]), [[0x100000, -(2 ** 47) + 0x100000], [0x101000, -(2 ** 47) + 0x101000]]);
  assert.deepEqual(b.segments.map((s) => [s.paddr, s.vaddr, s.memsz, sha(s.data)]), a.segments.map((s) => [s.paddr, s.vaddr, s.memsz, sha(s.data)]));
});

test('the slot-256 build on the bare machine', () => {
  const { r, output } = bare(images256.gnu);
  assert.equal(r.shutdownStatus, 0, r.message);
  const lines = output.split('\n');
  assert.equal(lines[0], 'high: running at 0xffff8000001000c0');
  assert.deepEqual(lines.slice(1, 3), [
    'high: written through 0xffffffff80000000, read at the kernel\'s 0xffff800000000000',
    'high: through slot 510: high: written through 0xffffffff80000000, read at the kernel\'s 0xffff800000000000',
  ]);
  assert.match(lines[4], /^high: frame rip 0x0000000000500[0-9a-f]{3} on the kernel stack at 0xffff80000010[0-9a-f]{4}$/);
  // The user program's load from slot 509: not present, user mode (error 4).
  assert.match(lines[5], /^high: page fault at 0xfffffe8000003000 error 0x0000000000000004 rip 0x0000000000500[0-9a-f]{3}$/);
  assert.equal(lines.at(-2), 'high: shutdown');
});

test('the slot-256 build under xk vm: the same output, clock and memory; the monitor moves to slot 510, then to 509, where the guest sees nothing', () => {
  assertUnderXkVm(images256, 2, 509, 1);
});

test('the slot-256 build under the xk kernel: the same output, clock and memory; the kernel\'s half moves to slot 510, then to 509, where the guest sees nothing', async () => {
  await assertUnderKernel([{ name: 'high256.elf', elf: images256.gnu, moves: 2, windows: [510, 509], probes: 1 }], 'vm high256.elf');
});

test('both builds as two VMs at once under the xk kernel, each with its own window (slots 510 and 509)', async () => {
  // A short clock period: the scheduler switches between the two VMs (and the shell) many times.
  const turns = await assertUnderKernel([
    { name: 'high.elf', elf: images.gnu, moves: 1, windows: [510] },
    { name: 'high256.elf', elf: images256.gnu, moves: 2, windows: [510, 509], probes: 1 },
  ], null, 300);
  assert.ok(turns > 10, `the VMs' output changed hands ${turns} times`);
});

test('a guest that maps all 512 PML4 slots: the hosts cannot move their region; its accesses there run on its processor, with the same output', async () => {
  const { r, output } = bare(imagesEvery.gnu);
  assert.equal(r.shutdownStatus, 0, r.message);
  // Slot 509 is the guest's now: the user's load reaches a present supervisor page (error 5).
  assert.match(output, /high: page fault at 0xfffffe8000003000 error 0x0000000000000005 /);
  assertUnderXkVm(imagesEvery, 0, 511, 'many');
  await assertUnderKernel([{ name: 'every.elf', elf: imagesEvery.gnu, moves: 0, probes: 'many' }], 'vm every.elf');
});

test('the slot-256 build saved and resumed across hosts: a state holds no window; each host moves its region again where the VM resumes', async () => {
  const b = bare(images256.gnu);
  const full = b.output;
  const memory = sha(b.r.machine.memory.bytes.subarray(0, 4 * MiB));
  // At 1000 both hosts have moved once (the kernel at the guest's jump into slot 256, xk vm at its
  // first store through slot 511), not yet twice (its use of slot 510, at 2262).
  for (const n of [1000]) {
    // Saved under the kernel ...
    let state: Uint8Array | undefined;
    const saved = await runUnderKernel(new Map([['high256.elf', images256.gnu]]), 'vm high256.elf', undefined, {
      states: vmStateCodec, saveAt: { instructions: n, write: (bytes) => { state = bytes; } },
    });
    assert.ok(state, saved.output);
    assert.match(saved.output, new RegExp(`vm saved after ${n} guest instructions`));
    const before = saved.serial.get('high256.elf')!;
    // ... resumed by xk vm,
    let after = '';
    const host = loadVmState(state, (bytes) => { after += decoder.decode(bytes); });
    const r = host.run(1_000_000);
    assert.equal(r.reason, 'shutdown', r.message);
    assert.equal(before + after, full, `kernel -> xk vm, N = ${n}`);
    assert.equal(sha(host.machine.memory.bytes.subarray(0, 4 * MiB)), memory);
    // ... and by the kernel again.
    const again = await runUnderKernel(new Map([['vm.state', state]]), 'vm vm.state', undefined, { states: vmStateCodec });
    assert.equal(before + again.serial.get('vm.state'), full, `kernel -> kernel, N = ${n}`);
    assert.equal(sha(again.ends.get('vm.state')!.memory), memory);
    assert.equal(again.kernelAccesses.get(256), undefined);
    // Saved by xk vm, resumed under the kernel.
    let early = '';
    const vm = prepareVm(images256.gnu, 'high256.elf', { memoryMiB: 4, serialOut: (bytes) => { early += decoder.decode(bytes); } });
    assert.equal(vm.run(n).reason, 'limit');
    const moved = await runUnderKernel(new Map([['vm.state', savePortableState(vm.portableParts())]]), 'vm vm.state', undefined, { states: vmStateCodec });
    assert.equal(early + moved.serial.get('vm.state'), full, `xk vm -> kernel, N = ${n}`);
    assert.equal(sha(moved.ends.get('vm.state')!.memory), memory);
  }
});
