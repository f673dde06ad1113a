// AT&T mnemonics and how they map onto the Intel mnemonics of src/isa/table.ts.
//
// GNU as first looks a mnemonic up as written, then with a trailing size suffix
// (b w l q = 8 16 32 64 bits) removed. AT&T also has its own names for the
// sign/zero extensions (movzbl = movzx r32, rm8) and the accumulator widenings
// (cltq = cdqe), and accepts every alias of a condition code (jz = je).

import { FORMS_BY_MNEMONIC, Size } from '../../isa/table.js';
import { CONDITIONS } from '../../isa/conditions.js';

export interface MnemonicChoice {
  /** Intel mnemonic as in FORMS_BY_MNEMONIC. */
  intel: string;
  /** Operand size given by a suffix, or 0. */
  size: 0 | Size;
  /** movzx/movsx: the source size given by the AT&T name (movzbl: 8), or 0. */
  sourceSize: 0 | Size;
  /** movabs: only the 64-bit immediate / 64-bit address forms. */
  movabs: boolean;
}

const SUFFIX: Record<string, Size> = { b: 8, w: 16, l: 32, q: 64 };

/** AT&T names with their Intel mnemonic, destination size and source size. */
const EXTENSIONS: Record<string, [string, 0 | Size, 0 | Size]> = {
  movzbw: ['movzx', 16, 8], movzbl: ['movzx', 32, 8], movzbq: ['movzx', 64, 8],
  movzwl: ['movzx', 32, 16], movzwq: ['movzx', 64, 16],
  movsbw: ['movsx', 16, 8], movsbl: ['movsx', 32, 8], movsbq: ['movsx', 64, 8],
  movswl: ['movsx', 32, 16], movswq: ['movsx', 64, 16],
  movslq: ['movsxd', 64, 32], movsxd: ['movsxd', 64, 32],
  movzb: ['movzx', 0, 8], movzw: ['movzx', 0, 16], movsbx: ['movsx', 0, 8], movswx: ['movsx', 0, 16],
  cbtw: ['cbw', 0, 0], cwtl: ['cwde', 0, 0], cltq: ['cdqe', 0, 0],
  cwtd: ['cwd', 0, 0], cltd: ['cdq', 0, 0], cqto: ['cqo', 0, 0],
};

/** Other spellings GNU as accepts for the same instruction. */
const ALIASES: Record<string, string> = {
  sal: 'shl', iretl: 'iret', sysret: 'sysretl', movsd: 'movs', cmpsd: 'cmps', stosd: 'stos', lodsd: 'lods', scasd: 'scas',
  repz: 'repe', repnz: 'repne', pushfq: 'pushf', popfq: 'popf',
};

/** 'jnae' -> 'jb', 'cmovnbe' -> 'cmova', 'setz' -> 'sete'; other names unchanged. */
function canonicalCondition(name: string): string {
  const m = name.match(/^(j|set|cmov)([a-z]+)$/);
  if (!m) return name;
  for (const names of CONDITIONS) if (names.includes(m[2])) return m[1] + names[0];
  return name;
}

function known(name: string): boolean {
  return FORMS_BY_MNEMONIC.has(name);
}

/** The ways an AT&T mnemonic can be read, in the order GNU as tries them. */
export function mnemonicChoices(name: string): MnemonicChoice[] {
  const lower = name.toLowerCase();
  const out: MnemonicChoice[] = [];
  const push = (intel: string, size: 0 | Size, sourceSize: 0 | Size = 0, movabs = false) => out.push({ intel, size, sourceSize, movabs });

  const ext = EXTENSIONS[lower];
  if (ext) push(ext[0], ext[1], ext[2]);
  if (lower === 'movabs') push('mov', 0, 0, true);
  const m0 = lower.match(/^movabs([bwlq])$/);
  if (m0) push('mov', SUFFIX[m0[1]], 0, true);

  const direct = canonicalCondition(ALIASES[lower] ?? lower);
  if (known(direct)) push(direct, 0);

  const suffix = lower.slice(-1);
  if (SUFFIX[suffix] !== undefined && lower.length > 1) {
    const base = lower.slice(0, -1);
    const baseName = canonicalCondition(ALIASES[base] ?? base);
    if (known(baseName)) push(baseName, SUFFIX[suffix]);
    // AT&T string instructions: movsb/movsw/movsl/movsq are `movs` with a size
    if (baseName === 'movs' || baseName === 'stos' || baseName === 'lods' || baseName === 'cmps' || baseName === 'scas') {
      if (suffix === 'b') push(baseName + 'b', 0);
    }
    // movzx/movsx with a suffix for the destination (movzxl is rare but legal)
    const ext2 = EXTENSIONS[base];
    if (ext2 && ext2[1] === 0) push(ext2[0], SUFFIX[suffix], ext2[2]);
  }
  return out;
}

/** Instruction prefixes that may be written as a word before the mnemonic, with their byte. */
export const PREFIX_BYTES: ReadonlyMap<string, number> = new Map([
  ['lock', 0xf0], ['rep', 0xf3], ['repe', 0xf3], ['repz', 0xf3], ['repne', 0xf2], ['repnz', 0xf2],
  ['data16', 0x66], ['addr32', 0x67], ['cs', 0x2e], ['ds', 0x3e], ['es', 0x26], ['ss', 0x36], ['fs', 0x64], ['gs', 0x65],
]);
