// The program loader: what exec accepts and what it refuses. Valid programs come
// from our linker and from GNU ld; invalid ones are made by patching single
// fields, truncating, and a seeded fuzz test of random mutations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoaderError, loadExecutable } from '../src/toolchain/loader.js';
import type { LoadedProgram, LoaderLimits } from '../src/toolchain/loader.js';
import { EHDR, EHDR_SIZE, PHDR, PHDR_SIZE } from '../src/toolchain/elf/elfTypes.js';
import { link } from '../src/toolchain/linker/link.js';
import { buildObjects, gnuLink, tempDir, tool } from './fixtures/linker/build.js';
import { seededRandom } from './helpers/random.js';

const dir = tempDir();
const objects = buildObjects(dir, ['start.s', 'main.c', 'util.c']);
const ours = link(objects.map(({ name, bytes }) => ({ name, bytes })));
const gnuPath = path.join(dir, 'p1.gnu');
const gnu = gnuLink(objects, gnuPath);
const limits: LoaderLimits = { userBase: 0x1000, userLimit: 0x80000000, maxSegmentBytes: 64 << 20 };

function loaderError(bytes: Uint8Array, l: LoaderLimits = limits): string {
  try {
    loadExecutable(bytes, l);
  } catch (e) {
    assert.ok(e instanceof LoaderError, `expected LoaderError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e.message;
  }
  assert.fail('loadExecutable accepted a bad program');
}

function patched(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

/** File offset of program header i. */
const ph = (i: number): number => EHDR_SIZE + i * PHDR_SIZE;

function checkInvariants(p: LoadedProgram, bytes: Uint8Array, l: LoaderLimits): void {
  const sorted = [...p.segments].sort((a, b) => a.vaddr - b.vaddr);
  sorted.forEach((s, i) => {
    assert.ok(s.vaddr >= l.userBase && s.vaddr + s.memsz <= l.userLimit);
    assert.ok(s.filesz <= s.memsz && s.memsz <= l.maxSegmentBytes);
    assert.ok(s.fileOffset + s.filesz <= bytes.length);
    assert.equal(s.data.length, s.filesz);
    if (i > 0) assert.ok(sorted[i - 1]!.vaddr + sorted[i - 1]!.memsz <= s.vaddr);
  });
  assert.ok(p.segments.some((s) => s.executable && p.entry >= s.vaddr && p.entry < s.vaddr + s.memsz));
}

test('loads our executable and GNU ld\'s, with the segments readelf shows', () => {
  for (const [bytes, file] of [[ours, null], [gnu, gnuPath]] as const) {
    const p = loadExecutable(bytes, limits);
    checkInvariants(p, bytes, limits);
    if (file === null) {
      assert.equal(p.entry, 0x401000);
      assert.deepEqual(p.segments.map((s) => [s.vaddr, s.readable, s.writable, s.executable]), [
        [0x400000, true, false, false], [0x401000, true, false, true], [0x402000, true, false, false], [0x403000, true, true, false],
      ]);
      continue;
    }
    const loads = [...tool('readelf', ['-lW', file]).stdout.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE][RWE ]*?)\s+0x/gm)];
    assert.ok(loads.length >= 2, `readelf showed ${loads.length} LOAD segments`);
    assert.deepEqual(p.segments.map((s) => [s.fileOffset, s.vaddr, s.filesz, s.memsz, s.writable, s.executable]),
      loads.map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), m[5]!.includes('W'), m[5]!.includes('E')]));
    for (const s of p.segments) assert.deepEqual(s.data, bytes.subarray(s.fileOffset, s.fileOffset + s.filesz));
  }
});

test('header checks name the field', () => {
  assert.match(loaderError(ours.subarray(0, 20)), /file is 20 bytes, too short/);
  assert.match(loaderError(patched(ours, (v) => v.setUint8(1, 0))), /bad magic/);
  assert.match(loaderError(patched(ours, (v) => v.setUint8(4, 1))), /not a 64-bit ELF file/);
  assert.match(loaderError(patched(ours, (v) => v.setUint8(5, 2))), /not little-endian/);
  assert.match(loaderError(patched(ours, (v) => v.setUint8(6, 0))), /EI_VERSION is 0/);
  assert.match(loaderError(objects[1]!.bytes), /not an executable \(e_type is 1/);
  assert.match(loaderError(patched(ours, (v) => v.setUint16(EHDR.machine, 40, true))), /e_machine is 40/);
  assert.match(loaderError(patched(ours, (v) => v.setUint16(EHDR.phentsize, 32, true))), /e_phentsize is 32/);
  assert.match(loaderError(patched(ours, (v) => v.setUint16(EHDR.phnum, 0, true))), /no program headers/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(EHDR.phoff, 0xfffffffffffffff0n, true))), /program header table .* past the end of the file/);
});

test('segment checks: file bounds, sizes, limits, overlap, alignment, entry', () => {
  const text = 1; // program header 1 is the code segment
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(text) + PHDR.offset, 0xfffffffffffff000n, true))),
    /segment 1: p_offset 0xfffffffffffff000 \+ p_filesz 0x[0-9a-f]+ is past the end of the file/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(text) + PHDR.filesz, 0xffffffffffffffffn, true))), /segment 1: p_offset 0x1000 \+ p_filesz 0xffffffffffffffff/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(text) + PHDR.memsz, 4n, true))), /segment 1: p_filesz 0x[0-9a-f]+ is larger than p_memsz 0x4/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(3) + PHDR.memsz, 1n << 40n, true))), /segment 3: p_memsz 0x10000000000 is larger than the limit/);
  assert.match(loaderError(ours, { ...limits, userBase: 0x401000 }), /segment 0: p_vaddr 0x400000 is below the start of user memory 0x401000/);
  assert.match(loaderError(ours, { ...limits, userLimit: 0x403100 }), /segment 3: 0x403000 \+ p_memsz 0x[0-9a-f]+ goes past the end of user memory 0x403100/);
  // An address near 2^64 must not wrap around into range.
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(3) + PHDR.vaddr, 0xfffffffffffff000n, true)), { ...limits, userLimit: 0x7fffffffffff }),
    /segment 3: 0xfffffffffffff000 \+ p_memsz/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(3) + PHDR.vaddr, 0x402000n, true))), /segments 2 and 3 overlap/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(ph(3) + PHDR.vaddr, 0x403010n, true))), /segment 3: p_vaddr 0x403010 and p_offset 0x3000 differ modulo the page size/);
  assert.match(loaderError(patched(ours, (v) => v.setBigUint64(EHDR.entry, 0x402000n, true))), /entry point 0x402000 is not inside an executable segment/);
  assert.match(loaderError(patched(ours, (v) => v.setUint32(ph(text) + PHDR.flags, 4, true))), /entry point 0x401000 is not inside an executable segment/);
});

test('truncation at every length: refused while any segment is cut, never another error', () => {
  const needed = Math.max(...loadExecutable(ours, limits).segments.map((s) => s.fileOffset + s.filesz));
  for (let n = 0; n < ours.length; n++) {
    const cut = ours.subarray(0, n);
    if (n < needed) loaderError(cut);
    else checkInvariants(loadExecutable(cut, limits), cut, limits);
  }
});


test('fuzz: 20,000 mutated executables are refused with LoaderError or load consistently', () => {
  const random = seededRandom(7);
  const headerBytes = EHDR_SIZE + 6 * PHDR_SIZE;
  let loaded = 0;
  for (let n = 0; n < 20_000; n++) {
    const seed = n % 2 ? ours : gnu;
    const copy = seed.slice();
    const edits = 1 + Math.floor(random() * 4);
    for (let k = 0; k < edits; k++) {
      const i = random() < 0.8 ? Math.floor(random() * headerBytes) : Math.floor(random() * copy.length);
      copy[i] = random() < 0.5 ? Math.floor(random() * 256) : [0, 0xff, 0x10, 0x40][Math.floor(random() * 4)]!;
    }
    const input = random() < 0.05 ? copy.subarray(0, Math.floor(random() * copy.length)) : copy;
    try {
      checkInvariants(loadExecutable(input, limits), input, limits);
      loaded++;
    } catch (e) {
      if (!(e instanceof LoaderError)) assert.fail(`case ${n}: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  assert.ok(loaded > 100 && loaded < 20_000, `${loaded} loaded`);
});

test('the written file on disk is what the loader reads', () => {
  const file = path.join(dir, 'p1.xk');
  fs.writeFileSync(file, ours);
  assert.equal(loadExecutable(new Uint8Array(fs.readFileSync(file)), limits).segments.length, 4);
});
