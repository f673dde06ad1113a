// The kernel's machine code: trap/trapEntry.S plus the generated vectors, assembled
// at boot into one position-independent block placed at KERNEL_TEXT_PHYS.
//
// The product path uses xk's own assembler (src/toolchain/assembler). Tests can ask
// for GNU as instead (assembler: 'gnu'), and check that both give the same bytes.
// Reading trapEntry.S from the repository and running GNU as need the host: that
// is kernelTextFiles.ts, loaded only when asked for (the web page passes the
// source as text and never loads it).

import { vectorsSource, VECTOR_COUNT } from './trapVectors.js';
import { decodeBytes } from '../../isa/decode.js';
import { assemble } from '../../toolchain/assembler/assembler.js';
import { R_X86_64_PC32, R_X86_64_PLT32 } from '../../toolchain/elf/elfTypes.js';

export interface KernelText {
  /** The bytes, to be copied to KERNEL_TEXT_PHYS. */
  bytes: Uint8Array;
  /** Offset of each symbol from the start of the block. */
  symbols: Map<string, number>;
}

export type AssemblerChoice = 'xk' | 'gnu';

export const REQUIRED_SYMBOLS = ['alltraps', 'trapret', 'slowret', 'iret', 'trap', 'idle', 'syscall_entry', 'sysret'];

/** The assembly source of the kernel text: trapEntry.S's text, then the vectors. */
export function kernelTextSource(entrySource: string): string {
  return entrySource + '\n' + vectorsSource();
}

/** Assembles the kernel text from `entrySource` (trapEntry.S's text), read from the repository when not given. */
export async function assembleKernelText(choice: AssemblerChoice = 'xk', entrySource?: string): Promise<KernelText> {
  const host = choice === 'gnu' || entrySource === undefined ? await import('./kernelTextFiles.js') : null;
  const source = kernelTextSource(entrySource ?? host!.readEntrySource());
  const text = choice === 'gnu' ? host!.assembleWithGnu(source) : assembleWithXk(source);
  for (const name of [...REQUIRED_SYMBOLS, ...Array.from({ length: VECTOR_COUNT }, (_, n) => `vector${n}`)]) {
    if (!text.symbols.has(name)) throw new Error(`kernel: the assembled kernel text has no symbol '${name}'`);
  }
  return text;
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

/** The instructions from symbol `from` up to (not including) symbol `to`: a straight-line stretch of the text. */
export function instructionsBetween(text: KernelText, from: string, to: string): number {
  const start = text.symbols.get(from), end = text.symbols.get(to);
  if (start === undefined || end === undefined || end < start) throw new Error(`kernel: no stretch of text from '${from}' to '${to}'`);
  let n = 0;
  for (let at = start; at < end; n++) at += decodeBytes(text.bytes, at).length;
  return n;
}

/**
 * What the kernel's own code executes on a trap from user mode, in instructions:
 * `entry[v]` from the delivery of vector v to trap() (the vector's stub, then
 * alltraps up to and including `call trap`; trap() itself is a host call, no
 * instruction), and `iretExit` from slowret to user mode (the pops, `add`, iretq).
 * A virtual machine's clock counts guest instructions only: it leaves these out.
 */
export function trapPathInstructions(text: KernelText): { entry: number[]; iretExit: number } {
  const alltraps = instructionsBetween(text, 'alltraps', 'trapret');
  const stub = (n: number): number => {
    const start = text.symbols.get(`vector${n}`)!;
    const next = n + 1 < VECTOR_COUNT ? text.symbols.get(`vector${n + 1}`)! : text.bytes.length;
    let count = 0;
    for (let at = start; at < next; count++) at += decodeBytes(text.bytes, at).length;
    return count;
  };
  return { entry: Array.from({ length: VECTOR_COUNT }, (_, n) => stub(n) + alltraps), iretExit: instructionsBetween(text, 'slowret', 'iret') + 1 };
}
