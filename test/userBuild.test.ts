// User space builds with gcc + GNU ld into static ELF64 executables at the
// user text base, and its C library and tools behave like the host's: the same
// sources are linked against a tiny Linux system-call shim and run natively,
// with the host's grep, wc and printf as oracles.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUserProgramsWithGcc, CFLAGS, compileAll, USER_DIR, USER_TEXT_BASE } from './helpers/userBuild.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-user-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const PROGRAMS = ['cat', 'echo', 'grep', 'init', 'kill', 'ln', 'ls', 'mkdir', 'rm', 'sh', 'vm', 'wc'];
const TESTS = ['filetest', 'proctest', 'sbrktest', 'writers'];

test('every user program and user test compiles and links with gcc + ld', () => {
  const build = buildUserProgramsWithGcc(path.join(tmp, 'xk'));
  assert.deepEqual([...build.programs.keys()], PROGRAMS);
  assert.deepEqual([...build.tests.keys()], TESTS);
  const exes = [...build.programs.values(), ...build.tests.values()];
  // One run of each tool over all executables (few processes: the machine may be busy).
  const headers = execFileSync('readelf', ['-h', '-l', ...exes]).toString().split(/^File: /m).slice(1);
  const symbols = execFileSync('nm', exes).toString().split(/^\n?\/.*:$/m).slice(1);
  const code = execFileSync('objdump', ['-d', ...exes], { maxBuffer: 1 << 28 }).toString();
  assert.equal(headers.length, exes.length);
  assert.equal(symbols.length, exes.length);
  exes.forEach((exe, i) => {
    const header = headers[i];
    assert.ok(header.startsWith(exe));
    assert.match(header, /Class:\s+ELF64/);
    assert.match(header, /Type:\s+EXEC/);
    assert.match(header, /Machine:\s+Advanced Micro Devices X86-64/);
    assert.doesNotMatch(header, /INTERP|DYNAMIC/, `${exe} is static`);
    const entry = Number(/Entry point address:\s+(0x[0-9a-f]+)/.exec(header)![1]);
    assert.ok(entry >= USER_TEXT_BASE && entry < USER_TEXT_BASE + 0x100000, `${exe} entry ${entry.toString(16)}`);
    // _start is crt0's: argc/argv arrive in %rdi/%rsi, main's result goes to exit.
    assert.match(symbols[i], new RegExp(`0*${entry.toString(16)} T _start`));
    assert.match(symbols[i], / T exit\n/);
  });
  // Only system calls through int $64: no syscall/sysenter; no SSE/x87/CET instructions.
  assert.doesNotMatch(code, /\s(syscall|sysenter)\s/);
  assert.doesNotMatch(code, /%xmm|%st\b|endbr64/);
  assert.match(code, /int\s+\$0x40/);
});

// ---------------------------------------------------------------- running natively on the host

const HOST_START = `
  .text
  .globl _start
_start:
  movq (%rsp), %rdi          # Linux passes argc and argv on the stack
  leaq 8(%rsp), %rsi
  andq $-16, %rsp
  call main
  movl %eax, %edi
  call exitstatus
  .globl host_syscall
host_syscall:                # host_syscall(n, a, b, c)
  movq %rdi, %rax
  movq %rsi, %rdi
  movq %rdx, %rsi
  movq %rcx, %rdx
  syscall
  ret
  .section .note.GNU-stack, "", @progbits
`;

const HOST_SHIM = `
#include "user.h"
long host_syscall(long n, long a, long b, long c);
int read(int fd, void *buf, int n) { return host_syscall(0, fd, (long)buf, n); }
int write(int fd, const void *buf, int n) { return host_syscall(1, fd, (long)buf, n); }
int close(int fd) { return host_syscall(3, fd, 0, 0); }
int fstat(int fd, struct stat *st) { return -1; }   /* Linux's struct stat differs; unused here */
int open(const char *path, int flags) {
  return host_syscall(2, (long)path, (flags & 3) | ((flags & 0x200) ? 0x40 : 0), 0644);
}
void exitstatus(int status) { for (;;) host_syscall(231, status, 0, 0); }
void exit(void) { exitstatus(0); }
static char arena[1 << 22];
static long brk;
char *sbrk(int n) {
  if (brk + n < 0 || brk + n > (long)sizeof(arena)) return (char *)-1;
  char *old = arena + brk;
  brk += n;
  return old;
}
`;

