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
import { runVm } from '../src/vmm/vmRunner.js';
import { readBootImage } from '../src/toolchain/bootImage.js';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';
import { GUEST_DIR, REPO_ROOT } from './guestBuild.js';
import { runProgram } from './kernelHelpers.js';
import { spawnVm, type KernelVmEnd } from '../src/vmm/kernelProcess.js';
import type { VirtualMachineMonitorFactory } from '../src/kernel/proc/virtualMachine.js';

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
 * The guest as a process of the xk kernel (`vm high.elf` in its shell): the bare
 * machine's output, clock and memory; the kernel's half moved `moves` times
 * (`probes`: as for assertUnderXkVm).
 */
async function assertUnderKernel(elf: Uint8Array, moves: number, probes: number | 'many' = 0): Promise<void> {
  const programs = new Map(buildUserPrograms());
  programs.set('high.elf', elf);
  const ends: KernelVmEnd[] = [];
  const monitor: VirtualMachineMonitorFactory = (memory) => ({
    spawn: (k, image, name, parent) => spawnVm(k, memory, image, name, { parent, onStop: (end) => ends.push(end) }),
  });
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: 'vm high.elf\necho host alive\n', inputEnds: true, trace: () => {}, memoryBytes: 32 * MiB, monitor,
  });
  assert.equal(run.status, 0, run.output);
  const b = bare(elf);
  assert.ok(run.output.includes(b.output), run.output);
  assert.match(run.output, /vm: high\.elf powered off with status 0\n/);
  assert.match(run.output, /host alive\n/);
  assert.equal(ends.length, 1);
  const [end] = ends;
  assert.equal(end.clock, b.r.instructions);
  assert.equal(sha(end.memory), sha(b.r.machine.memory.bytes.subarray(0, 4 * MiB)));
  assert.equal(end.exits.get('monitor-relocated') ?? 0, moves);
  assertProbes(end.exits, probes, b.output);
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
  await assertUnderKernel(images.gnu, 1);
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
  await assertUnderKernel(images256.gnu, 2, 1);
});

test('a guest that maps all 512 PML4 slots: the hosts cannot move their region; its accesses there run on its processor, with the same output', async () => {
  const { r, output } = bare(imagesEvery.gnu);
  assert.equal(r.shutdownStatus, 0, r.message);
  // Slot 509 is the guest's now: the user's load reaches a present supervisor page (error 5).
  assert.match(output, /high: page fault at 0xfffffe8000003000 error 0x0000000000000005 /);
  assertUnderXkVm(imagesEvery, 0, 511, 'many');
  await assertUnderKernel(imagesEvery.gnu, 0, 'many');
});
