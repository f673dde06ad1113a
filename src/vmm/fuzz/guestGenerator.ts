// The differential monitor fuzzer's guests (issue 11, item 2): small random
// guest kernels, made of a fixed harness and a random program.
//
// Guest-physical layout (4 MiB, paging off at the start, virtual CPL 0):
//   0x1000 GDT (kernel/user segments, a TSS, not-present and DPL 1 entries, six random descriptors)
//   0x3000 IDT: 256 interrupt gates to the harness's stubs, a few mutated
//   0x5000 user stack top, 0x6000 TSS.rsp0, 0x7000 TSS, 0x8000 kernel stack top
//   0x8f00 pseudo-descriptors for lgdt/lidt (the good GDT, the good IDT, random ones)
//   0x9000 the handler's record: count, continuation, then up to 6 frames of 8 quadwords
//   0x9800 scratch data (the program's stores, sgdt/sidt/str), outs source
//   0xa000 page tables: PML4 -> PDPT -> PD, 0..4 MiB in two large pages, random flags
//   0x100000 the harness: a stub per vector (push $v; jmp common), `common`
//   0x102000 the program: blocks of random atoms
// The handler (`common`) records the frame the CPU pushed and continues at the
// next block (each block stores where that is); the sixth exception powers the
// machine off with the vector as status. The program ends by powering off with 0xaa.
// Everything is deterministic: a guest is a function of its seed.

import { assembleLines, assembleText } from './programAssembler.js';

export const GUEST_BYTES = 4 * 1024 * 1024;
export const HARNESS = 0x100000;
export const PROGRAM = 0x102000;
const GDT = 0x1000, IDT = 0x3000, TSS = 0x7000, PSEUDO = 0x8f00, PML4 = 0xa000;

/** A small deterministic generator (xorshift32); the fuzzer's only source of randomness. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed ^ 0x9e3779b9) >>> 0 || 1; for (let i = 0; i < 4; i++) this.next(); }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.next() % n; }
  chance(p: number): boolean { return this.next() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  hex64(): string { return `0x${this.next().toString(16)}${this.next().toString(16).padStart(8, '0')}`; }
}

/** A byte patch of the initial guest memory (a mutated descriptor, gate, page-table entry...). */
export interface MemoryPatch { at: number; bytes: number[]; what: string }

/** One generated guest: memory mutations over the harness's tables, and the program's blocks of assembly lines. */
export interface FuzzGuest {
  seed: number;
  patches: MemoryPatch[];
  blocks: string[][];
}

