// Oracle test: real compiler output and hand-written sources, assembled by xk and by
// GNU as, must give the same disassembly with relocations (objdump -dr), the same
// section contents, headers and symbols, objects that readelf -a reads without a
// warning, and executables from GNU ld that are byte-identical in their code and data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { compileC } from '../src/toolchain/cc/compile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// test/ in the source tree, whether we run from test/ or dist/test/
const fixtures = [path.join(here, 'fixtures', 'assembler'), path.join(here, '..', '..', 'test', 'fixtures', 'assembler')].find((d) => fs.existsSync(d))!;
const GCC_FLAGS = ['-ffreestanding', '-fno-pic', '-fno-asynchronous-unwind-tables', '-mno-sse', '-mno-mmx', '-mno-80387'];

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** What must agree between the two objects, one string per aspect. */
function describe(obj: string): Record<string, string> {
  const disassembly = run('objdump', ['-dr', obj]).split('\n').slice(2).join('\n');
  const sections = run('readelf', ['-SW', obj]).split('\n')
    .map((l) => l.match(/^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+(\S*)\s+(\d+)\s+(\d+)\s+(\d+)$/))
    .filter((m) => m)
    .map((m) => { const [, name, type, size, entsize, flags, , , align] = m!; return `${name} ${type} size=${size} es=${entsize} ${flags} align=${align}`; })
    .filter((l) => !/^\.(rela\.|symtab|strtab|shstrtab)/.test(l))
    .sort();
  const contents = sections
    .map((l) => l.split(' ')[0])
    .filter((name) => !name.startsWith('.bss') && name !== '.note.GNU-stack')
    .map((name) => run('readelf', ['-x', name, obj]));
  const symbols = run('readelf', ['-sW', obj]).split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => /^\d+:$/.test(f[0]) && f[0] !== '0:')
    .map((f) => `${f[1]} ${f[2]} ${f[3]} ${f[4]} ${f[5]} ${f[6] === 'UND' || f[6] === 'ABS' || f[6] === 'COM' ? f[6] : 'sec'} ${f[7] ?? ''}`)
    .sort();
  const relocations = run('readelf', ['-rW', obj]).split('\n')
    .filter((l) => /^[0-9a-f]{16}\s/.test(l))
    .map((l) => { const f = l.trim().split(/\s+/); return `${f[0]} ${f[2]} ${f.slice(4).join(' ')}`; })
    .sort();
  return { disassembly, sections: sections.join('\n'), contents: contents.join('\n'), symbols: symbols.join('\n'), relocations: relocations.join('\n') };
}

function compareWithGnu(dir: string, name: string, gnuObject: string, source: string, fileName: string, defines?: Record<string, string>): void {
  const xkObject = path.join(dir, `${name}.xk.o`);
  fs.writeFileSync(xkObject, assemble(source, { fileName, includeDirs: [], defines, readFile: (p) => fs.readFileSync(p, 'utf8') }).object);
  const mine = describe(xkObject);
  const theirs = describe(gnuObject);
  for (const aspect of Object.keys(theirs)) assert.equal(mine[aspect], theirs[aspect], `${name}: ${aspect} differs`);
  // readelf -a reads every table without complaint
  const r = spawnSync('readelf', ['-a', xkObject], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '', `${name}: readelf -a warnings`);
  // GNU ld links both to the same code and data
  const images = [xkObject, gnuObject].map((o, k) => {
    const exe = path.join(dir, `${name}.${k}.exe`);
    const l = spawnSync('ld', ['-o', exe, '-e', '0', '--unresolved-symbols=ignore-all', '-z', 'noexecstack', o], { encoding: 'utf8' });
    assert.equal(l.status, 0, `${name}: ld failed: ${l.stderr}`);
    assert.equal(l.stderr, '', `${name}: ld warnings`);
    const bin = path.join(dir, `${name}.${k}.bin`);
    run('objcopy', ['-O', 'binary', exe, bin]);
    return fs.readFileSync(bin).toString('hex');
  });
  assert.equal(images[0], images[1], `${name}: linked images differ`);
}

