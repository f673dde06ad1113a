// The C parser (src/toolchain/cc/parser.ts): every C file in user/ parses
// through the real preprocessor without an error; static initializers are
// laid out byte for byte as gcc lays them out (gcc -c, then the .data bytes
// of each symbol); gcc's verdict (-fsyntax-only) on good and bad snippets is
// ours; errors have gcc's form and the parser recovers after them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Preprocessor } from '../src/toolchain/cc/preprocessor.js';
import { parse } from '../src/toolchain/cc/parser.js';
import type { TranslationUnit } from '../src/toolchain/cc/ast.js';

const root = process.cwd();

function readFile(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

interface Result {
  unit: TranslationUnit;
  errors: string[];
  warnings: string[];
}

function parseSource(source: string, file = 't.c', includeDirs: string[] = []): Result {
  const warnings: string[] = [];
  const errors: string[] = [];
  const pp = new Preprocessor({ includeDirs, defines: {}, readFile, warn: (t) => warnings.push(t) });
  const tokens = pp.preprocessFile(source, file);
  const unit = parse(tokens, {
    warn: (at, m) => warnings.push(`${at.file}:${at.line}:${at.col}: warning: ${m}`),
    error: (e) => errors.push(e.message),
  });
  return { unit, errors, warnings };
}

function cFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...cFiles(p));
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out;
}

test('every C file under user/ parses with no error', () => {
  const files = cFiles(path.join(root, 'user')).filter((f) => !f.includes('/gen/'));
  assert.ok(files.length > 20);
  for (const f of files) {
    const r = parseSource(fs.readFileSync(f, 'utf8'), f, [path.join(root, 'user/include'), path.dirname(f)]);
    assert.deepEqual(r.errors, [], f);
    assert.ok(r.unit.functions.length > 0, f);
  }
});

// Global definitions whose bytes gcc and xk cc must agree on.
const STATIC_INITS = `
struct P { char c; int x; short s[3]; long l; };
struct B { unsigned a : 3, b : 5; int c : 7; unsigned char d; int e : 12; };
union U { int i; char c[6]; };
struct N { struct P p; union U u; int tail[2]; };
struct A { int k; union { int ui; char uc; }; struct { short s1, s2; }; };
int i1 = 42;
long l1 = -1L << 40;
unsigned char uc = 300;
short sh = -7;
int arr[6] = { 1, 2, [4] = 9, 10 };
int grow[] = { [3] = 1, 2, 3 };
char str[10] = "hi\\tyou";
char str2[] = "abc" "def";
char str3[3] = "abc";
struct P p1 = { 'a', 100, { 1, 2 }, 0x123456789 };
struct P p2 = { .l = 7, .s[1] = 5, .c = 'z' };
struct B b1 = { 5, 17, -3, 200, -100 };
struct B b2 = { .e = 2047, .a = 7 };
union U u1 = { 0x01020304 };
union U u2 = { .c = "xyzw" };
struct N n1 = { { 1, 2, { 3 } }, { 5 }, { 6, 7 } };
struct N n2 = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
struct A a1 = { 1, .uc = 'q', .s2 = 9 };
int mat[2][3] = { 1, 2, 3, { 4 } };
int mat2[][2] = { { 1 }, 2, 3, [3][1] = 8 };
enum E { EA = 3, EB, EC = EA * 10 };
int en[] = { EA, EB, EC, sizeof(struct P), _Alignof(struct B), (char)511, 7 / 2, -7 % 3, 1 ? 4 : 5 };
unsigned long big = 0xffffffffffffffff;
int ranged[8] = { [2 ... 5] = 4 };
struct P parr[2] = { [1].x = 3, [0] = { .s = { 9, 9, 9 } } };
_Bool bo = 5;
long cmp = (long)(3 > 2) + (1 << 3) + ~0u;
`;

