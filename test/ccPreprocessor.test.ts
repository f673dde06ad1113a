// xk cc's preprocessor and lexer (src/toolchain/cc): the token sequence it
// produces equals gcc -E's for the same source (gcc is the oracle), and
// malformed input gets a file:line:col error, never a host exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Preprocessor } from '../src/toolchain/cc/preprocessor.js';
import { tokenize } from '../src/toolchain/cc/lexer.js';
import { CompileError } from '../src/toolchain/cc/diagnostics.js';
import * as os from 'node:os';
import { USER_DIR } from './helpers/userBuild.js';
import { BUILTIN_HEADERS } from '../src/toolchain/cc/builtinHeaders.js';

// gcc sees xk cc's own freestanding headers (stdarg.h ...) instead of its own.
const headerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-cc-pp-'));
process.on('exit', () => fs.rmSync(headerDir, { recursive: true, force: true }));
for (const [name, text] of Object.entries(BUILTIN_HEADERS)) fs.writeFileSync(path.join(headerDir, name), text);

function ours(source: string, file = 'in.c'): string[] {
  const pp = new Preprocessor({
    includeDirs: [path.join(USER_DIR, 'include')],
    defines: {},
    readFile: (p) => (fs.existsSync(p) && fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : null),
    warn: () => {},
  });
  return pp.preprocessFile(source, file).filter((t) => t.kind !== 'eof').map((t) => t.text);
}

/** gcc -E's tokens (line markers dropped), re-split with our lexer. */
function gccTokens(source: string): string[] {
  const out = execFileSync('gcc', ['-E', '-P', '-undef', '-I', path.join(USER_DIR, 'include'), '-x', 'c', '-'], { input: source }).toString();
  return tokenize(out, 'gcc').filter((t) => t.kind !== 'eof').map((t) => t.text);
}

const CASES = [
  '#define A 1\n#define B (A + 2)\nint x = B * A;',
  '#define F(a, b) a ## b\n#define S(x) #x\nint F(foo, bar) = 3; char *s = S(  hello   "w\\n" world );',
  '#define x x + 1\nint y = x;\n#define f(a) a * g\n#define g f\nint z = f(2)(9);',
  '#define E(...) f(0, ##__VA_ARGS__)\nE(); E(1, 2);\n#define V(fmt, ...) p(fmt, __VA_ARGS__)\nV("a", 1, 2);',
  '#if 1 + 2 * 3 == 7 && defined(FOO) == 0\nyes\n#elif 1\nno\n#else\nno2\n#endif\n#ifdef BAR\nbad\n#endif\n#ifndef BAR\nok\n#endif',
  '#define STR2(x) #x\n#define STR(x) STR2(x)\n#define N 29\nchar *t = "movl $" STR(N) ", %eax";',
  '#if 0\n#if 1\nnested\n#else\nx\n#endif\n#elif (3 > 2) ? 0 : 1\nz\n#else\nelse\n#endif',
  'int a = __LINE__;\n\nint b = __LINE__;',
  '#define CAT(a,b) a##b\n#define XCAT(a,b) CAT(a,b)\nint XCAT(x, __LINE__) = CAT(1, 2);',
  'int long_line = 1 + \\\n 2;\nint after = __LINE__;',
];

test('preprocessor output matches gcc -E token for token', () => {
  for (const c of CASES) assert.deepEqual(ours(c), gccTokens(c), c);
});

test('every header and C file in user/ preprocesses as gcc -E does', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== 'gen') walk(p);
      else if (e.name.endsWith('.c')) files.push(p);
    }
  };
  walk(USER_DIR);
  assert.ok(files.length > 20);
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    const theirs = execFileSync('gcc', ['-E', '-P', '-undef', '-nostdinc', '-isystem', headerDir, '-D__x86_64__', '-D__ATOMIC_RELAXED=0', '-D__ATOMIC_ACQUIRE=2', '-D__ATOMIC_RELEASE=3', '-D__ATOMIC_SEQ_CST=5', '-I', path.join(USER_DIR, 'include'), f]).toString();
    const want = tokenize(theirs, 'gcc').filter((t) => t.kind !== 'eof').map((t) => t.text);
    // __FILE__ differs only in the path spelling.
    const got = ours(src, f).map((t) => t);
    assert.equal(got.length, want.length, f);
    got.forEach((t, i) => { if (!t.startsWith('"/') && !want[i].startsWith('"/')) assert.equal(t, want[i], `${f} token ${i}`); });
  }
});

test('malformed input: an error with file:line:col, never a host exception or hang', () => {
  const bad: [string, RegExp][] = [
    ['int x; /* never closed', /^in\.c:1:8: error: unterminated comment/],
    ['char *s = "abc\n";', /^in\.c:1:11: error: missing terminating " character/],
    ['#if 1\nint x;\n', /^in\.c:1:1: error: unterminated conditional directive/],
    ['#endif', /error: #endif without #if/],
    ['#define F(a) a\nF(1, 2)', /^in\.c:2:1: error: macro "F" passed 2 arguments, but takes just 1/],
    ['#include "nosuch.h"', /^in\.c:1:2: error: nosuch\.h: No such file or directory/],
    ['#error stop here', /error: #error stop here/],
    ['#if 1 / 0\n#endif', /division by zero in #if/],
    ['#if 1.5\n#endif', /floating constant/],
    ['#foo', /invalid preprocessing directive #foo/],
    ['int @;', /stray '@' in program/],
    ['#if ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + '\n#endif', /nested too deeply/],
  ];
  for (const [src, re] of bad) {
    assert.throws(() => ours(src), (e: unknown) => e instanceof CompileError && re.test(e.message), src.slice(0, 40));
  }
  // A 10 MB file of junk finishes with an error or tokens, quickly enough to return at all.
  const junk = 'int a' + ' = 1 + x'.repeat(1_300_000) + ';';
  assert.ok(ours(junk).length > 1_000_000);
});
