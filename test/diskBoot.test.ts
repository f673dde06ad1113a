// `xk boot --disk-image FILE [--disk timed|instant]`: the bare machine with a disk.
// A tiny kernel (GNU as/ld) queues a DMA read of sector 1 and polls the status
// port until the completion is there (interrupts off), then prints the sector's
// first 8 bytes and the completion byte read at the tag port, and exits with the
// number of polls (at most 255) through the shutdown port. The timed disk takes
// machine time (many polls); the instant one completes at the next instruction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootImage } from '../src/cli/bootCommand.js';

const SOURCE = `
  .text
  .globl _start
_start:
  mov $0x1fc, %dx; mov $0, %al; out %al, %dx        # tag 0
  mov $0x1f2, %dx; mov $1, %al; out %al, %dx        # 1 sector
  mov $0x1f3, %dx; mov $SECTOR, %eax; out %eax, %dx # sector
  mov $0x1f8, %dx; mov $0x200000, %eax; out %eax, %dx # DMA address
  mov $0x1f7, %dx; mov $0x60, %al; out %al, %dx     # QUEUED DMA READ
  xor %ecx, %ecx
1: inc %ecx
  mov $0x1f7, %dx; in %dx, %al
  test $4, %al; jz 1b                               # until a completion waits
  mov $0x1fc, %dx; in %dx, %al; mov %al, %bl        # the completion: tag | 0x80 if it failed
  mov $0x200000, %rsi; mov $8, %r8d
2: mov (%rsi), %al; mov $0x3f8, %dx; out %al, %dx
  inc %rsi; dec %r8d; jnz 2b
  mov %bl, %al; add $'A', %al; mov $0x3f8, %dx; out %al, %dx
  cmp $255, %ecx; jbe 3f; mov $255, %ecx
3: mov %cl, %al; mov $0xf4, %dx; out %al, %dx       # shutdown with the poll count
  hlt
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-diskboot-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function kernel(sector: number): string {
  const s = path.join(dir, `k${sector}.s`);
  fs.writeFileSync(s, SOURCE.replace('$SECTOR', `$${sector}`));
  execFileSync('as', ['--64', s, '-o', `${s}.o`], { stdio: 'pipe' });
  const elf = `${s}.elf`;
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', `${s}.o`, '-o', elf], { stdio: 'pipe' });
  return elf;
}

/** 4 sectors; sector 1 starts with "xkdisk!!". */
const DISK = new Uint8Array(4 * 512);
DISK.set(Buffer.from('xkdisk!!', 'latin1'), 512);

function boot(elf: string, latency?: 'timed' | 'instant') {
  let output = '';
  const r = bootImage(new Uint8Array(fs.readFileSync(elf)), 'k.elf', { disk: DISK.slice(), diskLatency: latency, serialOut: (b) => { output += Buffer.from(b).toString('latin1'); } });
  return { ...r, output };
}

test('xk boot with a disk: a queued read takes machine time on the timed disk, none on the instant one', () => {
  const elf = kernel(1);
  const timed = boot(elf);
  assert.equal(timed.reason, 'stopped', timed.message);
  assert.equal(timed.output, 'xkdisk!!A', 'the sector, then completion tag 0 without the failure bit');
  assert.equal(timed.shutdownStatus, 255, 'hundreds of polls while the disk seeks and transfers');
  assert.equal(timed.machine.devices.disk!.completed, 1);
  const instant = boot(elf, 'instant');
  assert.equal(instant.output, 'xkdisk!!A');
  assert.ok(instant.shutdownStatus! <= 2, `${instant.shutdownStatus} polls`);
});

test('xk boot with a disk: a sector beyond the disk completes with the failure bit, not a host exception', () => {
  const r = boot(kernel(1000));
  assert.equal(r.reason, 'stopped', r.message);
  assert.equal(r.output.slice(8), String.fromCharCode(0x80 + 65), 'tag 0 | 0x80');
});

test('xk boot --disk-image / --disk on the command line, and their errors', () => {
  const elf = kernel(1);
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, DISK);
  const xk = (...args: string[]) => spawnSync(process.execPath, [path.join('bin', 'xk.js'), 'boot', ...args], { encoding: 'latin1' });
  const ok = xk(elf, '--disk-image', img, '--disk', 'instant');
  assert.equal(ok.stdout, 'xkdisk!!A', ok.stderr);
  assert.ok(ok.status! <= 2, `${ok.status}`);
  assert.equal(fs.readFileSync(img).equals(Buffer.from(DISK)), true, 'the image file is not changed');
  const alone = xk(elf, '--disk', 'timed');
  assert.equal(alone.status, 2);
  assert.match(alone.stderr, /--disk timed sets the latency of the machine's disk, and there is none: give one with --disk-image FILE/);
  const odd = path.join(dir, 'odd.img');
  fs.writeFileSync(odd, new Uint8Array(700));
  const bad = xk(elf, '--disk-image', odd);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /is 700 bytes: it must be a non-zero multiple of 512/);
  const value = xk(elf, '--disk-image', img, '--disk', 'fast');
  assert.equal(value.status, 2);
  assert.match(value.stderr, /--disk must be 'timed' or 'instant', not 'fast'/);
});
