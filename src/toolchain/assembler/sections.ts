// Sections while assembling: each is a list of fragments. A fragment is a run of
// fixed bytes, a branch whose size is not decided yet, an alignment gap, or a
// block of repeated bytes. Layout gives every fragment its address.

import { Expr } from './expression.js';
import { Fixup } from './encoder.js';
import { SourcePosition } from './assemblyError.js';
import { SHT_PROGBITS, SHT_NOBITS, SHT_NOTE, SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHF_ALLOC, SHF_WRITE, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS } from '../elf/elfTypes.js';

/** A fixup placed in a data fragment: `offset` is relative to the fragment. */
export interface PlacedFixup extends Fixup {
  position: SourcePosition;
}

export interface DataFragment {
  kind: 'data';
  address: number;
  bytes: number[];
  fixups: PlacedFixup[];
}

export interface BranchFragment {
  kind: 'branch';
  address: number;
  short: number[];
  long: number[];
  target: Expr;
  isLong: boolean;
  position: SourcePosition;
  /** FORMS ids of the rel8 and rel32 forms. */
  formIds: [number, number];
}

export interface AlignFragment {
  kind: 'align';
  address: number;
  alignment: number;
  /** Fill byte, or null for NOPs (code sections). */
  fill: number | null;
  /** Skip the alignment if it needs more than this many bytes (0 = no limit). */
  max: number;
}

export interface SpaceFragment {
  kind: 'space';
  address: number;
  size: number;
  fill: number;
}

/** `.org target`: fill up to a section offset (which must not lie behind us). */
export interface OrgFragment {
  kind: 'org';
  address: number;
  target: number;
  fill: number;
  position: SourcePosition;
}

export type Fragment = DataFragment | BranchFragment | AlignFragment | SpaceFragment | OrgFragment;

export class Section {
  readonly fragments: Fragment[] = [];
  alignment = 1;
  size = 0;
  constructor(
    readonly name: string,
    public type: number,
    public flags: number,
    public entsize: number,
  ) {}

  get isCode(): boolean {
    return (this.flags & SHF_EXECINSTR) !== 0;
  }

  /** The fragment new bytes go into. */
  data(): DataFragment {
    const last = this.fragments[this.fragments.length - 1];
    if (last && last.kind === 'data') return last;
    const f: DataFragment = { kind: 'data', address: 0, bytes: [], fixups: [] };
    this.fragments.push(f);
    return f;
  }

  add(f: Fragment): void {
    this.fragments.push(f);
  }
}

/** Size of a fragment placed at `address`. */
export function fragmentSize(f: Fragment, address: number): number {
  switch (f.kind) {
    case 'data': return f.bytes.length;
    case 'branch': return f.isLong ? f.long.length + 4 : f.short.length + 1;
    case 'space': return f.size;
    case 'org': return Math.max(0, f.target - address);
    case 'align': {
      const pad = (f.alignment - (address % f.alignment)) % f.alignment;
      return f.max && pad > f.max ? 0 : pad;
    }
  }
}

/** Section type and flags GNU as gives a section from its name alone. */
export function defaultSectionAttributes(name: string): { type: number; flags: number; entsize: number } {
  const starts = (p: string) => name === p || name.startsWith(p + '.');
  if (starts('.text')) return { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, entsize: 0 };
  if (starts('.data') || starts('.data.rel.ro')) return { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, entsize: 0 };
  if (starts('.bss')) return { type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, entsize: 0 };
  if (starts('.rodata')) return { type: SHT_PROGBITS, flags: SHF_ALLOC, entsize: 0 };
  if (name === '.comment') return { type: SHT_PROGBITS, flags: SHF_MERGE | SHF_STRINGS, entsize: 1 };
  if (name.startsWith('.note')) return { type: SHT_NOTE, flags: 0, entsize: 0 };
  if (starts('.init_array')) return { type: SHT_INIT_ARRAY, flags: SHF_ALLOC | SHF_WRITE, entsize: 8 };
  if (starts('.fini_array')) return { type: SHT_FINI_ARRAY, flags: SHF_ALLOC | SHF_WRITE, entsize: 8 };
  return { type: SHT_PROGBITS, flags: 0, entsize: 0 };
}

// GNU as's NOP patterns for x86-64 code alignment: the longest is 11 bytes; longer
// gaps are filled with 11-byte NOPs followed by one shorter NOP.
const NOPS: number[][] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

export function nopFill(count: number): number[] {
  const out: number[] = [];
  while (count > 11) {
    out.push(...NOPS[11]);
    count -= 11;
  }
  out.push(...NOPS[count]);
  return out;
}
