// The ELF reader against readelf: for GNU as/gcc objects and GNU ld executables,
// our parse of sections, symbols, relocations and program headers must match
// what readelf prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readElf } from '../src/toolchain/elf/reader.js';
import { SHN_ABS, SHN_COMMON, SHN_UNDEF } from '../src/toolchain/elf/elfTypes.js';
import { link } from '../src/toolchain/linker/link.js';
import { buildObjects, gnuLink, tempDir, tool, writeExecutableFile } from './fixtures/linker/build.js';
import type { Built } from './fixtures/linker/build.js';

const dir = tempDir();
const objects: Built[] = [
  ...buildObjects(dir, ['start.s', 'main.c', 'util.c', 'got.s']),
  ...buildObjects(dir, ['main2.c', 'lib2.c'], ['-fcommon']),
];
const byName = (n: string): Built => objects.find((o) => o.name === n)!;
const gnuExe = path.join(dir, 'p1.gnu');
gnuLink([byName('start.o'), byName('main.o'), byName('util.o')], gnuExe);
const gnu2Exe = path.join(dir, 'p2.gnu');
gnuLink([byName('start.o'), byName('main2.o'), byName('lib2.o'), byName('got.o'), byName('util.o')], gnu2Exe);
const ourExe = path.join(dir, 'p1.xk');
writeExecutableFile(ourExe, link([byName('start.o'), byName('main.o'), byName('util.o')]));
const files = [...objects.map((o) => o.path), gnuExe, gnu2Exe, ourExe];

function readelf(args: string[], file: string): string {
  const r = tool('readelf', [...args, file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function bytesOf(file: string): Promise<Uint8Array> {
  const fs = await import('node:fs');
  return new Uint8Array(fs.readFileSync(file));
}

for (const file of files) {
  const label = path.basename(file);

  test(`${label}: sections match readelf -S`, async () => {
    const elf = readElf(await bytesOf(file), label);
    const out = readelf(['-SW'], file);
    const rows = [...out.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)]
      .filter((m) => m[1] !== '0');
    assert.equal(rows.length, elf.sections.length - 1);
    for (const m of rows) {
      const s = elf.sections[Number(m[1])]!;
      assert.equal(s.name, m[2]);
      assert.equal(s.addr, parseInt(m[4]!, 16), `${s.name} address`);
      assert.equal(s.offset, parseInt(m[5]!, 16), `${s.name} offset`);
      assert.equal(s.size, parseInt(m[6]!, 16), `${s.name} size`);
      assert.equal(s.entsize, parseInt(m[7]!, 16), `${s.name} entsize`);
    }
  });

  test(`${label}: symbols match readelf -s`, async () => {
    const elf = readElf(await bytesOf(file), label);
    const out = readelf(['-sW'], file);
    const table = out.split(/Symbol table '\.symtab'/)[1] ?? '';
    const rows = [...table.matchAll(/^\s*(\d+):\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: (.*))?$/gm)];
    assert.equal(rows.length, elf.symbols.length);
    for (const m of rows) {
      const s = elf.symbols[Number(m[1])]!;
      // readelf prints section symbols by their section's name in -sW only with newer versions; compare raw names.
      if (s.type !== 3) assert.equal(s.name, m[8] ?? '', `symbol ${s.index} name`);
      assert.equal(s.value, parseInt(m[2]!, 16), `symbol ${s.name} value`);
      assert.equal(s.size, Number(m[3]), `symbol ${s.name} size`);
      const ndx = m[7]!;
      const expected = ndx === 'UND' ? SHN_UNDEF : ndx === 'ABS' ? SHN_ABS : ndx === 'COM' ? SHN_COMMON : Number(ndx);
      assert.equal(s.shndx, expected, `symbol ${s.name} section`);
    }
  });

  test(`${label}: relocations and program headers match readelf -r -l`, async () => {
    const elf = readElf(await bytesOf(file), label);
    const relocs = [...readelf(['-rW'], file).matchAll(/^([0-9a-f]{16})\s+([0-9a-f]{16})\s+R_X86_64_\S+/gm)];
    const ours = elf.relocationSections.flatMap((r) => r.relocations);
    assert.equal(ours.length, relocs.length);
    relocs.forEach((m, i) => {
      assert.equal(ours[i]!.offset, parseInt(m[1]!, 16));
      assert.equal(BigInt(ours[i]!.symbol) << 32n | BigInt(ours[i]!.type), BigInt('0x' + m[2]));
    });
    const loads = [...readelf(['-lW'], file).matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/gm)];
    const ourLoads = elf.segments.filter((p) => p.type === 1);
    assert.equal(ourLoads.length, loads.length);
    loads.forEach((m, i) => {
      const p = ourLoads[i]!;
      assert.deepEqual([p.offset, p.vaddr, p.filesz, p.memsz], [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
    });
  });
}
