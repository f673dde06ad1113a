// Malformed ELF files: truncation at every length, targeted corruptions of
// offsets, sizes and string indices, and a seeded fuzz test of random byte
// mutations. The reader (and the linker on top of it) may only ever throw its
// own error types with a message, never a host exception such as RangeError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readElf } from '../src/toolchain/elf/reader.js';
import { EHDR, ElfError, SHDR, SHDR_SIZE, SYM, SYM_SIZE, SHT_SYMTAB, RELA, SHT_RELA } from '../src/toolchain/elf/elfTypes.js';
import { LinkError, link } from '../src/toolchain/linker/link.js';
import { buildObjects, tempDir } from './fixtures/linker/build.js';
import { seededRandom } from './helpers/random.js';

const dir = tempDir();
const [start, main, util] = buildObjects(dir, ['start.s', 'main.c', 'util.c']);
const startBytes = start!.bytes;
const mainBytes = main!.bytes;
const utilBytes = util!.bytes;
const exeBytes = link([{ name: 'start.o', bytes: startBytes }, { name: 'main.o', bytes: mainBytes }, { name: 'util.o', bytes: utilBytes }]);


function elfError(bytes: Uint8Array): string {
  try {
    readElf(bytes, 'x.o');
  } catch (e) {
    assert.ok(e instanceof ElfError, `expected ElfError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e.message;
  }
  assert.fail('readElf accepted a malformed file');
}

function patched(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

const header = (bytes: Uint8Array): { shoff: number; shnum: number } => {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return { shoff: Number(v.getBigUint64(EHDR.shoff, true)), shnum: v.getUint16(EHDR.shnum, true) };
};
const shdrAt = (bytes: Uint8Array, i: number): number => header(bytes).shoff + i * SHDR_SIZE;
const sectionOfType = (bytes: Uint8Array, type: number): number => {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  for (let i = 0; i < header(bytes).shnum; i++) if (v.getUint32(shdrAt(bytes, i) + SHDR.type, true) === type) return i;
  throw new Error('no such section');
};

test('the valid inputs parse', () => {
  readElf(startBytes);
  readElf(utilBytes);
  readElf(exeBytes);
});

test('every truncation of an object and an executable is an ElfError', () => {
  for (const bytes of [startBytes, utilBytes, exeBytes]) {
    for (let n = 0; n < bytes.length; n++) elfError(bytes.subarray(0, n));
  }
  assert.match(elfError(startBytes.subarray(0, 10)), /file is 10 bytes, too short for an ELF header/);
  assert.match(elfError(startBytes.subarray(0, startBytes.length - 1)), /section header table: .* is past the end of the file/);
});

test('bad identification and header fields are named', () => {
  assert.match(elfError(patched(startBytes, (v) => v.setUint8(0, 0))), /not an ELF file/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint8(4, 1))), /e_ident\[EI_CLASS\] is 1/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint8(5, 2))), /e_ident\[EI_DATA\] is 2/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint16(EHDR.machine, 3, true))), /e_machine is 3/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint16(EHDR.shentsize, 40, true))), /e_shentsize is 40/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint16(EHDR.shnum, 500, true))), /section header table: e_shoff 0x[0-9a-f]+ \+ 500 entries/);
  assert.match(elfError(patched(startBytes, (v) => v.setBigUint64(EHDR.shoff, 0xffffffffffffffffn, true))), /e_shoff 0xffffffffffffffff is too large/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint16(EHDR.shstrndx, 200, true))), /e_shstrndx 200 is not a section index/);
  assert.match(elfError(patched(exeBytes, (v) => v.setBigUint64(EHDR.phoff, 0x7fffffffn, true))), /program header table: e_phoff 0x7fffffff/);
});

test('bad section offsets, huge sizes and bad string indices are named', () => {
  const at = shdrAt(startBytes, 1);
  assert.match(
    elfError(patched(startBytes, (v) => v.setBigUint64(at + SHDR.offset, 0x1234n, true))),
    /^x\.o: section 1 \(\.text\): offset 0x1234 \+ size 0x[0-9a-f]+ is past the end of the file \(\d+ bytes\)$/,
  );
  assert.match(elfError(patched(startBytes, (v) => v.setBigUint64(at + SHDR.size, 1n << 62n, true))), /section 1: sh_size 0x4000000000000000 is too large/);
  assert.match(elfError(patched(startBytes, (v) => v.setBigUint64(at + SHDR.size, 0x1fffffffffffffn, true))), /section 1 \(\.text\): offset 0x40 \+ size 0x1fffffffffffff is past the end/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint32(at + SHDR.name, 0xffff, true))), /section 1: sh_name: string index 0xffff is outside string table section \d+ \(size 0x[0-9a-f]+\)/);
  assert.match(elfError(patched(startBytes, (v) => v.setBigUint64(at + SHDR.addralign, 3n, true))), /sh_addralign 0x3 is not a power of two/);
  assert.match(elfError(patched(startBytes, (v) => v.setUint32(at + SHDR.link, 99, true))), /section 1 \(\.text\): sh_link 99 is not a section index/);
});

test('bad symbol tables and relocations are named', () => {
  const symtab = sectionOfType(utilBytes, SHT_SYMTAB);
  const sat = shdrAt(utilBytes, symtab);
  const view = new DataView(utilBytes.buffer, utilBytes.byteOffset);
  const symOffset = Number(view.getBigUint64(sat + SHDR.offset, true));
  assert.match(elfError(patched(utilBytes, (v) => v.setBigUint64(sat + SHDR.entsize, 16n, true))), /\(\.symtab\): sh_entsize is 16, expected 24/);
  assert.match(elfError(patched(utilBytes, (v) => v.setUint32(sat + SHDR.link, 0, true))), /sh_link 0 does not name a string table/);
  assert.match(elfError(patched(utilBytes, (v) => v.setUint32(symOffset + SYM_SIZE + SYM.name, 0xfffffff, true))), /symbol 1: st_name: string index 0xfffffff is outside \.strtab/);
  assert.match(elfError(patched(utilBytes, (v) => v.setUint16(symOffset + SYM_SIZE + SYM.shndx, 0x999, true))), /symbol 1: st_shndx 2457 for '.*' is not a section index/);
  const rela = sectionOfType(utilBytes, SHT_RELA);
  const rat = shdrAt(utilBytes, rela);
  const relaOffset = Number(view.getBigUint64(rat + SHDR.offset, true));
  assert.match(elfError(patched(utilBytes, (v) => v.setUint32(relaOffset + RELA.info + 4, 5000, true))), /\(\.rela\.text\): relocation 0: symbol index 5000 is past the \d+ symbols/);
  assert.match(elfError(patched(utilBytes, (v) => v.setUint32(rat + SHDR.info, 77, true))), /\(\.rela\.text\): sh_info 77 is not a section index/);
});

test('many section headers naming the same table are refused (the work stays linear)', () => {
  const rela = sectionOfType(utilBytes, SHT_RELA);
  const { shnum } = header(utilBytes);
  const copy = utilBytes.slice();
  const relaHeader = copy.slice(shdrAt(utilBytes, rela), shdrAt(utilBytes, rela) + SHDR_SIZE);
  const shstrndx = new DataView(copy.buffer).getUint16(EHDR.shstrndx, true);
  for (let i = 1; i < shnum; i++) {
    const type = new DataView(copy.buffer).getUint32(shdrAt(utilBytes, i) + SHDR.type, true);
    if (i !== shstrndx && type !== SHT_SYMTAB && type !== 3) copy.set(relaHeader, shdrAt(utilBytes, i));
  }
  assert.match(elfError(copy), /symbol and relocation tables add up to 0x[0-9a-f]+ bytes, more than the file .*: they overlap/);
});

/** Changes a few bytes: random values, or values that make interesting integers. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const copy = bytes.slice();
  const edits = 1 + Math.floor(random() * 6);
  for (let k = 0; k < edits; k++) {
    // Headers and tables are where the structure is: aim there half the time.
    const near = random() < 0.5;
    const i = near ? Math.floor(random() * Math.min(128, copy.length)) : Math.floor(random() * copy.length);
    const special = [0, 0xff, 0x7f, 0x80, 1, 0x40][Math.floor(random() * 6)]!;
    copy[i] = random() < 0.5 ? Math.floor(random() * 256) : special;
    if (random() < 0.1) { // rewrite a whole field somewhere inside the section header table
      const { shoff } = header(bytes);
      const j = shoff + Math.floor(random() * (copy.length - shoff));
      for (let b = 0; b < 8 && j + b < copy.length; b++) copy[j + b] = Math.floor(random() * 256);
    }
  }
  if (random() < 0.05) return copy.subarray(0, Math.floor(random() * copy.length));
  return copy;
}

test('fuzz: 20,000 mutated ELF files give ElfError or parse, nothing else', () => {
  const random = seededRandom(0x5eed);
  const seeds = [startBytes, utilBytes, exeBytes];
  let rejected = 0;
  for (let n = 0; n < 20_000; n++) {
    const input = mutate(seeds[n % seeds.length]!, random);
    try {
      readElf(input, 'fuzz');
    } catch (e) {
      if (!(e instanceof ElfError)) assert.fail(`case ${n}: ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(e.message.length > 0);
      rejected++;
    }
  }
  assert.ok(rejected > 1000, `only ${rejected} of the mutated files were rejected`);
});

test('fuzz: linking 3,000 mutated objects gives LinkError or ElfError, nothing else', () => {
  const random = seededRandom(42);
  let rejected = 0;
  for (let n = 0; n < 3_000; n++) {
    const bad = mutate(n % 2 ? utilBytes : startBytes, random);
    const objects = [
      { name: 'start.o', bytes: n % 2 ? startBytes : bad },
      { name: 'main.o', bytes: mainBytes },
      { name: 'util.o', bytes: n % 2 ? bad : utilBytes },
    ];
    try {
      link(objects);
    } catch (e) {
      if (!(e instanceof LinkError) && !(e instanceof ElfError)) assert.fail(`case ${n}: ${e instanceof Error ? e.stack : String(e)}`);
      rejected++;
    }
  }
  console.log(`link fuzz: ${rejected} of 3000 mutated links rejected`);
  assert.ok(rejected > 300, `only ${rejected} of the mutated links were rejected`);
});
