// The kernel's machine code: asm/trapEntry.S plus the generated vectors, assembled
// at boot into one position-independent block placed at KERNEL_TEXT_PHYS.
//
// The product path uses xk's own assembler (src/toolchain/assembler). Tests may ask
// for GNU as instead (assembler: 'gnu') while xk's assembler is being written.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorsSource, VECTOR_COUNT } from './trapVectors.js';

export interface KernelText {
  /** The bytes, to be copied to KERNEL_TEXT_PHYS. */
  bytes: Uint8Array;
  /** Offset of each symbol from the start of the block. */
  symbols: Map<string, number>;
}

export type AssemblerChoice = 'xk' | 'gnu';

/** Repository root, from dist/src/kernel/ or src/kernel/. */
export function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'src')) ? resolve(here, '../../..') : resolve(here, '../..');
}

/** The assembly source of the kernel text: trapEntry.S then the vectors. */
export function kernelTextSource(): string {
  const file = join(repositoryRoot(), 'src/kernel/asm/trapEntry.S');
  if (!existsSync(file)) throw new Error(`kernel: cannot find ${file}`);
  return readFileSync(file, 'utf8') + '\n' + vectorsSource();
}

export const REQUIRED_SYMBOLS = ['alltraps', 'trapret', 'iret', 'trap', 'idle'];

export async function assembleKernelText(choice: AssemblerChoice = 'xk'): Promise<KernelText> {
  const source = kernelTextSource();
  const text = choice === 'gnu' ? assembleWithGnu(source) : await assembleWithXk(source);
  for (const name of [...REQUIRED_SYMBOLS, ...Array.from({ length: VECTOR_COUNT }, (_, n) => `vector${n}`)]) {
    if (!text.symbols.has(name)) throw new Error(`kernel: the assembled kernel text has no symbol '${name}'`);
  }
  return text;
}

/** GNU as + ld + objcopy + nm (tests only). */
function assembleWithGnu(source: string): KernelText {
  const dir = mkdtempSync(join(tmpdir(), 'xk-kernel-'));
  try {
    const src = join(dir, 'kernel.s');
    const obj = join(dir, 'kernel.o');
    const bin = join(dir, 'kernel.bin');
    writeFileSync(src, source);
    const elf = join(dir, 'kernel.elf');
    execFileSync('as', ['--64', '-o', obj, src]);
    // Link at address 0 so that calls and jumps to global labels are resolved
    // and symbol values are offsets into the block.
    execFileSync('ld', ['-Ttext', '0', '-e', '0', '-o', elf, obj]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', elf, bin]);
    const symbols = new Map<string, number>();
    for (const line of execFileSync('nm', [elf], { encoding: 'utf8' }).split('\n')) {
      const m = /^([0-9a-f]+) [tT] (\S+)$/.exec(line.trim());
      if (m) symbols.set(m[2], parseInt(m[1], 16));
    }
    return { bytes: new Uint8Array(readFileSync(bin)), symbols };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** xk's own assembler, loaded lazily so the kernel builds before it exists. */
async function assembleWithXk(source: string): Promise<KernelText> {
  const candidates = ['../toolchain/assembler/index.js', '../toolchain/assembler.js'];
  let lastError: unknown;
  for (const path of candidates) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(path)) as Record<string, unknown>;
    } catch (e) {
      lastError = e;
      continue;
    }
    return fromXkAssembler(mod, source);
  }
  throw new Error(`kernel: xk's assembler (src/toolchain/assembler) is not available: ${String(lastError)}`);
}

function fromXkAssembler(mod: Record<string, unknown>, source: string): KernelText {
  const assemble = mod.assemble as ((src: string, options?: unknown) => unknown) | undefined;
  if (typeof assemble !== 'function') throw new Error('kernel: src/toolchain/assembler exports no assemble()');
  const result = assemble(source, { fileName: 'trapEntry.S' }) as {
    sections?: Array<{ name: string; bytes?: Uint8Array; data?: Uint8Array }>;
    symbols?: Array<{ name: string; section?: string; value?: number; offset?: number }>;
  };
  const textSection = result.sections?.find((s) => s.name === '.text');
  const bytes = textSection?.bytes ?? textSection?.data;
  if (!bytes) throw new Error('kernel: the assembler produced no .text section');
  const symbols = new Map<string, number>();
  for (const s of result.symbols ?? []) {
    if (s.section === undefined || s.section === '.text') symbols.set(s.name, s.value ?? s.offset ?? 0);
  }
  return { bytes, symbols };
}
