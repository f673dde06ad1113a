// Bad input: every error names file:line:column and what was wrong, all errors of a
// file are reported together, GNU as rejects the same lines (where it rejects rather
// than warns), and `xk as` exits with status 1 without a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../src/toolchain/assembler/assemblyError.js';
import { asCommand } from '../src/cli/asCommand.js';

/** [source line, expected message (substring), column, does GNU as also reject it (not just warn)?] */
const CASES: [string, string, number, boolean][] = [
  ['\tmovx %eax, %ebx', "unknown mnemonic 'movx'", 2, true],
  ['\tmovl %ax, %bx', "operand size mismatch for 'movl'", 2, true],
  ['\tmov %eax, %bx', "operand size mismatch for 'mov'", 2, true],
  ['\tmov $1, (%rax)', "ambiguous operand size for 'mov'", 2, false],
  ['\tmovl %exx, %eax', "bad register name '%exx'", 7, true],
  ['\tjmp 7b', "undefined local label '7b'", 6, true],
  ['\tmovb $256, %al', "value 256 out of range for 'movb'", 2, false],
  ['\t.byte 256', 'value 256 does not fit in 1 byte', 8, false],
  ['\taddq $0x80000000, %rax', "value 2147483648 out of range for 'addq'", 2, true],
  ['\t.foo 1', "unknown directive '.foo'", 2, true],
  ['\tmov %ah, %r8b', "can't encode a high-byte register", 2, true],
  ['\tmovl $1, 5(%rsp,%rsp,2)', "'%rsp' is not a valid index register", 11, true],
  ['\tmovl (%rax, %eax', 'unbalanced parentheses in operand', 7, true],
  ['\taddl $1', "'addl' takes 2 operands, found 1", 2, true],
  ['\tlea %eax, %ebx', "operand type mismatch for 'lea'", 2, true],
  ['x: x: nop', "symbol 'x' is already defined", 4, false],
  ['\t.p2align 3, , undefined_symbol', 'maximum skip must be a constant', 16, true],
  ['\t.long 1 +', 'expected an expression', 11, false],
  ['\t.ascii "abc', 'unterminated string', 9, false],
];

function errorsOf(source: string, fileName = 'bad.s'): string[] {
  try {
    assemble(source, { fileName, readFile: (p) => fs.readFileSync(p, 'utf8') });
  } catch (e) {
    assert.ok(e instanceof AssemblyErrors, `expected AssemblyErrors, got ${e}`);
    return e.errors.map((x) => x.message);
  }
  return [];
}

test('each bad statement gets file:line:column and a message saying what is wrong', () => {
  const source = CASES.map((c) => c[0]).join('\n') + '\n';
  const errors = errorsOf(source);
  CASES.forEach(([, message, column], i) => {
    const found = errors.find((e) => e.startsWith(`bad.s:${i + 1}:`));
    assert.ok(found, `no error reported for line ${i + 1} (${CASES[i][0].trim()})`);
    assert.equal(found, `bad.s:${i + 1}:${column}: error: ${found.split(': error: ')[1]}`);
    assert.ok(found.includes(message), `line ${i + 1}: '${found}' should mention '${message}'`);
  });
});

test('GNU as rejects the same lines', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-aserr-'));
  try {
    for (const [line, , , rejects] of CASES) {
      if (!rejects) continue;
      const file = path.join(dir, 'one.s');
      fs.writeFileSync(file, line + '\n');
      const r = spawnSync('as', ['--64', file, '-o', path.join(dir, 'one.o')], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, `GNU as accepted '${line.trim()}'`);
      assert.ok(errorsOf(line + '\n').length > 0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a forward local label that is never defined is an error', () => {
  assert.deepEqual(errorsOf('\tjmp 1f\n\tnop\n'), ["bad.s:1:6: error: undefined local label '1f'"]);
});

test('a rel8-only branch (loop, jrcxz) out of range is an error', () => {
  const errors = errorsOf('top:\n\t.skip 200\n\tloop top\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^bad\.s:3:\d+: error: .*out of range/);
});

test('errors in .S files name the included file and line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-aserr-'));
  try {
    fs.writeFileSync(path.join(dir, 'inc.h'), '#define GOOD 1\n\tbogus %eax\n');
    const main = path.join(dir, 'main.S');
    const text = '#include "inc.h"\n#include "missing.h"\n#ifdef GOOD\n\tnop\n';
    const errors = errorsOf(text, main);
    assert.ok(errors.some((e) => e.startsWith(`${path.join(dir, 'inc.h')}:2:2: error: unknown mnemonic 'bogus'`)), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith(`${main}:2:1: error: #include file 'missing.h' not found`)), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('missing #endif')), errors.join('\n'));
    // Without a file reader (the web page's toolchain gets one from its bundle), #include says so.
    assert.throws(() => assemble(text, { fileName: main }), /#include "inc\.h": this assembly was given no way to read files/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('xk as prints the errors and exits with status 1, no stack trace', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-aserr-'));
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  try {
    const file = path.join(dir, 'bad.s');
    fs.writeFileSync(file, 'nop\n\tmovq %eax, %rbx\n');
    process.stderr.write = ((chunk: string) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
    const status = await asCommand([file, '-o', path.join(dir, 'bad.o')]);
    const missing = await asCommand([path.join(dir, 'nonexistent.s')]);
    process.stderr.write = original;
    assert.equal(status, 1);
    assert.equal(missing, 1);
    const text = written.join('');
    assert.match(text, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:2: error: operand size mismatch for 'movq'`));
    assert.doesNotMatch(text, /\n\s+at /);
    assert.equal(fs.existsSync(path.join(dir, 'bad.o')), false);
    // and a good file assembles
    fs.writeFileSync(file, 'nop\n\tint $64\n');
    const out: string[] = [];
    const originalOut = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      assert.equal(await asCommand(['-a', file, '-o', path.join(dir, 'good.o')]), 0);
    } finally {
      process.stdout.write = originalOut;
    }
    assert.match(out.join(''), /^\s+2 {2}\.text\+0001 {2}cd 40\s+int \$64$/m);
    assert.deepEqual([...fs.readFileSync(path.join(dir, 'good.o')).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  } finally {
    process.stderr.write = original;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
