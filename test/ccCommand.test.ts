// `xk cc` as a command: -S/-c/link outputs (objdump and xk run are the checks),
// -D/-U/-I, gcc-form errors with exit status 1, usage errors with 2, and
// malformed C (syntax errors, undeclared names, unterminated comments and
// strings, deep nesting of expressions, declarators, statements and macro
// calls, 10 MB files of good and of bad C) gets an error, never a crash or a hang.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../src/cli/main.js';
import { compileC } from '../src/toolchain/cc/compile.js';
import { REPO_ROOT } from './helpers/userBuild.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

async function xk(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const out = process.stdout.write, err = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => { stdout += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { stderr += String(s); return true; }) as typeof process.stderr.write;
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-cccmd-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

test('xk cc -S, -c and link; -D, -U and -I; the program runs under xk run', async () => {
  fs.mkdirSync(path.join(tmp, 'inc'), { recursive: true });
  file('inc/answer.h', '#define ANSWER (VALUE * 2)\n');
  const src = file('prog.c', '#include "user.h"\n#include <answer.h>\n#ifdef GONE\n#error GONE is defined\n#endif\nint main(void) { printf("answer %d\\n", ANSWER); return ANSWER; }\n');
  const asm = path.join(tmp, 'prog.s');
  let r = await xk(['cc', '-S', '-I', path.join(tmp, 'inc'), '-DVALUE=21', '-DGONE', '-UGONE', '-o', asm, src]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(asm, 'utf8'), /^main:$/m);
  const obj = path.join(tmp, 'prog.o');
  r = await xk(['cc', '-c', '-O1', `-I${path.join(tmp, 'inc')}`, '-DVALUE=21', '-o', obj, src]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(execFileSync('objdump', ['-t', obj], { encoding: 'utf8' }), /\.text\s+[0-9a-f]+ main/);
  const exe = path.join(tmp, 'prog');
  r = await xk(['cc', '-o', exe, obj]);
  assert.equal(r.status, 0, r.stderr);
  const run = (() => {
    try {
      return { status: 0, out: execFileSync(process.execPath, [XK, 'run', exe], { encoding: 'utf8' }) };
    } catch (e) {
      const x = e as { status: number; stdout: string };
      return { status: x.status, out: x.stdout };
    }
  })();
  assert.deepEqual(run, { status: 42, out: 'answer 42\n' });
});

test('compile errors are file:line:col: error: ... with exit status 1; usage errors exit 2', async () => {
  const bad = file('bad.c', 'int main(void) {\n  return undeclared + 1;\n}\n');
  let r = await xk(['cc', '-c', '-o', path.join(tmp, 'bad.o'), bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:2:10: error: 'undeclared' undeclared`));
  r = await xk(['cc', '--bogus', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = await xk(['cc']);
  assert.equal(r.status, 2);
  r = await xk(['cc', path.join(tmp, 'missing.c')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.c: No such file or directory/);
  const linkFail = file('nomain.c', 'int helper(void) { return 1; }\n');
  r = await xk(['cc', '-o', path.join(tmp, 'nomain'), linkFail]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /main/);
});

test('malformed C gets errors, never an internal error or a hang', () => {
  const cases: [string, RegExp][] = [
    ['int f( { return 1; }', /error: /],
    ['int main(void) { int x = ; }', /error: expected expression/],
    ['/* never closed', /unterminated comment/],
    ['char *s = "never closed;\n', /missing terminating/],
    ['int main(void) { return ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + '; }', /error: /],
    ['int main(void) { ' + '{'.repeat(3000) + '}'.repeat(3000) + ' }', /error: /],
    ['double d = 1.5;', /floating point/],
    ['struct s; struct s x;', /storage size/],
    ['int main(void) { int a[2]; a = 0; }', /error: /],
    ['#include "nosuch.h"\n', /nosuch\.h/],
    // macro calls nested in macro arguments: a clean error (once a heap overflow)
    ['#define A(x) x\nint main(void) { return ' + 'A('.repeat(2000) + '1' + ')'.repeat(2000) + '; }', /macro arguments nested too deeply/],
    ['int main(void) { return ' + '-'.repeat(100_000) + '1; }', /nesting too deep/],
    ['int a' + '[1]'.repeat(50_000) + ';', /too deeply nested|nesting too deep/],
    // 10 MB files that are not C
    ['/*' + ' '.repeat(10_000_000), /unterminated comment/],
    ['char *s = "' + 'a'.repeat(10_000_000), /missing terminating/],
    ['int main(void) { return 0 ' + '+ 1 '.repeat(250_000) + '; }', /expression too long/],
  ];
  const readFile = () => null;
  for (const [source, expected] of cases) {
    const r = compileC(source, 't.c', { includeDirs: [], defines: {}, optimize: 0, readFile });
    assert.equal(r.assembly, undefined, source.slice(0, 40));
    assert.ok(r.errors.length > 0);
    assert.doesNotMatch(r.errors.join('\n'), /internal compiler error/, source.slice(0, 40));
    assert.match(r.errors.join('\n'), expected, source.slice(0, 60));
  }
  // a large (~10 MB) file of good code compiles
  const big = Array.from({ length: 180_000 }, (_, i) => `int v${i} = ${i} * 3 + 1; /* padding padding padding */`).join('\n');
  const r = compileC(big + '\nint main(void) { return v7; }\n', 'big.c', { includeDirs: [], defines: {}, optimize: 0, readFile });
  assert.deepEqual(r.errors, []);
  assert.ok(big.length > 8_000_000);
});
