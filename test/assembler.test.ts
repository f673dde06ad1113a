// The assembler's programmatic API: assemble() returns the object bytes, the object
// model (sections, symbols, relocations) and a listing; .S files are preprocessed
// with includes read through options.readFile and -D style defines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../src/toolchain/assembler/assemblyError.js';
import { R_X86_64_PLT32, R_X86_64_PC32, STB_GLOBAL, STT_FUNC } from '../src/toolchain/elf/elfTypes.js';

test('assemble returns an ELF object, its model and a listing', () => {
  const source = [
    '\t.text',
    '\t.globl main',
    '\t.type main, @function',
    'main:',
    '\tmovl $15, %eax',
    '\tint $64',
    '\tcall helper',
    '\tlea msg(%rip), %rdi',
    '\tret',
    '\t.size main, .-main',
    '\t.section .rodata',
    'msg: .asciz "hi"',
  ].join('\n');
  const { object, model, listing } = assemble(source, { fileName: 'main.s' });
  assert.deepEqual([...object.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  const text = model.sections.find((s) => s.name === '.text')!;
  assert.deepEqual([...text.data.subarray(0, 7)], [0xb8, 15, 0, 0, 0, 0xcd, 64]);
  assert.deepEqual(text.relocations.map((r) => [Number(r.offset), r.type, r.symbol?.name, r.addend]), [
    [8, R_X86_64_PLT32, 'helper', -4n],
    [15, R_X86_64_PC32, '', -4n], // against the .rodata section symbol
  ]);
  const main = model.symbols.find((s) => s.name === 'main')!;
  assert.equal(main.binding, STB_GLOBAL);
  assert.equal(main.type, STT_FUNC);
  assert.equal(main.size, 20n);
  assert.deepEqual(listing.map((e) => [e.line, e.offset, e.length]), [[5, 0, 5], [6, 5, 2], [7, 7, 5], [8, 12, 7], [9, 19, 1]]);
});

test('.S sources use includeDirs, readFile and defines', () => {
  const files: Record<string, string> = { '/inc/numbers.h': '#define BASE 0x40\n#define VECTOR(n) (BASE + n)\n' };
  const source = '#include <numbers.h>\n#ifdef EXTRA\n\tnop\n#endif\n\tint $VECTOR(OFFSET)\n';
  const { model } = assemble(source, {
    fileName: '/src/stub.S',
    includeDirs: ['/inc'],
    defines: { OFFSET: '2', EXTRA: '1' },
    readFile: (p) => {
      if (files[p] === undefined) throw new Error('no such file');
      return files[p];
    },
  });
  assert.deepEqual([...model.sections[0].data], [0x90, 0xcd, 0x42]);
});

test('all errors come back together in one AssemblyErrors', () => {
  assert.throws(
    () => assemble('\tbogus\n\tnop\n\tmovl %eax\n', { fileName: 'e.s' }),
    (e: unknown) => e instanceof AssemblyErrors && e.errors.length === 2 && e.errors[0].position.line === 1 && e.errors[1].position.line === 3,
  );
});
