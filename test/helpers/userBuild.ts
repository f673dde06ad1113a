// Builds the user library, programs and user tests with gcc + GNU ld (the
// commands user/BUILD.md describes), for tests that need real user binaries.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is dist/test/helpers/userBuild.js or test/helpers/userBuild.ts). */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('userBuild: cannot find the repository root');
    dir = up;
  }
  return dir;
})();

export const USER_DIR = path.join(REPO_ROOT, 'user');
export const USER_TEXT_BASE = 0x400000;

export const CFLAGS = [
  '-ffreestanding', '-fno-pic', '-fno-pie', '-fno-stack-protector', '-fcf-protection=none',
  '-fno-asynchronous-unwind-tables', '-mno-sse', '-mno-mmx', '-mno-80387',
  '-O1', '-Wall', '-Werror', '-std=gnu11', '-I', path.join(USER_DIR, 'include'),
];

export const LDFLAGS = [
  '-static', '-nostdlib', '-e', '_start', '-Ttext', `0x${USER_TEXT_BASE.toString(16)}`,
  '-z', 'max-page-size=4096', '-z', 'noexecstack', '--build-id=none',
];

/** XK's system calls, used to write a usys.S when the kernel core's user/usys.S is missing. */
const XK_SYSCALLS = ['fork', 'exit', 'wait', 'pipe', 'read', 'kill', 'exec', 'fstat', 'chdir', 'dup', 'getpid', 'sbrk',
  'sleep', 'uptime', 'open', 'write', 'mknod', 'unlink', 'link', 'mkdir', 'close', 'sysinfo', 'crashn'];

function fallbackUsys(): string {
  return '  .text\n' + XK_SYSCALLS.map((name, i) =>
    `  .globl ${name}\n${name}:\n  movl $${i + 1}, %eax\n  int $64\n  ret\n`).join('');
}

function run(cmd: string, args: string[], cwd?: string): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(' ')}\n${err.stderr?.toString() ?? err.message}`);
  }
}

export interface UserBuild {
  /** Program name (file name without .c) -> path of the linked ELF executable. */
  programs: Map<string, string>;
  /** User test name -> path of the linked ELF executable. */
  tests: Map<string, string>;
  /** Whether user/usys.S came from the kernel core (false: a stand-in was generated). */
  usedRepoUsys: boolean;
}

function cFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.c')).sort() : [];
}

/** Compiles `sources` with one gcc run (fewer processes: faster on a busy machine); returns the objects. */
export function compileAll(sources: string[], objDir: string, extraFlags: string[] = []): string[] {
  const objects = sources.map((src) => path.join(objDir, path.basename(src).replace(/\.[cS]$/, '.o')));
  if (new Set(objects).size !== objects.length) throw new Error('userBuild: two sources with the same file name');
  if (sources.length > 0) run('gcc', [...CFLAGS, ...extraFlags, '-c', ...sources], objDir);
  return objects;
}

/** Compiles and links every user program and user test into `outDir`. */
export function buildUserProgramsWithGcc(outDir: string): UserBuild {
  const obj = path.join(outDir, 'obj');
  fs.mkdirSync(obj, { recursive: true });
  const repoUsys = path.join(USER_DIR, 'usys.S');
  const usedRepoUsys = fs.existsSync(repoUsys);
  let usys = repoUsys;
  if (!usedRepoUsys) {
    usys = path.join(outDir, 'usys.S');
    fs.writeFileSync(usys, fallbackUsys());
  }
  const lib = path.join(USER_DIR, 'lib');
  const [crt0, ...libObjs] = compileAll([path.join(lib, 'crt0.S'), usys, ...cFiles(lib).map((c) => path.join(lib, c))], obj);
  const archive = path.join(obj, 'libulib.a');
  fs.rmSync(archive, { force: true });
  run('ar', ['rcs', archive, ...libObjs]);

  const programDir = path.join(USER_DIR, 'programs');
  const testDir = path.join(USER_DIR, 'tests');
  const sources = [...cFiles(programDir).map((c) => path.join(programDir, c)), ...cFiles(testDir).map((c) => path.join(testDir, c))];
  const objects = compileAll(sources, obj);
  const programs = new Map<string, string>();
  const tests = new Map<string, string>();
  sources.forEach((src, i) => {
    const name = path.basename(src, '.c');
    const exe = path.join(outDir, name);
    run('ld', [...LDFLAGS, '-o', exe, crt0, objects[i], archive]);
    (path.dirname(src) === testDir ? tests : programs).set(name, exe);
  });
  return { programs, tests, usedRepoUsys };
}