let hostLib: string[] | undefined;

/** Builds user sources with the user library, linked for Linux through the shim. */
function buildHost(name: string, sources: string[]): string {
  const dir = path.join(tmp, 'host');
  if (!hostLib) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'start.S'), HOST_START);
    fs.writeFileSync(path.join(dir, 'shim.c'), HOST_SHIM);
    hostLib = compileAll([path.join(dir, 'start.S'), path.join(dir, 'shim.c'),
      ...['string.c', 'printf.c', 'malloc.c', 'ulib.c'].map((f) => path.join(USER_DIR, 'lib', f))], dir);
  }
  const exe = path.join(dir, name);
  execFileSync('gcc', [...CFLAGS, '-static', '-nostdlib', '-o', exe, ...hostLib, ...sources], { stdio: ['ignore', 'pipe', 'pipe'] });
  return exe;
}

function runHost(exe: string, args: string[], input = ''): { out: string; status: number | null } {
  const r = spawnSync(exe, args, { input, cwd: tmp });
  return { out: r.stdout.toString('latin1'), status: r.status };
}

/** Seeded random numbers (a linear congruential generator). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

test('echo, cat and wc agree with the host', () => {
  const echo = buildHost('echo', [path.join(USER_DIR, 'programs', 'echo.c')]);
  assert.deepEqual(runHost(echo, ['hello', 'big', 'world']), { out: 'hello big world\n', status: 0 });
  const cat = buildHost('cat', [path.join(USER_DIR, 'programs', 'cat.c')]);
  const text = Array.from({ length: 300 }, (_, i) => `line ${i}\twith  some words ${'x'.repeat(i % 17)}`).join('\n') + '\n';
  fs.writeFileSync(path.join(tmp, 'text'), text);
  assert.deepEqual(runHost(cat, ['text', 'text']), { out: text + text, status: 0 });
  assert.deepEqual(runHost(cat, [], 'from stdin\n'), { out: 'from stdin\n', status: 0 });
  assert.equal(runHost(cat, ['missing']).status, 1);
  const wc = buildHost('wc', [path.join(USER_DIR, 'programs', 'wc.c')]);
  const ours = runHost(wc, ['text']).out.trim().split(/\s+/);
  const host = execFileSync('wc', ['-l', '-w', '-c', 'text'], { cwd: tmp }).toString().trim().split(/\s+/);
  assert.deepEqual(ours, host);
});

test('grep matches lines exactly as the host grep does (basic regular expressions)', () => {
  const grep = buildHost('grep', [path.join(USER_DIR, 'programs', 'grep.c')]);
  const rand = random(451);
  const pick = (s: string): string => s[Math.floor(rand() * s.length)];
  const lines = Array.from({ length: 200 }, () => Array.from({ length: Math.floor(rand() * 12) }, () => pick('abcab.')).join(''));
  const input = lines.join('\n') + '\n';
  fs.writeFileSync(path.join(tmp, 'lines'), input);
  for (let i = 0; i < 40; i++) {
    let pattern = rand() < 0.3 ? '^' : '';
    const atoms = 1 + Math.floor(rand() * 4);
    for (let a = 0; a < atoms; a++) pattern += pick('abc.') + (rand() < 0.35 ? '*' : '');
    if (rand() < 0.3) pattern += '$';
    const host = spawnSync('grep', ['-e', pattern, 'lines'], { cwd: tmp }).stdout.toString('latin1');
    assert.equal(runHost(grep, [pattern, 'lines']).out, host, `pattern ${pattern}`);
    if (i % 4 === 0) assert.equal(runHost(grep, [pattern], input).out, host, `pattern ${pattern} on stdin`);
  }
});

test('printf formats like the host C library', () => {
  const source = path.join(tmp, 'fmt.c');
  fs.writeFileSync(source, `
#include "user.h"
int main(void) {
  char *volatile nothing = 0;
  printf("%d %d %d %d|%u %u|%x %x|%c%c|%s %s|%%|%ld %ld %lu %lx %lld|%p\\n",
         0, 42, -42, -2147483647 - 1, 0u, 4294967295u, 0xdeadbeefu, 0u, 'o', 'k', "str", nothing,
         9223372036854775807L, -9223372036854775807L - 1, 18446744073709551615UL, 0x123456789abcdefUL, -5LL,
         (void *)0x401000);
  fprintf(2, "to %s\\n", "stderr");
  return 3;
}`);
  const exe = buildHost('fmt', [source]);
  const r = spawnSync(exe, []);
  assert.equal(r.stdout.toString(), '0 42 -42 -2147483648|0 4294967295|deadbeef 0|ok|str (null)|%|' +
    '9223372036854775807 -9223372036854775808 18446744073709551615 123456789abcdef -5|0x401000\n');
  assert.equal(r.stderr.toString(), 'to stderr\n');
  assert.equal(r.status, 3, 'main\'s result is the exit status');
});

test('string functions and malloc/free under a random workload', () => {
  const source = path.join(tmp, 'lib.c');
  fs.writeFileSync(source, `
#include "user.h"
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d\\n", __LINE__); return 1; } } while (0)
static unsigned seed = 7;
static unsigned next(void) { seed = seed * 1103515245 + 12345; return seed >> 8; }
int main(void) {
  char buf[32];
  CHECK(strlen("") == 0 && strlen("abc") == 3);
  CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("x", "x") == 0 && strcmp("ab", "abc") < 0);
  CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("a", "b", 0) == 0);
  CHECK(strcmp(strcpy(buf, "hello"), "hello") == 0 && strcmp(strcat(buf, "!"), "hello!") == 0);
  CHECK(strchr("hello", 'l') == (char *)"hello" + 2 || *strchr("hello", 'l') == 'l');
  CHECK(strchr("hello", 'z') == 0);
  CHECK(atoi("123") == 123 && atoi("-45x") == -45 && atoi("  +7") == 7 && atoi("x") == 0);
  strcpy(buf, "0123456789");
  memmove(buf + 2, buf, 5);
  CHECK(memcmp(buf, "0101234789", 10) == 0);
  memmove(buf, buf + 3, 5);
  CHECK(memcmp(buf, "1234734789", 10) == 0);
  memset(buf, 'z', 3);
  CHECK(memcmp(buf, "zzz4", 4) == 0);
  // malloc: random allocations and frees; every live block keeps its pattern.
  enum { N = 200 };
  char *p[N] = {0};
  unsigned size[N] = {0};
  for (int round = 0; round < 5000; round++) {
    int i = next() % N;
    if (p[i]) {
      for (unsigned j = 0; j < size[i]; j++) CHECK(p[i][j] == (char)(i + j));
      free(p[i]);
      p[i] = 0;
    } else {
      size[i] = next() % 3000 + 1;
      p[i] = malloc(size[i]);
      CHECK(p[i] != 0);
      CHECK(((unsigned long)p[i] & 15) == 0);
      for (unsigned j = 0; j < size[i]; j++) p[i][j] = (char)(i + j);
    }
  }
  for (int i = 0; i < N; i++) free(p[i]);
  char *big = malloc(3000000);
  CHECK(big != 0);
  printf("ok\\n");
  return 0;
}`);
  const exe = buildHost('lib', [source]);
  assert.deepEqual(runHost(exe, []), { out: 'ok\n', status: 0 });
});