test('static initializers have the bytes gcc gives them', () => {
  const r = parseSource(STATIC_INITS);
  assert.deepEqual(r.errors, []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ccparse-'));
  try {
    const c = path.join(dir, 'g.c');
    const o = path.join(dir, 'g.o');
    fs.writeFileSync(c, STATIC_INITS);
    execFileSync('gcc', ['-w', '-c', '-fno-common', '-o', o, c]);
    const data = path.join(dir, 'data.bin');
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.data', o, data]);
    const bytes = fs.readFileSync(data);
    const symbols = execFileSync('nm', ['-S', '--defined-only', o]).toString().trim().split('\n');
    let checked = 0;
    for (const line of symbols) {
      const [off, size, kind, name] = line.split(/\s+/);
      if (kind.toLowerCase() !== 'd') continue;
      const g = r.unit.globals.find((v) => v.symbol === name);
      assert.ok(g?.init, `xk cc has ${name} with an initializer`);
      const theirs = [...bytes.subarray(parseInt(off, 16), parseInt(off, 16) + parseInt(size, 16))];
      assert.deepEqual([...g.init.bytes], theirs, name);
      checked++;
    }
    assert.ok(checked >= 25, `checked ${checked}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Snippets gcc -fsyntax-only accepts (exit 0) or rejects: we must agree.
const SNIPPETS: string[] = [
  'int f(int (*g)(int, char *), int a[static 3]) { return g(a[0], (char *)0); }',
  'typedef int T; int f(void) { T T = 3; return T * 2; }',
  'typedef int T; int f(void) { T *p = 0; { int T = 2; return T * 2; } }',
  'int (*fp(int x))(long) { return 0; } void *q = (void *)(unsigned long)sizeof(int (*[3])(void));',
  'struct S { int a; struct { int b; union { int c; char d; }; }; int bf : 3; }; int g(struct S *s) { return s->a + s->b + s->c + s->d + s->bf; }',
  'int f(int n) { int r = 0; switch (n) { case 1: r = 1; case 2 ... 5: r++; break; default: goto out; } out: return r; }',
  'int f(void) { int a[3] = {1,2,3}; int *p = a; return p[1] + *(p + 2) + 2[a] + (a + 1 == p + 1); }',
  'struct P { int x, y; }; int f(void) { struct P *p = &(struct P){ .y = 2 }; return p->y + ((int[]){1,2,3})[2]; }',
  'int f(int x) { return ({ int y = x * 2; y + 1; }) + (x ?: 3); }',
  'int f(int x) { __asm__ volatile ("addl %1, %0" : "+r"(x) : "ri"(1) : "cc"); return x; }',
  '__asm__(".globl foo\\nfoo: ret"); _Static_assert(sizeof(long) == 8, "lp64");',
  'int f(long a, ...) __attribute__((noreturn)); __attribute__((aligned(16))) int v; static inline int g(void) { return _Alignof(v); }',
  'int f(void) { int i, s = 0; for (int j = 0; j < 10; j++) { if (j & 1) continue; s += j; } do s--; while (s > 3); while (1) break; return s; }',
  'int f(int x) { x <<= 2; x >>= 1; x |= 1; x ^= 3; x &= 7; x %= 5; x /= 2; x *= 3; x -= 1; x += 1; return x-- + --x + x++ + ++x; }',
  'int f(unsigned a, int b) { return a > b ? a && b : !a || ~b; }',
  'enum E { A, B = 5, C, }; enum E e = C; int f(void) { return sizeof(enum E) + C; }',
  '#include <stdarg.h>\nint f(int n, ...) { va_list ap; va_start(ap, n); int x = va_arg(ap, int); va_end(ap); return x; }',
  '#include <stddef.h>\nstruct S { char c; long l; }; int f(void) { return offsetof(struct S, l); }',
  'int f(int *p) { return __atomic_exchange_n(p, 1, 5); }',
  'char *s = "a" "b"; const char *t[] = { "x", "y", 0 }; int (*tab[2])(void);',
  'struct L; struct L *mk(void); struct L { struct L *next; int v; }; int f(struct L *l) { return l->next->v; }',
  'int f(void) { char c = -1; unsigned char u = 255; return c == u; }',
  // errors
  'int f(void) { return x; }',
  'int f(void) { int a; a(); }',
  'int g(int, int); int f(void) { return g(1); }',
  'int g(int); int f(void) { return g(1, 2); }',
  'int f(void) { return 1 +; }',
  'int f(void) { struct S s; return 0; }',
  'struct S { int a; }; int f(struct S s) { return s.b; }',
  'int f(void) { int x = 1 return x; }',
  'int f(void) { break; }',
  'int f(void) { goto nowhere; }',
  'int f(int x) { switch (x) { case 1: case 1: return 0; } return 1; }',
  'void f(void) { int a[2]; a = 0; }',
  'int f(void) { const int c = 1; c = 2; return c; }',
  '_Static_assert(1 == 2, "nope");',
  'int f(void) { int x; int x; return 0; }',
  'int f(void) { struct { int a; } s; int i = s; return i; }',
  'int f(void) { int *p; return *p.x; }',
  'int a = 1; int a = 2;',
  'int f(void) { int a[-1]; return 0; }',
  'int f(void) { return 08; }',
  'int f(void) { 3 = 4; return 0; }',
  'int f(void) { int i = 0; return &i++ != 0; }',
];

test('the parser accepts exactly what gcc -fsyntax-only accepts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ccparse-'));
  try {
    SNIPPETS.forEach((s, k) => {
      const c = path.join(dir, `s${k}.c`);
      fs.writeFileSync(c, s + '\n');
      let gccOk = true;
      let gccLine = 0;
      try {
        execFileSync('gcc', ['-std=gnu11', '-fsyntax-only', '-w', c], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        gccOk = false;
        const m = /:(\d+):\d+: error/.exec((e as { stderr: Buffer }).stderr.toString());
        gccLine = m ? Number(m[1]) : 0;
      }
      const r = parseSource(s + '\n', c);
      assert.equal(r.errors.length === 0, gccOk, `${s}\ngcc ${gccOk ? 'accepts' : 'rejects'}; xk cc: ${r.errors.join(' | ') || 'accepts'}`);
      if (!gccOk) {
        assert.match(r.errors[0], new RegExp(`^${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: error: `));
        assert.equal(Number(/:(\d+):/.exec(r.errors[0])![1]), gccLine, s);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('messages follow gcc for common mistakes', () => {
  const cases: [string, string][] = [
    ['int f(void) { return x; }', "t.c:1:22: error: 'x' undeclared (first use in this function)"],
    ['int f(void) { int a; a(); }', "error: called object 'a' is not a function or function pointer"],
    ['int g(int, int); int f(void) { return g(1); }', "error: too few arguments to function 'g'"],
    ['int g(int); int f(void) { return g(1, 2); }', "error: too many arguments to function 'g'"],
    ['int f(void) { return 1 +; }', "t.c:1:25: error: expected expression before ';'"],
    ['struct S { int a; }; int f(struct S s) { return s.b; }', "error: 'struct S' has no member named 'b'"],
    ['int f(void) { break; }', 'error: break statement not within loop or switch'],
    ['int f(void) { goto nowhere; }', "error: label 'nowhere' used but not defined"],
    ['_Static_assert(1 == 2, "nope");', 'error: static assertion failed: "nope"'],
    ['int f(void) { return 1.5; }', 'floating point is not supported'],
  ];
  for (const [src, want] of cases) {
    const r = parseSource(src);
    assert.ok(r.errors.some((e) => e.includes(want)), `${src}: ${r.errors.join(' | ')}`);
  }
  const w = parseSource('int *p; char *q; void f(void) { p = q; } __attribute__((frobnicate)) int z;');
  assert.deepEqual(w.errors, []);
  assert.ok(w.warnings.some((m) => m.includes("assignment to 'int *' from incompatible pointer type 'char *'")), w.warnings.join('\n'));
  assert.ok(w.warnings.some((m) => m.includes("'frobnicate' attribute directive ignored")), w.warnings.join('\n'));
});

test('after an error the parser recovers and reports the later ones', () => {
  const r = parseSource('int f(void) { int x = ; return 0; }\nint g(void) { return y; }\nint h(void) { return 3; }\n');
  assert.equal(r.errors.length, 2, r.errors.join('\n'));
  assert.match(r.errors[0], /^t\.c:1:/);
  assert.match(r.errors[1], /^t\.c:2:.*'y' undeclared/);
  assert.ok(r.unit.functions.some((f) => f.variable.name === 'h'));
});

test('deep nesting is an error, not a stack overflow', () => {
  const deep = 'int f(void) { return ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000) + '; }';
  const r = parseSource(deep);
  assert.equal(r.errors.length >= 1, true);
  assert.match(r.errors[0], /nesting too deep/);
  const blocks = 'void f(void) ' + '{'.repeat(5000) + '}'.repeat(5000);
  assert.match(parseSource(blocks).errors[0], /nesting too deep/);
  const unary = 'int f(void) { return ' + '-'.repeat(100_000) + '1; }';
  assert.match(parseSource(unary).errors[0], /nesting too deep/);
});

test('the tree carries the types and conversions the code generator needs', () => {
  const r = parseSource('long f(char c, int *p) { return c + p[2]; }');
  const ret = r.unit.functions[0].body.stmts![0];
  assert.equal(ret.kind, 'return');
  assert.equal(ret.lhs!.kind, 'cast'); // int -> long
  assert.equal(ret.lhs!.type!.kind, 'long');
  const add = ret.lhs!.lhs!;
  assert.equal(add.kind, 'add');
  assert.equal(add.lhs!.kind, 'cast'); // char promoted to int
  assert.equal(add.rhs!.kind, 'deref');
  assert.equal(add.rhs!.lhs!.rhs!.value, 8n); // index scaled by sizeof(int)
});
