// Any guest address space (issue 11, item 3): a guest kernel linked in the
// higher half (guest/high: 0xffffffff80000000, PML4 slot 511, where the monitor
// keeps its own pages under `xk vm`) with a direct map in slot 256 (where the
// xk kernel lives when it is the host) boots with the same serial output on the
// bare machine, under `xk vm` and under the xk kernel's `vm` program.

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

const MiB = 1024 * 1024;
const HIGH = path.join(GUEST_DIR, 'high');
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-high-'));

/** Link an object with GNU ld and the guest's linker script (virtual 0xffffffff80100000, physical 0x100000). */
function linkHigh(object: string, name: string): Uint8Array {
  const elf = path.join(dir, name);
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-T', path.join(HIGH, 'high.ld'), object, '-o', elf], { stdio: 'pipe' });
  return new Uint8Array(fs.readFileSync(elf));
}

/** guest/high/high.S assembled by GNU as (through gcc -c), and by xk as. */
function buildHigh(): { gnu: Uint8Array; xk: Uint8Array; gnuPath: string } {
  const gnuObject = path.join(dir, 'high.o');
  execFileSync('gcc', ['-c', path.join(HIGH, 'high.S'), '-o', gnuObject], { stdio: 'pipe' });
  const file = path.join(HIGH, 'high.S');
  const { object } = assemble(fs.readFileSync(file, 'utf8'), { fileName: file, includeDirs: [HIGH], defines: {}, readFile: (p) => fs.readFileSync(p, 'utf8') });
  const xkObject = path.join(dir, 'high-xk.o');
  fs.writeFileSync(xkObject, object);
  return { gnu: linkHigh(gnuObject, 'high.elf'), xk: linkHigh(xkObject, 'high-xk.elf'), gnuPath: path.join(dir, 'high.elf') };
}

const images = buildHigh();
const decoder = new TextDecoder();

function bare(elf: Uint8Array) {
  let output = '';
  const r = bootImage(elf, 'high.elf', { memoryBytes: 4 * MiB, serialOut: (b) => { output += decoder.decode(b); } });
  return { r, output };
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
    assert.equal(v.exitKinds.get('monitor-relocated'), 1);
    assert.equal(v.host.relocations, 1);
    assert.equal(v.exitKinds.get('unshadowed-access'), undefined);
    // Its GDT, IDT and TSS moved to slot 510 (0xffffff0000000000).
    assert.equal(v.host.machine.cpu.idtrBase, -(2 ** 40) + 0x1000);
    assert.ok(v.exits < 500, `${v.exits} exits`);
  }
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'xk.js'), 'vm', images.gnuPath, '--memory', '4'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, b.output);
});

test('under the xk kernel (the vm program): the same output; its direct map shares slot 256 with the host kernel', async () => {
  const programs = new Map(buildUserPrograms());
  programs.set('high.elf', images.gnu);
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: 'vm high.elf\necho host alive\n', inputEnds: true, trace: () => {}, memoryBytes: 32 * MiB,
  });
  assert.equal(run.status, 0, run.output);
  const { output } = bare(images.gnu);
  assert.ok(run.output.includes(output), run.output);
  assert.match(run.output, /vm: high\.elf powered off with status 0\n/);
  assert.match(run.output, /host alive\n/);
});
