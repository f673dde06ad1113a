// Helpers for the kernel tests: build small user programs with GNU as + ld (the
// oracle toolchain) against the generated user/usys.S, and run them on xk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateUsys } from '../src/build/generateUserStubs.js';
import { runToCompletion, startSession, type Session, type SessionOptions } from '../src/kernel/boot/session.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { kernelMonitor, spawnVm, type SpawnVmOptions } from '../src/vmm/kernelProcess.js';
import { vmStateCodec } from '../src/vmm/vmStateCodec.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';

/** Assemble and link an assembly program (entry _start) with the system-call stubs. */
export function buildAsmProgram(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'xk-prog-'));
  try {
    writeFileSync(join(dir, 'prog.s'), source);
    writeFileSync(join(dir, 'usys.s'), generateUsys());
    execFileSync('as', ['--64', '-o', join(dir, 'prog.o'), join(dir, 'prog.s')]);
    execFileSync('as', ['--64', '-o', join(dir, 'usys.o'), join(dir, 'usys.s')]);
    execFileSync('ld', ['-static', '-nostdlib', '-e', '_start', '-Ttext', '0x400000', '-o', join(dir, 'prog'),
      join(dir, 'prog.o'), join(dir, 'usys.o')]);
    return new Uint8Array(readFileSync(join(dir, 'prog')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A tiny C runtime for gcc-built test programs: _start calls main(argc, argv) then exit. */
const CRT0 = `
  .text
  .globl _start
_start:
  andq $-16, %rsp
  call main
  mov %eax, %edi
  call exitstatus
1: jmp 1b
`;

/** Compile C sources (freestanding; prototypes from the test) with gcc and link with crt0 + stubs. */
export function buildCProgram(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'xk-cprog-'));
  try {
    writeFileSync(join(dir, 'prog.c'), source);
    writeFileSync(join(dir, 'crt0.s'), CRT0);
    writeFileSync(join(dir, 'usys.s'), generateUsys());
    execFileSync('gcc', ['-c', '-O1', '-ffreestanding', '-fno-pic', '-fno-pie', '-fno-stack-protector', '-mno-sse',
      '-mno-mmx', '-mno-80387', '-fno-builtin', '-o', join(dir, 'prog.o'), join(dir, 'prog.c')]);
    execFileSync('as', ['--64', '-o', join(dir, 'crt0.o'), join(dir, 'crt0.s')]);
    execFileSync('as', ['--64', '-o', join(dir, 'usys.o'), join(dir, 'usys.s')]);
    execFileSync('ld', ['-static', '-nostdlib', '-e', '_start', '-Ttext', '0x400000', '-o', join(dir, 'prog'),
      join(dir, 'crt0.o'), join(dir, 'prog.o'), join(dir, 'usys.o')]);
    return new Uint8Array(readFileSync(join(dir, 'prog')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Build a program the way XK links its user programs: gcc, then
 * `ld -N -Ttext 0 -e main` (one RWX segment at address 0, no crt0: main is the entry).
 */
export function buildXkLinkedProgram(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'xk-xkprog-'));
  try {
    writeFileSync(join(dir, 'prog.c'), source);
    writeFileSync(join(dir, 'usys.s'), generateUsys());
    execFileSync('gcc', ['-c', '-O1', '-ffreestanding', '-fno-pic', '-fno-pie', '-fno-stack-protector', '-mno-sse',
      '-mno-mmx', '-mno-80387', '-fno-builtin', '-fcf-protection=none', '-o', join(dir, 'prog.o'), join(dir, 'prog.c')]);
    execFileSync('as', ['--64', '-o', join(dir, 'usys.o'), join(dir, 'usys.s')]);
    execFileSync('ld', ['-N', '-Ttext', '0', '-e', 'main', '-o', join(dir, 'prog'), join(dir, 'prog.o'), join(dir, 'usys.o')],
      { stdio: ['ignore', 'ignore', 'ignore'] }); // ld warns about the RWX segment, as it does for XK
    return new Uint8Array(readFileSync(join(dir, 'prog')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** XK's own declarations (its user.h): exit and wait take no argument. */
export const XK_PROTOTYPES = `
int fork(void); void exit(void) __attribute__((noreturn)); int wait(void); int pipe(int*);
int read(int, void*, int); int write(int, const void*, int); int getpid(void); char *sbrk(int);
int open(const char*, int); int close(int);
struct sys_info { int pages_in_use, pages_in_swap, free_pages, num_page_faults, num_disk_reads; };
int sysinfo(struct sys_info*);
static int strlen(const char *s) { int n = 0; while (s[n]) n++; return n; }
static void puts(const char *s) { write(1, s, strlen(s)); }
static void putint(long v) { char b[24]; int i = 23; b[i] = 0; int neg = v < 0; if (neg) v = -v;
  do { b[--i] = '0' + v % 10; v /= 10; } while (v); if (neg) b[--i] = '-'; puts(b + i); }
`;

export interface ProgramRun {
  status: number | null;
  message: string;
  output: string;
  events: TraceEvent[];
}

/** Run `image` as the first process on a fresh xk. */
export async function runProgram(
  image: Uint8Array,
  argv: string[] = ['prog'],
  extra: Partial<SessionOptions> = {},
): Promise<ProgramRun> {
  let output = '';
  const events: TraceEvent[] = [];
  const { status, message } = await runToCompletion({
    program: { path: argv[0], image, argv },
    memoryBytes: 16 * 1024 * 1024,
    monitor: kernelMonitor, // as `xk run` boots it: vmrun works
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    trace: extra.trace ?? ((e) => events.push(e)),
    ...extra,
  });
  return { status, message, output, events };
}

/** C declarations of the system calls for the test programs. */
export const C_PROTOTYPES = `
int fork(void); int exit(void); int wait(void); int exitstatus(int); int waitstatus(int*); int pipe(int*); int read(int, void*, int);
int kill(int); int exec(const char*, char**); int fstat(int, void*); int chdir(const char*);
int dup(int); int getpid(void); char *sbrk(int); int sleep(int); int uptime(void);
int open(const char*, int); int write(int, const void*, int); int mknod(const char*, int, int);
int unlink(const char*); int link(const char*, const char*); int mkdir(const char*); int close(int);
static int strlen(const char *s) { int n = 0; while (s[n]) n++; return n; }
static void puts(const char *s) { write(1, s, strlen(s)); }
static void putint(long v) { char b[24]; int i = 23; b[i] = 0; int neg = v < 0; if (neg) v = -v;
  do { b[--i] = '0' + v % 10; v /= 10; } while (v); if (neg) b[--i] = '-'; puts(b + i); }
`;

/**
 * Boot the kernel with the C program `initSource` as init and `programs` on its file system
 * (the VM monitor as `xk run` has it), run it to the end (at most `maxInstructions`), check
 * that init exited 0, then hand the console output and the session to `check` before closing.
 */
export async function runInitToEnd(
  initSource: string,
  programs: Map<string, Uint8Array>,
  maxInstructions: number,
  check: (output: string, session: Session) => void,
): Promise<void> {
  let output = '';
  const session = await startSession({
    program: { path: 'init', image: buildCProgram(initSource), argv: ['init'] },
    programs,
    memoryBytes: 32 * 1024 * 1024,
    monitor: kernelMonitor,
    output: (x) => { output += Buffer.from(x).toString('latin1'); },
  });
  try {
    runSessionToEnd(session, maxInstructions, () => output);
    assert.equal(session.kernel.exitStatus, 0, session.stopMessage() + '\n' + output);
    check(output, session);
  } finally {
    session.close();
  }
}

/** Run `session` to its end, a million instructions at a time, at most `maxInstructions` (`output`: what to show if it runs on). */
export function runSessionToEnd(session: Session, maxInstructions: number, output: () => string): void {
  let ran = 0;
  while (!session.run(1_000_000)) {
    ran += 1_000_000;
    assert.ok(ran < maxInstructions, `still running; output so far: ${output()}`);
  }
}

/**
 * Boot xk with its vm program running `file` (a guest image or a VM state, among `files` on its
 * file system) under the kernel's monitor with `options` and 16 MiB of guest memory; run to the
 * end. The console output, and the guest's serial output on its own.
 */
export async function runVmUnderKernel(files: Map<string, Uint8Array>, file: string, options: Omit<SpawnVmOptions, 'parent'>, maxInstructions = 200_000_000): Promise<{ console: string; serial: string }> {
  let console = '', serial = '';
  const programs = new Map(buildUserPrograms());
  for (const [n, b] of files) programs.set(n, b);
  const session = await startSession({
    program: { path: 'vm', image: programs.get('vm')!, argv: ['vm', file] },
    programs,
    memoryBytes: 64 * 1024 * 1024,
    monitor: (memory) => ({ spawn: (k, elf, name, parent) => spawnVm(k, memory, elf, name, { ...options, parent, states: vmStateCodec, memoryMiB: 16, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } }) }),
    output: (b) => { console += Buffer.from(b).toString('latin1'); },
  });
  try {
    runSessionToEnd(session, maxInstructions, () => console);
    return { console, serial };
  } finally {
    session.close();
  }
}
