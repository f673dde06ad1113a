// Linker diagnostics: undefined and duplicate symbols, a missing entry point,
// relocations out of range, weak undefined symbols and bad inputs. Objects are
// assembled by GNU as from small sources written here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LinkError, link, linkWithMap } from '../src/toolchain/linker/link.js';
import { readElf } from '../src/toolchain/elf/reader.js';
import { tempDir } from './fixtures/linker/build.js';

const dir = tempDir();

function assemble(name: string, source: string): { name: string; bytes: Uint8Array } {
  const s = path.join(dir, name.replace(/\.o$/, '.s'));
  const o = path.join(dir, name);
  fs.writeFileSync(s, source);
  const r = spawnSync('as', [s, '-o', o], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { name, bytes: new Uint8Array(fs.readFileSync(o)) };
}

function linkError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LinkError, `expected LinkError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('link succeeded but should have failed');
}

const start = '.globl _start\n_start:\n';

test('an undefined symbol names the object that uses it', () => {
  const a = assemble('a.o', `${start} call bar\n call bar\n`);
  assert.equal(linkError(() => link([a])), "a.o: undefined reference to 'bar'");
});

test('two strong definitions are an error; weak ones give way', () => {
  const a = assemble('a.o', `${start} ret\n.globl foo\nfoo: ret\n`);
  const b = assemble('b.o', '.globl foo\nfoo: nop\n ret\n');
  assert.equal(linkError(() => link([a, b])), "b.o: multiple definition of 'foo' (first defined in a.o(.text))");
  const w = assemble('w.o', '.weak foo\nfoo: nop\n nop\n ret\n');
  const exe = readElf(link([w, a]), 'exe');
  const foo = exe.symbols.find((s) => s.name === 'foo')!;
  const text = exe.sections.find((s) => s.name === '.text')!;
  assert.equal(foo.value, text.addr + 3 + 1); // w.o's 3 bytes, then a.o's _start (1 byte), then foo
});

test('the entry point must exist; -e picks another symbol', () => {
  const a = assemble('a.o', '.globl main\nmain: ret\n');
  assert.equal(linkError(() => link([a])), "entry symbol '_start' is not defined");
  const exe = readElf(link([a], { entry: 'main' }));
  assert.equal(exe.header.entry, 0x401000);
});

test('R_X86_64_32S and R_X86_64_32 out of range are reported with place and value', () => {
  const a = assemble('a.o', `${start} movq $_start, %rax\n movl $_start, %eax\n`);
  assert.equal(
    linkError(() => link([a], { textAddress: 0x80000000 })),
    "relocation R_X86_64_32S against '_start' out of range: value 0x80000000 in a.o(.text+0x3)",
  );
  assert.equal(
    linkError(() => link([a], { textAddress: 0x100000000 })),
    "relocation R_X86_64_32S against '_start' out of range: value 0x100000000 in a.o(.text+0x3)\n"
    + "relocation R_X86_64_32 against '_start' out of range: value 0x100000000 in a.o(.text+0x8)",
  );
  link([a], { textAddress: 0x7fff0000 }); // in range: links
});

test('a weak undefined symbol is 0', () => {
  const a = assemble('a.o', `${start} .weak maybe\n movq $maybe, %rax\n ret\n`);
  const exe = link([a]);
  const e = readElf(exe);
  const text = e.sections.find((s) => s.name === '.text')!;
  assert.deepEqual([...exe.subarray(text.offset + 3, text.offset + 7)], [0, 0, 0, 0]);
});

test('relocations of every width: 64, 32, 16, 8 and pc-relative', () => {
  const a = assemble('a.o', `${start} ret\n.data\nd: .quad d\n .long d\n .word d - 0x400000\n .byte d - 0x402000\n .long d - .\n`);
  const exe = link([a]);
  const e = readElf(exe);
  const data = e.sections.find((s) => s.name === '.data')!;
  const v = new DataView(exe.buffer, exe.byteOffset + data.offset);
  assert.equal(v.getBigUint64(0, true), BigInt(data.addr));
  assert.equal(v.getUint32(8, true), data.addr);
  assert.equal(v.getUint16(12, true), data.addr - 0x400000);
  assert.equal(v.getUint8(14), data.addr - 0x402000);
  assert.equal(v.getInt32(15, true), -15);
});

test('bad inputs get clear errors', () => {
  const a = assemble('a.o', `${start} ret\n`);
  const exe = link([a]);
  assert.match(linkError(() => link([{ name: 'prog', bytes: exe }])), /^prog: not a relocatable object/);
  assert.match(linkError(() => link([{ name: 'junk.o', bytes: new TextEncoder().encode('hello') }])), /^junk\.o: file is 5 bytes, too short/);
  assert.equal(linkError(() => link([])), 'no input files');
});

test('linker-defined symbols follow the layout', () => {
  const a = assemble('a.o', `${start} movq $end, %rax\n movq $etext, %rbx\n.bss\n .zero 100\n`);
  const { executable } = linkWithMap([a]);
  const e = readElf(executable);
  const sym = (n: string): number => e.symbols.find((s) => s.name === n)!.value;
  const bss = e.sections.find((s) => s.name === '.bss')!;
  assert.equal(sym('end'), bss.addr + 100);
  assert.equal(sym('_end'), bss.addr + 100);
  assert.equal(sym('etext'), 0x401000 + 14);
  assert.equal(sym('__bss_start'), bss.addr);
});
