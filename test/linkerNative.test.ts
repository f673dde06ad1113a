// The linker against the oracle: the same gcc-compiled objects linked by GNU ld
// and by our linker must run natively on this x86-64 host with the same output
// and exit status; readelf must accept our executables without warnings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { link, linkWithMap } from '../src/toolchain/linker/link.js';
import { ldCommand } from '../src/cli/ldCommand.js';
import { buildObjects, gnuLink, runNative, tempDir, tool, writeExecutableFile } from './fixtures/linker/build.js';

const dir = tempDir();
const program1 = buildObjects(dir, ['start.s', 'main.c', 'util.c']);
const program2 = [
  ...buildObjects(dir, ['main2.c', 'lib2.c'], ['-fcommon']),
  ...buildObjects(dir, ['got.s']),
];
const startAndUtil = program1.filter((o) => o.name !== 'main.o');

function compare(name: string, objects: typeof program1, args: string[], ldExtra: string[] = [], textAddress?: number): string {
  const gnu = path.join(dir, name + '.gnu');
  gnuLink(objects, gnu, ldExtra);
  const ours = path.join(dir, name + '.xk');
  writeExecutableFile(ours, link(objects.map(({ name: n, bytes }) => ({ name: n, bytes })), { textAddress }));
  const expected = runNative(gnu, args);
  const actual = runNative(ours, args);
  assert.equal(expected.signal, null, 'GNU ld program crashed');
  assert.equal(actual.signal, null, 'our program was killed by a signal');
  assert.equal(actual.stdout, expected.stdout);
  assert.equal(actual.status, expected.status);
  return ours;
}

test('program 1 (calls across objects, data, rodata, bss, function pointers) runs like GNU ld\'s', () => {
  compare('p1', program1, ['a', 'b']);
  compare('p1-noargs', program1, []);
});

test('program 2 (COMMON, weak overridden, linker-defined end, GOTPCRELX) runs like GNU ld\'s', () => {
  const ours = compare('p2', [program1[0]!, ...program2, ...startAndUtil.slice(1)], []);
  assert.match(runNative(ours).stdout, /got = 1107/); // both the relaxed lea and the real GOT slot are right
});

test('the same program built with -O0, -Os and -ffunction-sections -fdata-sections runs like GNU ld\'s', () => {
  for (const [tag, flags] of [['O0', ['-O0']], ['Os', ['-Os']], ['sections', ['-ffunction-sections', '-fdata-sections']]] as const) {
    const sub = path.join(dir, tag);
    fs.mkdirSync(sub);
    const objs = [program1[0]!, ...buildObjects(sub, ['main.c', 'util.c'], [...flags])];
    compare(`p1-${tag}`, objs, ['q']);
  }
});

test('-Ttext places the code where asked and the program still runs', () => {
  const ours = compare('p1-ttext', program1, ['x'], ['-Ttext', '0x800000'], 0x800000);
  const entry = tool('readelf', ['-hW', ours]).stdout;
  assert.match(entry, /Entry point address:\s+0x800000/);
});

test('readelf accepts the executable without warnings; segments have the right flags', () => {
  const exe = path.join(dir, 'p1.xk');
  const r = tool('readelf', ['-lSW', exe]);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.doesNotMatch(r.stdout, /warning/i);
  const loads = [...r.stdout.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE][RWE ]*?)\s+0x1000$/gm)];
  assert.deepEqual(loads.map((m) => m[5]), ['R', 'R E', 'R', 'RW']);
  // Offset and address agree modulo the page size in every segment.
  for (const m of loads) assert.equal(Number(m[1]) % 4096, Number(m[2]) % 4096);
  assert.match(r.stdout, /GNU_STACK/);
  // Sections land in the right segments.
  assert.match(r.stdout, /01\s+\.text\s*\n\s*02\s+\.rodata\s*\n\s*03\s+\.data \.bss/);
  // The symbol table lets objdump name functions.
  const d = tool('objdump', ['-d', exe]);
  assert.match(d.stdout, /<main>:/);
  assert.match(d.stdout, /call\s+[0-9a-f]+ <put_str>/);
  const s = tool('readelf', ['-sW', exe]);
  assert.equal(s.stderr, '');
  assert.match(s.stdout, /OBJECT\s+GLOBAL\s+DEFAULT\s+\d+\s+counter$/m);
});

test('readelf reads every executable we made without a warning', () => {
  const made = fs.readdirSync(dir).filter((f) => f.endsWith('.xk'));
  assert.ok(made.length >= 6);
  for (const f of made) {
    const r = tool('readelf', ['-aW', path.join(dir, f)]);
    assert.equal(r.status, 0, f);
    assert.equal(r.stderr, '', f);
    assert.doesNotMatch(r.stdout, /warning/i, f);
  }
});

test('the linker map lists sections, input objects and symbols', () => {
  const { map } = linkWithMap(program1.map(({ name, bytes }) => ({ name, bytes })));
  assert.match(map, /Entry point: _start at 0x0000000000401000/);
  assert.match(map, /^\.text\s+0x0000000000401000/m);
  assert.match(map, /^ \.text\s+0x[0-9a-f]+\s+size 0x[0-9a-f]+\s+util\.o$/m);
  assert.match(map, /0x[0-9a-f]+\s+main$/m);
  assert.match(map, /^\.bss\s+/m);
  assert.match(map, /_end$/m);
});

test('xk ld writes a runnable executable and a map file', async () => {
  const out = path.join(dir, 'cli.out');
  const mapFile = path.join(dir, 'cli.map');
  const status = await ldCommand([...program1.map((o) => o.path), '-o', out, '-e', '_start', '-Map', mapFile]);
  assert.equal(status, 0);
  assert.equal(runNative(out, ['a', 'b']).status, runNative(path.join(dir, 'p1.gnu'), ['a', 'b']).status);
  assert.match(fs.readFileSync(mapFile, 'utf8'), /put_num/);
});

test('xk ld reports errors on stderr with status 1', async () => {
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array): boolean => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
  let status: number;
  let missing: number;
  let badOption: number;
  try {
    status = await ldCommand([program1[1]!.path, '-o', path.join(dir, 'never')]);
    missing = await ldCommand([path.join(dir, 'no-such.o')]);
    badOption = await ldCommand(['-Ttext', 'zzz', program1[0]!.path]);
  } finally {
    process.stderr.write = original;
  }
  assert.equal(status, 1);
  assert.equal(missing, 1);
  assert.equal(badOption, 1);
  const text = written.join('');
  assert.match(text, /xk ld: \S*main\.o: undefined reference to 'put_str'/);
  assert.match(text, /xk ld: cannot read .*no-such\.o: ENOENT/);
  assert.match(text, /xk ld: -Ttext needs an address such as 0x400000, not 'zzz'/);
  assert.equal(fs.existsSync(path.join(dir, 'never')), false);
});
