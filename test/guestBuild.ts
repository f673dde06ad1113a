// Builds the guest kernel (guest/*.S) into guest.elf, for the tests of the
// guest and of the monitor: with the GNU toolchain (gcc -c runs the C
// preprocessor for #include "defs.h", then GNU as; GNU ld links), the oracle.
// guestBuildXk.ts builds it with xk's own assembler and linker.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GUEST_DIR = path.join(REPO_ROOT, 'guest');

/** The guest's source files in link order: boot.S first, so that _start is at 0x100000. */
export const GUEST_SOURCES = ['boot.S', 'trap.S', 'proc.S', 'vm.S', 'timer.S', 'console.S', 'user.S'];

export interface GuestBuild {
  /** Temporary directory holding the objects (NAME.o) and the image. */
  dir: string;
  /** Path of guest.elf. */
  elfPath: string;
  elf: Uint8Array;
}

const cache = new Map<string, GuestBuild>();

/**
 * Assemble and link the guest once per process and set of defines (cached).
 * `defines` select benchmark workloads in guest/user.S (BENCH_COMPUTE, BENCH_SYSCALLS).
 */
export function buildGuest(defines: string[] = []): GuestBuild {
  const key = defines.join(' ');
  const cached = cache.get(key);
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-guest-'));
  const objects: string[] = [];
  for (const source of GUEST_SOURCES) {
    const object = path.join(dir, source.replace(/\.S$/, '.o'));
    execFileSync('gcc', ['-c', ...defines.map((d) => `-D${d}`), '-I', GUEST_DIR, path.join(GUEST_DIR, source), '-o', object], { stdio: 'pipe' });
    objects.push(object);
  }
  const elfPath = path.join(dir, 'guest.elf');
  execFileSync('ld', [
    '-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', ...objects, '-o', elfPath,
  ], { stdio: 'pipe' });
  const build = { dir, elfPath, elf: new Uint8Array(fs.readFileSync(elfPath)) };
  cache.set(key, build);
  return build;
}

/** Symbol addresses of the built image, from GNU nm. */
export function guestSymbols(build: GuestBuild): Map<string, number> {
  return symbolsOf(build.elfPath);
}

/** Symbol addresses of the ELF file at `elfPath`, from GNU nm. */
function symbolsOf(elfPath: string): Map<string, number> {
  const out = execFileSync('nm', [elfPath], { encoding: 'utf8' });
  const symbols = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = line.match(/^([0-9a-f]+) \S (\S+)$/);
    if (m) symbols.set(m[2], parseInt(m[1], 16));
  }
  return symbols;
}

/** A small guest image and its symbols (buildTinyGuestWithSymbols). */
export interface TinyGuest {
  elf: Uint8Array;
  /** The address of symbol `name` (throws if the image has none). */
  sym(name: string): number;
}

/** A guest image from one assembly file (GNU as, GNU ld at 0x100000, entry _start): the small guests of the VM tests. */
export function buildTinyGuest(name: string, source: string): Uint8Array {
  return linkTinyGuest(name, source, () => undefined).elf;
}

/** buildTinyGuest, with the image's symbol addresses (GNU nm). */
export function buildTinyGuestWithSymbols(name: string, source: string): TinyGuest {
  const { elf, extra: symbols } = linkTinyGuest(name, source, symbolsOf);
  return {
    elf,
    sym: (n) => {
      const v = symbols.get(n);
      if (v === undefined) throw new Error(`${name}: no symbol ${n}`);
      return v;
    },
  };
}

/** Assemble and link `source` in a temporary directory; `extra` looks at the linked file before the directory goes. */
function linkTinyGuest<T>(name: string, source: string, extra: (elfPath: string) => T): { elf: Uint8Array; extra: T } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `xk-${name}-`));
  try {
    fs.writeFileSync(path.join(dir, 'k.s'), source);
    execFileSync('as', ['--64', path.join(dir, 'k.s'), '-o', path.join(dir, 'k.o')], { stdio: 'pipe' });
    const elf = path.join(dir, `${name}.elf`);
    execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', path.join(dir, 'k.o'), '-o', elf], { stdio: 'pipe' });
    return { elf: new Uint8Array(fs.readFileSync(elf)), extra: extra(elf) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