test('gcc -S output at -O0 and -O2 assembles exactly as GNU as does', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ascorpus-'));
  try {
    const programs = fs.readdirSync(fixtures).filter((f) => f.endsWith('.c')).sort();
    assert.ok(programs.length >= 3);
    for (const c of programs) {
      for (const level of ['-O0', '-O2']) {
        const name = `${c.replace(/\.c$/, '')}${level}`;
        const asm = path.join(dir, `${name}.s`);
        run('gcc', ['-S', level, ...GCC_FLAGS, path.join(fixtures, c), '-o', asm]);
        const gnu = path.join(dir, `${name}.gnu.o`);
        run('as', ['--64', asm, '-o', gnu]);
        compareWithGnu(dir, name, gnu, fs.readFileSync(asm, 'utf8'), asm);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hand-written sources (directives, expressions, local labels, prefixes, macros) match GNU as', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-asdirectives-'));
  try {
    const sources = fs.readdirSync(fixtures).filter((f) => f.endsWith('.s')).sort();
    assert.ok(sources.length >= 2);
    for (const file of sources) {
      const src = path.join(fixtures, file);
      const gnu = path.join(dir, `${file}.gnu.o`);
      run('as', ['--64', src, '-o', gnu]);
      compareWithGnu(dir, file, gnu, fs.readFileSync(src, 'utf8'), src);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('.S files go through the preprocessor subset like gcc -c does', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-aspre-'));
  try {
    const src = path.join(fixtures, 'stubs.S');
    for (const defines of [undefined, { WITH_EXTRA: '1' }]) {
      const gnu = path.join(dir, 'stubs.gnu.o');
      run('gcc', ['-c', ...(defines ? ['-DWITH_EXTRA'] : []), src, '-o', gnu]);
      compareWithGnu(dir, defines ? 'stubs-extra' : 'stubs', gnu, fs.readFileSync(src, 'utf8'), src, defines);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Every .s/.S file under `dir`, recursively (relative paths, sorted). */
function assemblySources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.[sS]$/.test(f)).sort();
}

test("the project's own assembly sources (guest/, src/, user/) all assemble as with gcc -c", () => {
  const root = path.resolve(fixtures, '..', '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-asproject-'));
  try {
    const files = ['guest', 'src', 'user'].flatMap((folder) => assemblySources(path.join(root, folder)).map((f) => path.join(folder, f)));
    assert.ok(files.length >= 12, `found only ${files.length} assembly sources`);
    let count = 0;
    files.forEach((file, n) => {
      const src = path.join(root, file);
      const abs = path.dirname(src);
      const gnu = path.join(dir, `${n}.gnu.o`);
      // Every file must be accepted by GNU as (through gcc -c): none is skipped.
      const r = spawnSync('gcc', ['-c', `-I${abs}`, src, '-o', gnu], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file}: GNU as rejects it: ${r.stderr}`);
      const xkObject = path.join(dir, `${n}.xk.o`);
      fs.writeFileSync(xkObject, assemble(fs.readFileSync(src, 'utf8'), { fileName: src, includeDirs: [abs], readFile: (p) => fs.readFileSync(p, 'utf8') }).object);
      const mine = describe(xkObject);
      const theirs = describe(gnu);
      for (const aspect of Object.keys(theirs)) assert.equal(mine[aspect], theirs[aspect], `${file}: ${aspect} differs`);
      count++;
    });
    assert.equal(count, files.length);
    console.log(`project assembly sources compared: ${count}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("xk cc's assembly for every C file of user/ assembles as with GNU as", () => {
  const root = path.resolve(fixtures, '..', '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ascc-'));
  try {
    const cFiles = fs.readdirSync(path.join(root, 'user'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.c')).sort();
    assert.ok(cFiles.length >= 30, `found only ${cFiles.length} C files in user/`);
    for (const [n, file] of cFiles.entries()) {
      const src = path.join(root, 'user', file);
      const r = compileC(fs.readFileSync(src, 'utf8'), src, {
        includeDirs: [path.dirname(src), path.join(root, 'user', 'include')], defines: {}, optimize: 1,
        readFile: (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null),
      });
      assert.ok(r.assembly !== undefined, `${file}: xk cc rejects it: ${r.errors.join('; ')}`);
      const asmPath = path.join(dir, `${n}.s`);
      fs.writeFileSync(asmPath, r.assembly);
      const gnu = path.join(dir, `${n}.gnu.o`);
      run('as', ['--64', asmPath, '-o', gnu]);
      compareWithGnu(dir, `user_${file.replace(/\//g, '_')}`, gnu, r.assembly, asmPath);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
