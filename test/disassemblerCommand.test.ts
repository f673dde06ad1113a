// `xk objdump -d` against GNU objdump -d on gcc-built code: the whole output
// (headers, symbol labels, address and byte columns, instruction text) must be
// identical, for a static executable and for an object file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { objdumpElf } from '../src/toolchain/disassembler/elfDisassembly.js';
import { objdumpCommand } from '../src/cli/objdumpCommand.js';

// Integer code touching many instruction forms: division, shifts, rotates, bit
// counts, byte/word sign and zero extension, switch tables, string loops, atomics.
const PROGRAM = `
typedef unsigned long u64; typedef long i64; typedef unsigned char u8; typedef short i16;
struct node { struct node *next; int key; short s; char c; long v[4]; };
static char buf[256];
long counter;
__attribute__((noinline)) static int popc(u64 x) { int n = 0; while (x) { x &= x - 1; n++; } return n; }
__attribute__((noinline)) int ctz(u64 x) { return x ? __builtin_ctzl(x) : 64; }
__attribute__((noinline)) int clz(u64 x) { return x ? __builtin_clzl(x) : 64; }
__attribute__((noinline)) i64 divs(i64 a, i64 b) { return b ? a / b + a % b : 0; }
__attribute__((noinline)) u64 divu(u64 a, u64 b) { return b ? a / b + a % b : 0; }
__attribute__((noinline)) i64 muls(i64 a, i64 b) { return a * b + (a * 37) - (b << 3) + (a >> 5) + ((u64)b >> 7); }
__attribute__((noinline)) u64 rot(u64 x, int n) { return (x << (n & 63)) | (x >> ((64 - n) & 63)); }
__attribute__((noinline)) u8 bytes(u8 a, u8 b) { return (u8)(a * b + (a ^ b)); }
__attribute__((noinline)) i16 shorts(i16 a, i16 b) { return (i16)(a * b - (a | b)); }
__attribute__((noinline)) long sext(int a, signed char c, short s) { return (long)a + c + s; }
__attribute__((noinline)) unsigned long zext(unsigned a, unsigned char c, unsigned short s) { return (unsigned long)a + c + s; }
__attribute__((noinline)) int sw(int x) { switch (x) { case 0: return 5; case 1: return 7; case 2: return 11; case 3: return 13; case 4: return 17; case 5: return 19; default: return -1; } }
__attribute__((noinline)) void fill(char *p, int c, u64 n) { for (u64 i = 0; i < n; i++) p[i] = (char)c; }
__attribute__((noinline)) long walk(struct node *n) { long t = 0; while (n) { t += n->key + n->s + n->c + n->v[n->key & 3]; n = n->next; } return t; }
__attribute__((noinline)) int flags(int a, int b) { return (a == b) + 2 * (a < b) + 4 * ((unsigned)a > (unsigned)b) + 8 * (a != 0); }
__attribute__((noinline)) u64 swap(u64 x) { return __builtin_bswap64(x) ^ __builtin_bswap32((unsigned)x); }
long atomic_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
int cas(int *p, int o, int n) { return __atomic_compare_exchange_n(p, &o, n, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
void fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
int main(int argc, char **argv) {
  struct node a = { 0, 3, 4, 5, {1,2,3,4} }, b = { &a, 7, -2, -3, {5,6,7,8} };
  fill(buf, argc, 100);
  long r = popc(argc) + ctz(argc) + clz(argc) + divs(argc, 3) + divu(argc, 7) + muls(argc, 9) + rot(argc, 3);
  r += bytes(argc, 3) + shorts(argc, 5) + sext(argc, -1, -2) + zext(argc, 200, 60000) + sw(argc) + walk(&b);
  r += flags(argc, 2) + swap(r) + atomic_add(&counter, 1) + cas((int *)&counter, 1, 2) + (argv != 0);
  fence();
  return (int)r;
}
void _start(void) { main(1, 0); for (;;) {} }
`;

const GCC = ['-ffreestanding', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-mgeneral-regs-only', '-fno-pic'];

function withTempDir<T>(body: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-objdump-'));
  try { return body(dir); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

for (const opt of ['-O0', '-O2']) {
  test(`xk objdump -d prints exactly what GNU objdump -d prints (gcc ${opt}, executable and object)`, () => {
    withTempDir((dir) => {
      const src = path.join(dir, 'prog.c');
      fs.writeFileSync(src, PROGRAM);
      const exe = path.join(dir, 'prog');
      const obj = path.join(dir, 'prog.o');
      execFileSync('gcc', [opt, ...GCC, '-no-pie', '-nostdlib', '-static', '-o', exe, src]);
      execFileSync('gcc', [opt, ...GCC, '-c', '-o', obj, src]);
      for (const file of [exe, obj]) {
        const want = execFileSync('objdump', ['-d', file], { encoding: 'utf8' });
        const got = objdumpElf(new Uint8Array(fs.readFileSync(file)), file);
        const wantLines = want.split('\n');
        const gotLines = got.split('\n');
        const diffs = wantLines.map((l, i) => [l, gotLines[i]]).filter(([a, b]) => a !== b).slice(0, 10);
        assert.deepEqual(diffs, [], `${path.basename(file)}: lines differ`);
        assert.equal(gotLines.length, wantLines.length);
      }
    });
  });
}

test('xk objdump reports a non-ELF file and a missing file without a stack trace', async () => {
  await withTempDir(async (dir) => {
    const junk = path.join(dir, 'junk');
    fs.writeFileSync(junk, 'not an elf file at all');
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => { errors.push(String(s)); return true; }) as typeof process.stderr.write;
    let status1: number, status2: number, status3: number;
    try {
      status1 = await objdumpCommand(['-d', junk]);
      status2 = await objdumpCommand(['-d', path.join(dir, 'missing')]);
      status3 = await objdumpCommand([junk]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(status1, 1);
    assert.equal(status2, 1);
    assert.equal(status3, 2);
    assert.match(errors[0], /^xk objdump: .*junk: /);
    assert.match(errors[1], /missing': No such file/);
    assert.ok(errors.every((e) => !e.includes('    at ')), 'no stack traces');
  });
});
