// The kernel's machine code: trap/trapEntry.S plus the generated vectors, assembled
// at boot into one position-independent block placed at KERNEL_TEXT_PHYS.
//
// The product path uses xk's own assembler (src/toolchain/assembler). Tests can ask
// for GNU as instead (assembler: 'gnu'), and check that both give the same bytes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorsSource, VECTOR_COUNT } from './trapVectors.js';
import { assemble } from '../../toolchain/assembler/assembler.js';
import { R_X86_64_PC32, R_X86_64_PLT32 } from '../../toolchain/elf/elfTypes.js';

export interface KernelText {
  /** The bytes, to be copied to KERNEL_TEXT_PHYS. */
  bytes: Uint8Array;
  /** Offset of each symbol from the start of the block. */
  symbols: Map<string, number>;
}

export type AssemblerChoice = 'xk' | 'gnu';

/** Repository root, from dist/src/kernel/trap/ or src/kernel/trap/. */
export function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'src')) ? resolve(here, '../../../..') : resolve(here, '../../..');
}

/** The assembly source of the kernel text: trapEntry.S then the vectors. */
export function kernelTextSource(entrySource?: string): string {
  if (entrySource !== undefined) return entrySource + '\n' + vectorsSource();
  const file = join(repositoryRoot(), 'src/kernel/trap/trapEntry.S');
  if (!existsSync(file)) throw new Error(`kernel: cannot find ${file}`);
  return readFileSync(file, 'utf8') + '\n' + vectorsSource();
}

export const REQUIRED_SYMBOLS = ['alltraps', 'trapret', 'iret', 'trap', 'idle', 'syscall_entry', 'sysret'];

export async function assembleKernelText(choice: AssemblerChoice = 'xk', entrySource?: string): Promise<KernelText> {
  const source = kernelTextSource(entrySource);
  const text = choice === 'gnu' ? assembleWithGnu(source) : assembleWithXk(source);
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

/**
 * xk's own assembler, then a tiny link step: the block is position-independent
 * except for PC-relative references the assembler leaves as relocations (GNU as
 * does the same for `call` to a global label), which are resolved here.
 */
function assembleWithXk(source: string): KernelText {
  let model;
  try {
    model = assemble(source, { fileName: 'trapEntry.s' }).model;
  } catch (e) {
    throw new Error(`kernel: cannot assemble trap/trapEntry.S: ${(e as Error).message}`);
  }
  const textIndex = model.sections.findIndex((s) => s.name === '.text');
  if (textIndex < 0) throw new Error('kernel: the assembler produced no .text section');
  const text = model.sections[textIndex];
  const bytes = Uint8Array.from(text.data);
  const symbols = new Map<string, number>();
  for (const sym of model.symbols) {
    if (sym.section === textIndex && sym.name !== '') symbols.set(sym.name, Number(sym.value));
  }
  const view = new DataView(bytes.buffer);
  for (const r of text.relocations) {
    const target = r.symbol ? symbols.get(r.symbol.name) : undefined;
    if ((r.type !== R_X86_64_PC32 && r.type !== R_X86_64_PLT32) || target === undefined) {
      throw new Error(`kernel: unexpected relocation (type ${r.type}) in the kernel text at offset ${r.offset}`);
    }
    const at = Number(r.offset);
    view.setInt32(at, target + Number(r.addend) - at, true); // S + A - P
  }
  return { bytes, symbols };
}
