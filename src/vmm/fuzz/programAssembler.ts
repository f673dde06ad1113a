// The fuzz program's machine code, one line at a time. Running the text
// assembler over every generated program costs more than running the guest, so
// each line is assembled once and its bytes are kept: apart from a label
// definition and the one label reference the generator writes (`lea .Lx(%rip),
// %reg`, whose rel32 is patched here), a line's encoding does not depend on
// where it lies, and a move of an immediate differs from another of the same
// form only in its immediate field. The result equals assembling the whole text
// (test/vmmFuzz checks that on many guests).

import { assemble } from '../../toolchain/assembler/assembler.js';

/** The .text bytes of `source`, which must need no relocations. */
export function assembleText(source: string): Uint8Array {
  const text = assemble(source, { fileName: 'fuzz.s' }).model.sections.find((s) => s.name === '.text');
  if (text === undefined || text.relocations.length !== 0) throw new Error('vm fuzz: the guest must assemble without relocations');
  return text.data;
}

const LABEL = /^\s*(\.L\w+):\s*$/;
const LEA_LABEL = /^\s*lea (\.L\w+)\(%rip\), %(\w+)\s*$/;
const BYTES = /^\s*\.byte ((?:0x[0-9a-f]{1,2}, )*0x[0-9a-f]{1,2})\s*(?:#.*)?$/;
const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
/** Lines kept; the generator's random immediates make most lines recur, some never. */
const CACHE_LINES = 50_000;
const cache = new Map<string, Uint8Array>();

// Moves of an immediate whose encoding ends in an immediate field of a fixed size,
// whatever its value: one such line assembled gives the bytes of all the others
// (the generator writes thousands of distinct random immediates).
const MOVE_IMMEDIATE = /^\s*(movabs|mov|movb|movw|movl|movq) \$(0x[0-9a-f]+|\d+), ([^#;]+?)\s*$/;
const REG32 = /^%(e[a-d]x|e[sd]i|e[sb]p|r(?:[89]|1[0-5])d)$/;
/** Bytes of the immediate field, and the largest value it holds as written; 0: not a fixed-size form. */
function immediateField(mnemonic: string, destination: string): [number, bigint] {
  const memory = !destination.startsWith('%');
  switch (mnemonic) {
    case 'movabs': return destination.startsWith('%r') ? [8, 2n ** 64n - 1n] : [0, 0n];
    case 'mov': return REG32.test(destination) ? [4, 2n ** 32n - 1n] : [0, 0n];
    case 'movb': return memory ? [1, 0xffn] : [0, 0n];
    case 'movw': return memory ? [2, 0xffffn] : [0, 0n];
    case 'movl': return memory ? [4, 2n ** 32n - 1n] : [0, 0n];
    case 'movq': return memory ? [4, 2n ** 31n - 1n] : [0, 0n]; // sign-extended imm32
    default: return [0, 0n];
  }
}
/** `mnemonic destination` -> the bytes of one such move (its immediate field last). */
const moveTemplates = new Map<string, Uint8Array>();

function withImmediate(template: Uint8Array, size: number, value: bigint): Uint8Array {
  const out = template.slice();
  for (let i = 0; i < size; i++) out[out.length - size + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

function lineBytes(line: string): Uint8Array {
  let bytes = cache.get(line);
  if (bytes !== undefined) return bytes;
  const raw = BYTES.exec(line);
  const move = raw === null ? MOVE_IMMEDIATE.exec(line) : null;
  if (raw !== null) bytes = Uint8Array.from(raw[1].split(', '), (b) => Number(b));
  else if (move !== null) {
    const [, mnemonic, literal, destination] = move;
    const [size, max] = immediateField(mnemonic, destination);
    const value = BigInt(literal);
    const key = `${mnemonic} ${destination}`;
    const template = moveTemplates.get(key);
    if (size !== 0 && value <= max && template !== undefined) bytes = withImmediate(template, size, value);
    else {
      bytes = assembleText(`    .text\n${line}\n`);
      // A template only if the assembler put the value, as expected, in the last `size` bytes.
      if (size !== 0 && value <= max && withImmediate(bytes, size, value).every((b, i) => b === bytes![i])) moveTemplates.set(key, bytes);
    }
  } else bytes = assembleText(`    .text\n${line}\n`);
  if (cache.size >= CACHE_LINES) cache.clear();
  cache.set(line, bytes);
  return bytes;
}

/** The bytes of a program given as assembly lines (in .text, no relocations). */
export function assembleLines(lines: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const labels = new Map<string, number>();
  const references: Array<[number, string]> = [];
  let size = 0;
  for (const line of lines) {
    const label = LABEL.exec(line);
    if (label !== null) { labels.set(label[1], size); continue; }
    const lea = LEA_LABEL.exec(line);
    const reg = lea === null ? -1 : REG64.indexOf(lea[2]);
    if (lea !== null && reg >= 0) {
      // lea disp32(%rip), %reg: REX.W (+R), 8d, ModRM mod 00 r/m 101.
      parts.push(Uint8Array.of(0x48 | (reg >= 8 ? 4 : 0), 0x8d, ((reg & 7) << 3) | 5, 0, 0, 0, 0));
      references.push([size + 3, lea[1]]);
      size += 7;
      continue;
    }
    if (line.trim() === '.text' || line.trim() === '') continue;
    const bytes = lineBytes(line);
    parts.push(bytes);
    size += bytes.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  const view = new DataView(out.buffer);
  for (const [offset, name] of references) {
    const target = labels.get(name);
    if (target === undefined) throw new Error(`vm fuzz: undefined label ${name}`);
    view.setInt32(offset, target - (offset + 4), true);
  }
  return out;
}