const q = (v: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

// ---------------------------------------------------------------------------
// The harness (assembled once).

let harnessBytes: Uint8Array | null = null;
function harness(): Uint8Array {
  if (harnessBytes !== null) return harnessBytes;
  const stubs: string[] = [];
  for (let v = 0; v < 256; v++) stubs.push(`    .balign 16\n    push $${v}\n    jmp common`);
  const source = `    .text
${stubs.join('\n')}
    .balign 16
common:
    mov 0x9000, %rcx
    mov %rcx, %rdi
    shl $6, %rdi
    add $0x9010, %rdi
    mov $8, %esi
1:  pop %rax
    mov %rax, (%rdi)
    add $8, %rdi
    dec %esi
    jnz 1b
    mov %cr2, %rax
    mov %rax, -8(%rdi)
    inc %rcx
    mov %rcx, 0x9000
    cmp $6, %rcx
    jb 2f
    mov 0x9010 + 5 * 64, %al
    out %al, $0xf4
    hlt
2:  mov $0x8000, %rsp
    jmp *0x9008
`;
  harnessBytes = assembleText(source);
  return harnessBytes;
}

// ---------------------------------------------------------------------------
// The initial memory: tables as the harness expects them, then the guest's patches.

const GOOD_GDT: bigint[] = [
  0n, 0x00209a0000000000n, 0x0000920000000000n, 0x0000f20000000000n, 0x0020fa0000000000n,
  0x0000890070000067n, 0n,                      // 0x28 TSS at 0x7000, limit 0x67 (16 bytes)
  0x00201a0000000000n, 0x0000120000000000n, 0x0000b20000000000n,
];

function gate(handler: number, dpl: number): number[] {
  const b = new Array<number>(16).fill(0);
  b[0] = handler & 0xff; b[1] = (handler >> 8) & 0xff; b[2] = 0x08; b[3] = 0;
  b[5] = 0x8e | (dpl << 5); b[6] = (handler >> 16) & 0xff; b[7] = (handler >> 24) & 0xff;
  return b;
}

let baseTables: Uint8Array | null = null;
/** The tables as the harness expects them, before a guest's patches (built once). */
function tables(): Uint8Array {
  if (baseTables !== null) return baseTables;
  const t = new Uint8Array(0xd000);
  const put = (at: number, bytes: number[]): void => { t.set(bytes, at); };
  GOOD_GDT.forEach((d, i) => put(GDT + 8 * i, q(d)));
  for (let v = 0; v < 256; v++) put(IDT + 16 * v, gate(HARNESS + 16 * v, v === 0x40 || v === 3 ? 3 : 0));
  put(TSS + 4, q(0x6000n));
  put(TSS + 0x66, [0x68, 0]);
  put(PSEUDO, [0x7f, 0, ...q(BigInt(GDT))]);
  put(PSEUDO + 0x10, [0xff, 0x0f, ...q(BigInt(IDT))]);
  put(PML4, q(BigInt(PML4 + 0x1000 + 7)));
  put(PML4 + 0x1000, q(BigInt(PML4 + 0x2000 + 7)));
  put(PML4 + 0x2000, q(0x87n));
  put(PML4 + 0x2008, q(0x200087n));
  baseTables = t;
  return t;
}

/** The guest's initial memory: [address, bytes] regions (the tables, the harness, the program). */
export function guestRegions(g: FuzzGuest): Array<[number, Uint8Array]> {
  const t = tables().slice();
  for (const p of g.patches) for (let i = 0; i < p.bytes.length; i++) t[p.at + i] = p.bytes[i];
  return [[0, t], [HARNESS, harness()], [PROGRAM, programBytes(g)]];
}

/** The program's assembly lines. */
function programLines(g: FuzzGuest): string[] {
  // Where the handler continues is set first: the prologue's ltr may fault (a mutated TSS descriptor).
  const first = g.blocks.length === 0 ? '.Lend' : '.Lb0';
  const lines = ['    .text', `    lea ${first}(%rip), %r15`, '    mov %r15, 0x9008',
    '    mov $0x8000, %rsp', '    lgdt 0x8f00', '    lidt 0x8f10', '    mov $0x28, %ax', '    ltr %ax'];
  g.blocks.forEach((block, i) => {
    lines.push(`    lea .Lb${i}(%rip), %r15`, '    mov %r15, 0x9008', ...block, `.Lb${i}:`);
  });
  lines.push('    lea .Lend(%rip), %r15', '    mov %r15, 0x9008', '.Lend:', '    mov $0xaa, %al', '    out %al, $0xf4', '    hlt', '');
  return lines;
}

/** The program's assembly text. */
export function programSource(g: FuzzGuest): string {
  return programLines(g).join('\n');
}

/** The program's machine code (the same bytes as assembling programSource(g) as a whole). */
export function programBytes(g: FuzzGuest): Uint8Array {
  return assembleLines(programLines(g));
}

/** Marks a line that may read the guest's code as data (through a register that may hold a code address). */
const MAY_READ_CODE = '# may read code';
/** Marks a line after which the guest may run memory the loader did not sweep (its tables) as code. */
const MAY_RUN_DATA = '# may run the tables as code';

/**
 * Can the guest run patched as well as strict? Not if it contains raw bytes (the
 * patcher's linear sweep may then not see its instructions as the CPU does), nor if
 * it may read its own code as data or jump into random memory (a mutated gate
 * offset): the int3s the loader plants are visible to data reads, as the patcher's
 * documentation says (docs/vmm.md); strict mode has no patches and covers those guests.
 */
export function patchable(g: FuzzGuest): boolean {
  return !g.blocks.some((b) => b.some((l) => l.endsWith('# raw') || l.endsWith(MAY_READ_CODE) || l.endsWith(MAY_RUN_DATA)))
    && !g.patches.some((p) => p.what.startsWith('IDT gate') && / byte (0|1|6|7|8|9|10|11)$/.test(p.what));
}

// ---------------------------------------------------------------------------
// The generator.

const SELECTORS = [0, 0x08, 0x0b, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x38, 0x40, 0x48, 0x4b, 0x50, 0x58, 0x63, 0x6b, 0x73, 0x7b, 0x80, 0x4];
const FLAG_BITS = [0x1, 0x4, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000, 0x3000, 0x4000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x8];
const MSRS = [0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0x10, 0x1b, 0x1234, 0x174, 0x175, 0x176, 0xc0000103];
const PORTS = [0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x20, 0x21, 0x40, 0x43, 0x80, 0x61, 0x70];
const CR0_BITS = [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x10000, 0x40000, 0x20000000, 0x40000000, 0x80000000, 0x1000];
const CR4_BITS = [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x80, 0x100, 0x200, 0x400, 0x800, 0x10000, 0x20000, 0x100000, 0x200000, 0x400000, 0x800000];
const RIPS = ['next', 'next', 'next', 'next', '0x0000800000000000', '0xffffff8000000000', '0xffff800000000000', '0x3ff000', '0x0', '0x7ffffffff000'];
const STACKS = ['0x7f00', '0x5000', '0x5000', '0x6008', '0x0000800000000000', '0x0', '0x3ffff8', '0x7003'];

function flags(r: Rng, base = 0x2): string {
  let f = base;
  const n = r.int(4);
  for (let i = 0; i < n; i++) f |= r.pick(FLAG_BITS);
  return `0x${f.toString(16)}`;
}

const SREGS = ['ds', 'es', 'fs', 'gs', 'ss'];

/** One atom: a few lines of assembly doing one privileged or sensitive thing (or an ordinary one). */
function atom(r: Rng, next: string): string[] {
  switch (r.int(30)) {
    case 0: return [r.pick(['    cli', '    sti', '    sti; nop', '    cli; sti'])];
    case 1: return ['    pushfq', '    pop %rbx'];
    case 2: case 3: return [`    mov $${flags(r)}, %rax`, '    push %rax', '    popfq', '    nop', '    pushfq', '    pop %rdx'];
    case 4: case 5: case 6: {
      const rip = r.pick(RIPS);
      return [
        `    push $${r.chance(0.6) ? r.pick([0x10, 0x1b, 0, 0x13]) : r.pick(SELECTORS)}`,
        `    movabs $${r.pick(STACKS)}, %rax`, '    push %rax',
        `    mov $${flags(r)}, %eax`, '    push %rax',
        `    push $${r.chance(0.6) ? r.pick([0x08, 0x23]) : r.pick(SELECTORS)}`,
        // RIP 0: the zero page, then the GDT and IDT bytes run as code (unswept: strict mode only).
        rip === 'next' ? `    lea ${next}(%rip), %rax` : `    movabs $${rip}, %rax${rip === '0x0' ? `   ${MAY_RUN_DATA}` : ''}`, '    push %rax',
        '    iretq',
      ];
    }
    case 7: return [`    ${r.pick(['lgdt', 'lidt'])} 0x${(0x8f00 + 0x10 * r.int(8)).toString(16)}`];
    case 8: return [`    mov $0x${r.pick(SELECTORS).toString(16)}, %ax`, `    ${r.pick(['ltr %ax', '.byte 0x0f, 0x00, 0xd0   # lldt %ax', '.byte 0x0f, 0x00, 0xe0   # verr %ax', '.byte 0x0f, 0x00, 0xe8   # verw %ax', '.byte 0x0f, 0x02, 0xd8   # lar %ax, %bx', '.byte 0x0f, 0x03, 0xd8   # lsl %ax, %bx'])}`];
    case 9: return ['    mov %cr0, %rax', `    xor $0x${r.pick(CR0_BITS).toString(16)}, %eax`, '    mov %rax, %cr0'];
    case 10: return ['    mov %cr4, %rax', `    xor $0x${r.pick(CR4_BITS).toString(16)}, %eax`, '    mov %rax, %cr4'];
    case 11: return [`    movabs $${r.pick(['0xa000', '0xa000', '0xa018', '0x400000', '0xb000', r.hex64()])}, %rax`, '    mov %rax, %cr3'];
    case 12: return ['    mov $0xa000, %eax', '    mov %rax, %cr3', '    mov %cr0, %rax', '    or $0x80000001, %eax', '    mov %rax, %cr0'];
    case 13: return [`    mov $0x${r.pick(MSRS).toString(16)}, %ecx`, '    rdmsr', ...(r.chance(0.7) ? [`    ${r.pick(['xor', 'or', 'mov'])} $0x${((r.next() & (r.chance(0.5) ? 0xf01 : 0xffffffff)) >>> 0).toString(16)}, %eax`, '    wrmsr'] : [])];
    case 14: {
      const port = r.pick(PORTS);
      const size = r.pick(['b', 'b', 'w', 'l']);
      const reg = size === 'b' ? '%al' : size === 'w' ? '%ax' : '%eax';
      if (r.chance(0.5)) return [`    mov $0x${port.toString(16)}, %dx`, `    mov $0x${r.int(256).toString(16)}, %eax`, `    out${size} ${reg}, %dx`];
      if (r.chance(0.5)) return [`    mov $0x${port.toString(16)}, %dx`, `    in${size} %dx, ${reg}`];
      return [`    mov $0x${port.toString(16)}, %dx`, '    mov $0x9800, %esi', '    mov $0x9900, %edi', `    mov $${r.int(4)}, %ecx`, `    ${r.pick(['.byte 0xf3, 0x6e   # rep outsb', '.byte 0xf3, 0x6c   # rep insb', '.byte 0x6e   # outsb'])}`];
    }
    case 15: return [`    int $0x${r.pick([3, 0x40, 13, 14, 8, 0x80, 0x20, r.int(256)]).toString(16)}`];
    case 16: return [r.pick(['    int3', '    .byte 0xf1', '    ud2', '    syscall', '    sysretq', '    swapgs', '    .byte 0x0f, 0x34   # sysenter', '    .byte 0xce'])];
    case 17: return [`    mov $0x${r.pick(SELECTORS).toString(16)}, %eax`, `    mov %eax, %${r.pick(SREGS)}`];
    case 18: return [`    mov %${r.pick([...SREGS, 'cs'])}, %eax`, r.pick(['    .byte 0x0f, 0xa0   # push %fs', '    .byte 0x0f, 0xa8   # push %gs', '    nop']), r.pick(['    .byte 0x0f, 0xa1   # pop %fs', '    .byte 0x0f, 0xa9   # pop %gs', '    nop'])];
    case 19: return [r.pick(['    sgdt 0x9800', '    sidt 0x9810', '    str 0x9820', '    smsw 0x9828', '    smsw %eax', '    str %eax', '    .byte 0x0f, 0x00, 0xc0   # sldt %eax'])];
    // rdtsc runs on the real CPU under the monitor: its value is the host's time stamp, not the
    // guest's (on hardware nothing fixes it either); the guest keeps the instruction, not the value.
    case 20: return [r.pick(['    invlpg 0x9000', '    .byte 0x0f, 0x09   # wbinvd', '    .byte 0x0f, 0x06   # clts', '    rdtsc; mov $0, %eax; mov $0, %edx', '    cpuid', '    .byte 0x0f, 0x33   # rdpmc', '    hlt', '    .byte 0x0f, 0x08   # invd', '    .byte 0x0f, 0x01, 0xd0   # xgetbv'])];
    case 21: return [`    movabs $${r.pick(STACKS)}, %rsp`, '    push %rax', '    pop %rbx', '    mov $0x8000, %rsp'];
    case 22: return [r.pick(['    xor %ecx, %ecx; div %ecx', '    movabs $0x0000800000000000, %rbx; mov (%rbx), %rax', '    mov 0x3ffff0, %rax', `    mov (%rax), %rbx   ${MAY_READ_CODE}`, '    movq $0x1234, 0x3ffffc'])];
    case 23: { const size = r.pick(['q', 'l', 'w', 'b']); return [`    mov${size} $0x${r.int(size === 'b' ? 0x100 : 0x10000).toString(16)}, 0x${(0x9800 + 8 * r.int(64)).toString(16)}`]; }
    case 24: return [`    ${r.pick(['add', 'sub', 'xor', 'imul'])} $${r.int(1000)}, %${r.pick(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9'])}`];
    case 25: { // a far return or far jump through a random selector
      const sel = r.pick(SELECTORS);
      return r.chance(0.5)
        ? [`    push $0x${sel.toString(16)}`, `    lea ${next}(%rip), %rax`, '    push %rax', '    .byte 0x48, 0xcb   # lretq']
        : [`    lea ${next}(%rip), %rax`, '    mov %eax, 0x9880', `    movw $0x${sel.toString(16)}, 0x9884`, '    .byte 0xff, 0x2c, 0x25, 0x80, 0x98, 0x00, 0x00   # ljmp *0x9880'];
    }
    case 26: return [`    mov $0x${((r.next() & 0xffff0fff) >>> 0).toString(16)}, %eax`, `    mov %rax, %${r.pick(['dr7', 'dr0', 'dr6'])}`, `    mov %${r.pick(['dr7', 'dr6', 'dr1'])}, %rbx`];
    case 27: { // a few raw bytes from the system-instruction opcode space
      const lead = r.pick([[0x0f, 0x00], [0x0f, 0x01], [0x0f, 0x20], [0x0f, 0x22], [0x0f, 0x30], [0x0f, 0x32], [0xcf], [0x48, 0xcf], [0x9d], [0x48, 0x9d], [0x8e], [0x0f, 0x07], [0x0f, 0x05], [0xe4], [0xee], [0xfa], [0xf4], [0x0f, 0x06], [0x0f, 0x09]]);
      const tail = Array.from({ length: r.int(3) }, () => r.int(256));
      return [`    .byte ${[...lead, ...tail].map((b) => `0x${b.toString(16)}`).join(', ')}   # raw`, '    nop; nop; nop; nop; nop; nop; nop; nop; nop; nop'];
    }
    case 28: return [`    mov $0x${r.int(128).toString(16)}, %al`, '    mov $0x3f8, %dx', '    outb %al, %dx'];
    default: return [`    mov $${r.hex64()}, %r${8 + r.int(7)}`.replace('mov $', 'movabs $')];
  }
}

/** Enter virtual CPL 3 at the next instruction (possibly with IOPL 3 or TF). */
function toUser(r: Rng, label: string): string[] {
  return ['    push $0x1b', '    push $0x5000', `    push $${r.chance(0.2) ? '0x3002' : r.chance(0.1) ? '0x302' : '0x2'}`, '    push $0x23',
    `    lea ${label}(%rip), %rax`, '    push %rax', '    iretq', `${label}:`];
}

/** Random changes to the harness's tables: descriptors, gates, page-table entries, the TSS, pseudo-descriptors. */
function mutations(r: Rng): MemoryPatch[] {
  const out: MemoryPatch[] = [];
  for (let i = 0; i < 6; i++) {
    const d = [r.int(256), r.int(256), r.int(256), r.int(256), r.int(256), r.pick([0x9a, 0xfa, 0x92, 0xf2, 0x89, 0x8b, 0xda, 0xba, 0x1a, 0x00, r.int(256)]), r.pick([0x20, 0x00, 0xa0, 0x60, 0xcf, r.int(256)]), r.int(256)];
    out.push({ at: GDT + 0x50 + 8 * i, bytes: d, what: `GDT entry 0x${(0x50 + 8 * i).toString(16)}` });
  }
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    switch (r.int(6)) {
      case 0: { const v = r.pick([0, 1, 3, 6, 8, 13, 14, 0x40, r.int(256)]); const byte = r.int(16); out.push({ at: IDT + 16 * v + byte, bytes: [r.int(256)], what: `IDT gate 0x${v.toString(16)} byte ${byte}` }); break; }
      case 1: { const e = 1 + r.int(9); const byte = 5 + r.int(3); out.push({ at: GDT + 8 * e + byte, bytes: [r.int(256)], what: `GDT entry 0x${(8 * e).toString(16)} byte ${byte}` }); break; }
      case 2: { const t = r.pick([PML4, PML4 + 0x1000, PML4 + 0x2000, PML4 + 0x2008]); out.push({ at: t, bytes: [r.pick([0x87, 0x83, 0x85, 0x86, 0x07, 0x03, 0x8f, 0x97, 0xa7, 0xe7])], what: `page-table entry at 0x${t.toString(16)}` }); if (r.chance(0.3)) out.push({ at: t + 7, bytes: [0x80], what: 'NX' }); break; }
      case 3: { const at = TSS + r.pick([4, 0x24, 0x2c, 0x66]); out.push({ at, bytes: q(BigInt(r.pick([0, 0x6000, 0x5800, 0x0000800000000000, 0x3ffff0]))).slice(0, at === TSS + 0x66 ? 2 : 8), what: `TSS field 0x${(at - TSS).toString(16)}` }); break; }
      case 4: { const v = r.pick([3, 6, 13, 14]); out.push({ at: IDT + 16 * v + 4, bytes: [r.int(8)], what: `IDT gate 0x${v.toString(16)} IST` }); break; }
      default: break;
    }
  }
  for (let i = 2; i < 8; i++) {
    const lim = r.pick([0, 0x7, 0x7f, 0xff, 0xfff, 0xffff, r.int(0x10000)]);
    const base = r.pick([0, GDT, IDT, 0x8f00, 0x3fff00, 0x0000800000000000, -0x1000]);
    out.push({ at: PSEUDO + 0x10 * i, bytes: [lim & 0xff, lim >> 8, ...q(BigInt.asUintN(64, BigInt(base)))], what: `pseudo-descriptor ${i}` });
  }
  return out;
}

/** The guest of `seed`. */
export function generateGuest(seed: number): FuzzGuest {
  const r = new Rng(seed);
  const blocks: string[][] = [];
  const nBlocks = 1 + r.int(6);
  for (let i = 0; i < nBlocks; i++) {
    const block: string[] = [];
    if (r.chance(0.35)) block.push(...toUser(r, `.Lu${i}`));
    const n = 1 + r.int(4);
    for (let j = 0; j < n; j++) {
      const label = `.Ln${i}_${j}`;
      block.push(...atom(r, label), `${label}:`);
    }
    blocks.push(block);
  }
  return { seed, patches: mutations(r), blocks };
}

/** A guest as text: its memory patches and program (what a disagreement prints). */
export function describeGuest(g: FuzzGuest): string {
  const patches = g.patches.map((p) => `#   [0x${p.at.toString(16)}] = ${p.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}   (${p.what})`);
  return [`# vm fuzz guest, seed ${g.seed}; memory patches over the harness's tables:`, ...patches, programSource(g)].join('\n');
}
