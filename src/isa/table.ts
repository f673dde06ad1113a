// THE instruction table of xk. The decoder (CPU), the assembler's encoder and the
// disassembler are all driven by FORMS below, so the three cannot disagree.
//
// Rows are written the way the Intel SDM writes them (Vol. 2, "Opcode" and
// "Instruction" columns): mnemonic, operands in Intel order (destination first),
// encoding. Rows whose operands use the size letter `v` expand into 16-, 32- and
// 64-bit forms (prefix 66 for 16 bits, REX.W for 64 bits), as the SDM does with
// its "r/m16/32/64" columns.
//
// Operand tokens
//   r8 r16 r32 r64 rv     general register in ModRM.reg
//   rm8 rm16 rm32 rm64 rmv register or memory in ModRM.r/m
//   rr64                  register only, in ModRM.r/m (mov to/from CRn)
//   m                     memory only, size not applicable (lea, lgdt, invlpg)
//   or8 orv or64          register in the low 3 bits of the opcode byte (+REX.B)
//   imm8 imm16            unsigned immediate of that size
//   simm8                 immediate byte sign-extended to the operand size
//   izv                   imm16 for 16-bit forms, imm32 (sign-extended at 64) otherwise
//   iv                    immediate of the full operand size (imm64 at 64 bits)
//   rel8 rel32            branch displacement relative to the next instruction
//   moffs8 moffsv         64-bit absolute address (movabs)
//   al accv cl dx one     fixed operands: AL, AX/EAX/RAX, CL, DX, the constant 1
//   ax eax                AX or EAX only (port I/O, which has no 64-bit form)
//   cr dr sreg            control / debug / segment register in ModRM.reg
//   v                     no operand: only makes the row come in 16/32/64-bit forms
//                         (string instructions, pushf, leave, push imm8)
//
// Encoding tokens
//   hex byte, `XX+r` (register in low bits), `XX+cc` (condition in low bits),
//   `/r` (ModRM with a register in reg), `/0`..`/7` (ModRM.reg is an opcode extension),
//   `REX.W` and `o16` (operand-size prefixes that are part of the form),
//   `F3`/`F2`/`66` before the opcode as a mandatory prefix when listed with `mandatory`.
//   Immediates and displacements follow ModRM/SIB/displacement in operand order.
//
// Flags
//   lock   a LOCK prefix is allowed (when the destination is memory)
//   rep    REP (F3) repeats it;  repe  REPE/REPNE (F3/F2) repeat it with a ZF test
//   cpl0   privileged: #GP(0) unless CPL = 0
//   io     I/O-sensitive: #GP(0) unless CPL <= IOPL (in, out, cli, sti)
//   d64    default operand size is 64 in long mode (push, pop, near branches)
//   f64    operand size is forced to 64 (no 16/32 variant); REX.W is ignored
//
// Arithmetic flags: flagEffect() below says, per form (and shift count), which
// flags the Intel/AMD manuals define and which they leave undefined; the
// comment above it states xk's own deterministic choice for the undefined
// ones (profile `xk`, measured equal to AMD Zen 5).

import { CONDITIONS } from './conditions.js';

export type Size = 8 | 16 | 32 | 64;

export type OperandKind =
  | 'reg' // general register from ModRM.reg
  | 'rm' // register or memory from ModRM.r/m
  | 'rreg' // register only, from ModRM.r/m
  | 'mem' // memory only, from ModRM.r/m
  | 'opreg' // register in the low three bits of the opcode
  | 'imm' // immediate, zero-extended (or full size)
  | 'simm' // immediate, sign-extended to the operand size
  | 'rel' // relative branch target
  | 'moffs' // absolute 64-bit memory offset
  | 'acc' // AL / AX / EAX / RAX
  | 'cl' // CL (shift counts)
  | 'dx' // DX (port numbers)
  | 'one' // the constant 1 (shift by one)
  | 'creg' // control register from ModRM.reg
  | 'dreg' // debug register from ModRM.reg
  | 'sreg'; // segment register from ModRM.reg

export interface Operand {
  kind: OperandKind;
  /** Size of the operand in bits (for imm/simm/rel: the size of the encoded field). 0 = not applicable. */
  size: 0 | Size;
}

export type ModRMUse = 'none' | 'reg' | number; // 'reg' = /r, 0..7 = /digit

export interface Form {
  /** Index in FORMS; the CPU and the disassembler key their own tables by it. */
  id: number;
  /** Intel mnemonic, lower case, condition codes spelled out ('jne', 'cmovl', 'setb'). */
  mnemonic: string;
  /** Mnemonic family with 'cc' for the condition ('jcc', 'setcc', 'cmovcc'); else = mnemonic. */
  family: string;
  operands: Operand[];
  /** Operand size in bits; 0 when the instruction has none. */
  opsize: 0 | Size;
  /** How the operand-size prefixes select this form. */
  sizeRule: 'o16' | 'o32' | 'w' | 'any';
  /** Mandatory prefix that is part of the opcode (F3 for endbr64 and pause), or 0. */
  mandatory: 0 | 0x66 | 0xf2 | 0xf3;
  /** Opcode map: 0 = one-byte, 1 = 0F, 2 = 0F 38, 3 = 0F 3A. */
  map: 0 | 1 | 2 | 3;
  /** The opcode byte within the map (for +r / +cc forms: the base value). */
  opcode: number;
  /** Low bits of the opcode carry a register (+r) or a condition code (+cc). */
  opcodeLow: 'none' | 'reg' | 'cc';
  modrm: ModRMUse;
  /** A fixed complete ModRM byte (swapgs = 0F 01 F8, endbr64 = F3 0F 1E FA), or -1. */
  modrmByte: number;
  /** Condition code for cc forms, else -1. */
  cc: number;
  lock: boolean;
  rep: 'none' | 'rep' | 'repe';
  cpl0: boolean;
  io: boolean;
  /** Default operand size 64 (push, pop, call/jmp indirect, ...). */
  default64: boolean;
}

/** One row: mnemonic, operands, encoding, flags. */
type Row = [string, string, string, string?];

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function aluRows(): Row[] {
  const rows: Row[] = [];
  ALU.forEach((name, n) => {
    const lock = name === 'cmp' ? '' : 'lock';
    const base = n * 8;
    rows.push(
      [name, 'rm8, r8', `${hex(base)} /r`, lock],
      [name, 'rmv, rv', `${hex(base + 1)} /r`, lock],
      [name, 'r8, rm8', `${hex(base + 2)} /r`],
      [name, 'rv, rmv', `${hex(base + 3)} /r`],
      [name, 'al, imm8', `${hex(base + 4)}`],
      [name, 'accv, izv', `${hex(base + 5)}`],
      [name, 'rm8, imm8', `80 /${n}`, lock],
      [name, 'rmv, izv', `81 /${n}`, lock],
      [name, 'rmv, simm8', `83 /${n}`, lock],
    );
  });
  return rows;
}

function shiftRows(): Row[] {
  const rows: Row[] = [];
  SHIFTS.forEach((name, n) => {
    if (name === 'sal') return; // /6 is an undocumented alias of shl; GNU as encodes sal as /4
    rows.push(
      [name, 'rm8, imm8', `C0 /${n}`],
      [name, 'rmv, imm8', `C1 /${n}`],
      [name, 'rm8, one', `D0 /${n}`],
      [name, 'rmv, one', `D1 /${n}`],
      [name, 'rm8, cl', `D2 /${n}`],
      [name, 'rmv, cl', `D3 /${n}`],
    );
  });
  return rows;
}

function unaryRows(): Row[] {
  const rows: Row[] = [];
  const group3: [string, number, string][] = [
    ['not', 2, 'lock'], ['neg', 3, 'lock'], ['mul', 4, ''], ['imul', 5, ''], ['div', 6, ''], ['idiv', 7, ''],
  ];
  for (const [name, n, flags] of group3) rows.push([name, 'rm8', `F6 /${n}`, flags], [name, 'rmv', `F7 /${n}`, flags]);
  rows.push(['inc', 'rm8', 'FE /0', 'lock'], ['inc', 'rmv', 'FF /0', 'lock']);
  rows.push(['dec', 'rm8', 'FE /1', 'lock'], ['dec', 'rmv', 'FF /1', 'lock']);
  return rows;
}

function bitRows(): Row[] {
  const rows: Row[] = [];
  const ops: [string, number, number][] = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
  for (const [name, op, n] of ops) {
    const lock = name === 'bt' ? '' : 'lock';
    rows.push([name, 'rmv, rv', `0F ${hex(op)} /r`, lock], [name, 'rmv, imm8', `0F BA /${n}`, lock]);
  }
  rows.push(['bsf', 'rv, rmv', '0F BC /r'], ['bsr', 'rv, rmv', '0F BD /r']);
  // With F3 these are the bit-count instructions (gcc writes tzcnt as `rep bsf`).
  rows.push(['tzcnt', 'rv, rmv', 'F3 0F BC /r', 'mandatory'], ['lzcnt', 'rv, rmv', 'F3 0F BD /r', 'mandatory']);
  rows.push(['popcnt', 'rv, rmv', 'F3 0F B8 /r', 'mandatory']);
  rows.push(['shld', 'rmv, rv, imm8', '0F A4 /r'], ['shld', 'rmv, rv, cl', '0F A5 /r']);
  rows.push(['shrd', 'rmv, rv, imm8', '0F AC /r'], ['shrd', 'rmv, rv, cl', '0F AD /r']);
  rows.push(['bswap', 'or32', '0F C8+r'], ['bswap', 'or64', 'REX.W 0F C8+r']);
  return rows;
}

function conditionalRows(): Row[] {
  return [
    ['jcc', 'rel8', '70+cc', 'd64'],
    ['jcc', 'rel32', '0F 80+cc', 'd64'],
    ['setcc', 'rm8', '0F 90+cc /0'],
    ['cmovcc', 'rv, rmv', '0F 40+cc /r'],
  ];
}

const ROWS: Row[] = [
  // The one-byte NOP comes before xchg: 90 without REX.B is NOP, not xchg %eax,%eax.
  ['nop', '', '90'],
  ['pause', '', 'F3 90', 'mandatory'],
  ['nop', 'rmv', '0F 1F /0'],
  ['endbr64', '', 'F3 0F 1E FA', 'mandatory'],

  ...aluRows(),
  ['test', 'rm8, r8', '84 /r'],
  ['test', 'rmv, rv', '85 /r'],
  ['test', 'al, imm8', 'A8'],
  ['test', 'accv, izv', 'A9'],
  ['test', 'rm8, imm8', 'F6 /0'],
  ['test', 'rmv, izv', 'F7 /0'],
  ...unaryRows(),
  ['imul', 'rv, rmv', '0F AF /r'],
  ['imul', 'rv, rmv, simm8', '6B /r'],
  ['imul', 'rv, rmv, izv', '69 /r'],
  ...shiftRows(),
  ...bitRows(),

  // Data movement
  ['mov', 'rm8, r8', '88 /r'],
  ['mov', 'rmv, rv', '89 /r'],
  ['mov', 'r8, rm8', '8A /r'],
  ['mov', 'rv, rmv', '8B /r'],
  ['mov', 'or8, imm8', 'B0+r'],
  ['mov', 'orv, iv', 'B8+r'],
  ['mov', 'rm8, imm8', 'C6 /0'],
  ['mov', 'rmv, izv', 'C7 /0'],
  ['mov', 'al, moffs8', 'A0'],
  ['mov', 'accv, moffsv', 'A1'],
  ['mov', 'moffs8, al', 'A2'],
  ['mov', 'moffsv, accv', 'A3'],
  ['mov', 'rm16, sreg', '8C /r'],
  ['mov', 'sreg, rm16', '8E /r'],
  ['mov', 'rr64, cr', '0F 20 /r', 'cpl0'],
  ['mov', 'cr, rr64', '0F 22 /r', 'cpl0'],
  ['mov', 'rr64, dr', '0F 21 /r', 'cpl0'],
  ['mov', 'dr, rr64', '0F 23 /r', 'cpl0'],
  ['movzx', 'rv, rm8', '0F B6 /r'],
  ['movzx', 'r32, rm16', '0F B7 /r'],
  ['movzx', 'r64, rm16', 'REX.W 0F B7 /r'],
  ['movzx', 'r16, rm16', 'o16 0F B7 /r'],
  ['movsx', 'rv, rm8', '0F BE /r'],
  ['movsx', 'r32, rm16', '0F BF /r'],
  ['movsx', 'r64, rm16', 'REX.W 0F BF /r'],
  ['movsx', 'r16, rm16', 'o16 0F BF /r'],
  ['movsxd', 'r64, rm32', 'REX.W 63 /r'],
  ['movsxd', 'r32, rm32', '63 /r'], // without REX.W it is a plain 32-bit move
  ['lea', 'rv, m', '8D /r'],
  ['xchg', 'rm8, r8', '86 /r', 'lock'],
  ['xchg', 'rmv, rv', '87 /r', 'lock'],
  ['xchg', 'accv, orv', '90+r'],
  ['cmpxchg', 'rm8, r8', '0F B0 /r', 'lock'],
  ['cmpxchg', 'rmv, rv', '0F B1 /r', 'lock'],
  ['xadd', 'rm8, r8', '0F C0 /r', 'lock'],
  ['xadd', 'rmv, rv', '0F C1 /r', 'lock'],
  ['cbw', '', 'o16 98'],
  ['cwde', '', '98'],
  ['cdqe', '', 'REX.W 98'],
  ['cwd', '', 'o16 99'],
  ['cdq', '', '99'],
  ['cqo', '', 'REX.W 99'],

  // Stack
  ['push', 'orv', '50+r', 'd64'],
  ['push', 'rmv', 'FF /6', 'd64'],
  ['push', 'simm8, v', '6A', 'd64'], // `v`: no operand, but 64- and 16-bit (66) forms
  ['push', 'izv', '68', 'd64'],
  ['pop', 'orv', '58+r', 'd64'],
  ['pop', 'rmv', '8F /0', 'd64'],
  ['pushf', 'v', '9C', 'd64'],
  ['popf', 'v', '9D', 'd64'],
  ['leave', 'v', 'C9', 'd64'],
  ['enter', 'imm16, imm8', 'C8', 'd64'],

  // Control transfer
  ...conditionalRows(),
  ['jmp', 'rel8', 'EB', 'f64'],
  ['jmp', 'rel32', 'E9', 'f64'],
  ['jmp', 'rm64', 'FF /4', 'f64'],
  ['call', 'rel32', 'E8', 'f64'],
  ['call', 'rm64', 'FF /2', 'f64'],
  ['ret', '', 'C3', 'f64'],
  ['ret', 'imm16', 'C2', 'f64'],
  ['loop', 'rel8', 'E2', 'f64'],
  ['jrcxz', 'rel8', 'E3', 'f64'],

  // Strings (operands are implicit: RSI, RDI, RCX, the accumulator)
  ['movsb', '', 'A4', 'rep'],
  ['movs', 'v', 'A5', 'rep'],
  ['stosb', '', 'AA', 'rep'],
  ['stos', 'v', 'AB', 'rep'],
  ['lodsb', '', 'AC', 'rep'],
  ['lods', 'v', 'AD', 'rep'],
  ['cmpsb', '', 'A6', 'repe'],
  ['cmps', 'v', 'A7', 'repe'],
  ['scasb', '', 'AE', 'repe'],
  ['scas', 'v', 'AF', 'repe'],

  // Flags
  ['clc', '', 'F8'], ['stc', '', 'F9'], ['cmc', '', 'F5'],
  ['cld', '', 'FC'], ['std', '', 'FD'],
  ['lahf', '', '9F'], ['sahf', '', '9E'],
  ['cli', '', 'FA', 'io'], ['sti', '', 'FB', 'io'],

  // Traps and miscellany
  ['int3', '', 'CC'],
  ['int1', '', 'F1'],
  ['int', 'imm8', 'CD'],
  ['ud2', '', '0F 0B'],
  ['cpuid', '', '0F A2'],
  ['rdtsc', '', '0F 31'],
  ['mfence', '', '0F AE F0'],
  ['lfence', '', '0F AE E8'],
  ['sfence', '', '0F AE F8'],

  // System (CPL 0)
  ['hlt', '', 'F4', 'cpl0'],
  ['iretq', '', 'REX.W CF'],
  ['iret', '', 'CF'],
  ['lgdt', 'm', '0F 01 /2', 'cpl0'],
  ['lidt', 'm', '0F 01 /3', 'cpl0'],
  ['sgdt', 'm', '0F 01 /0'],
  ['sidt', 'm', '0F 01 /1'],
  ['smsw', 'rmv', '0F 01 /4'],
  ['lmsw', 'rm16', '0F 01 /6', 'cpl0'],
  ['invlpg', 'm', '0F 01 /7', 'cpl0'],
  ['swapgs', '', '0F 01 F8', 'cpl0'],
  ['ltr', 'rm16', '0F 00 /3', 'cpl0'],
  ['str', 'rmv', '0F 00 /1'],
  ['rdmsr', '', '0F 32', 'cpl0'],
  ['wrmsr', '', '0F 30', 'cpl0'],
  // Fast system calls (issue 17). sysret is NOT marked cpl0: its #UD (EFER.SCE
  // clear) is checked before its CPL test (SDM, SYSRET Operation), so
  // src/machine/systemCall.ts does both. GNU as: bare `sysret` = sysretl.
  ['syscall', '', '0F 05'],
  ['sysretq', '', 'REX.W 0F 07'],
  ['sysretl', '', '0F 07'],
  // Port I/O has no 64-bit form: REX.W is ignored, so these are ax (66) or eax.
  ['in', 'al, imm8', 'E4', 'io'],
  ['in', 'ax, imm8', 'o16 E5', 'io'],
  ['in', 'eax, imm8', 'E5', 'io'],
  ['in', 'al, dx', 'EC', 'io'],
  ['in', 'ax, dx', 'o16 ED', 'io'],
  ['in', 'eax, dx', 'ED', 'io'],
  ['out', 'imm8, al', 'E6', 'io'],
  ['out', 'imm8, ax', 'o16 E7', 'io'],
  ['out', 'imm8, eax', 'E7', 'io'],
  ['out', 'dx, al', 'EE', 'io'],
  ['out', 'dx, ax', 'o16 EF', 'io'],
  ['out', 'dx, eax', 'EF', 'io'],
];

// ---------------------------------------------------------------------------
// Parsing the rows into Forms.

function parseOperand(tok: string, v: Size): Operand | null {
  const sized = (kind: OperandKind, s: string): Operand => ({ kind, size: s === 'v' ? v : (Number(s) as Size) });
  let m: RegExpMatchArray | null;
  if ((m = tok.match(/^rm(8|16|32|64|v)$/))) return sized('rm', m[1]);
  if ((m = tok.match(/^rr(64)$/))) return sized('rreg', m[1]);
  if ((m = tok.match(/^or(8|16|32|64|v)$/))) return sized('opreg', m[1]);
  if ((m = tok.match(/^r(8|16|32|64|v)$/))) return sized('reg', m[1]);
  if ((m = tok.match(/^simm(8|16|32)$/))) return sized('simm', m[1]);
  if ((m = tok.match(/^imm(8|16|32|64)$/))) return sized('imm', m[1]);
  if ((m = tok.match(/^rel(8|32)$/))) return sized('rel', m[1]);
  if ((m = tok.match(/^moffs(8|v)$/))) return sized('moffs', m[1]);
  switch (tok) {
    case 'm': return { kind: 'mem', size: 0 };
    case 'al': return { kind: 'acc', size: 8 };
    case 'ax': return { kind: 'acc', size: 16 };
    case 'eax': return { kind: 'acc', size: 32 };
    case 'accv': return { kind: 'acc', size: v };
    case 'cl': return { kind: 'cl', size: 8 };
    case 'dx': return { kind: 'dx', size: 16 };
    case 'one': return { kind: 'one', size: 8 };
    case 'cr': return { kind: 'creg', size: 64 };
    case 'dr': return { kind: 'dreg', size: 64 };
    case 'sreg': return { kind: 'sreg', size: 16 };
    // imm16 at 16 bits; imm32 otherwise, sign-extended when the operation is 64 bits
    case 'izv': return v === 16 ? { kind: 'imm', size: 16 } : v === 64 ? { kind: 'simm', size: 32 } : { kind: 'imm', size: 32 };
    case 'iv': return { kind: 'imm', size: v };
    case 'v': return null; // string instructions: size only, no explicit operand
  }
  throw new Error(`isa table: unknown operand token '${tok}'`);
}

function expand(row: Row): Form[] {
  const [name, operandText, encoding, flagText = ''] = row;
  const flags = new Set(flagText.split(/\s+/).filter(Boolean));
  const tokens = operandText.split(',').map((t) => t.trim()).filter(Boolean);
  const usesV = tokens.some((t) => /v$/.test(t));
  const sizes: Size[] = !usesV ? [32] : flags.has('d64') ? [64, 16] : [16, 32, 64];
  const ccs = encoding.includes('+cc') ? [...Array(16).keys()] : [-1];
  const forms: Form[] = [];
  for (const v of sizes) {
    for (const cc of ccs) {
      const operands = tokens.map((t) => parseOperand(t, v)).filter((o): o is Operand => o !== null);
      const enc = encoding.split(/\s+/);
      let sizeRule: Form['sizeRule'] = 'any';
      let mandatory: Form['mandatory'] = 0;
      let map: Form['map'] = 0;
      let opcode = -1;
      let opcodeLow: Form['opcodeLow'] = 'none';
      let modrm: ModRMUse = 'none';
      let modrmByte = -1;
      for (const t of enc) {
        if (t === 'REX.W') sizeRule = 'w';
        else if (t === 'o16') sizeRule = 'o16';
        else if (t === '/r') modrm = 'reg';
        else if (/^\/[0-7]$/.test(t)) modrm = Number(t[1]);
        else {
          const mm = t.match(/^([0-9A-F]{2})(\+r|\+cc)?$/);
          if (!mm) throw new Error(`isa table: bad encoding token '${t}' in ${name}`);
          const byte = parseInt(mm[1], 16);
          if (opcode < 0 && map === 0 && flags.has('mandatory') && mandatory === 0 && (byte === 0xf3 || byte === 0xf2 || byte === 0x66)) {
            mandatory = byte as Form['mandatory'];
          } else if (opcode < 0 && map === 0 && byte === 0x0f) {
            map = 1;
          } else if (opcode < 0 && map === 1 && (byte === 0x38 || byte === 0x3a)) {
            map = byte === 0x38 ? 2 : 3;
          } else if (opcode < 0) {
            opcode = byte;
            if (mm[2] === '+r') opcodeLow = 'reg';
            if (mm[2] === '+cc') { opcodeLow = 'cc'; opcode += cc; }
          } else {
            modrmByte = byte; // a fixed ModRM byte after the opcode
          }
        }
      }
      if (opcode < 0) throw new Error(`isa table: no opcode for ${name}`);
      if (usesV && !flags.has('f64')) {
        if (flags.has('d64')) sizeRule = v === 16 ? 'o16' : 'any';
        else sizeRule = v === 16 ? 'o16' : v === 64 ? 'w' : 'o32';
      }
      let opsize: Form['opsize'] = usesV ? v : 0;
      if (!usesV) {
        for (const o of operands) {
          if ((o.kind === 'reg' || o.kind === 'rm' || o.kind === 'opreg' || o.kind === 'acc' || o.kind === 'rreg') && o.size > opsize) opsize = o.size;
        }
        if (sizeRule === 'w') opsize = 64;
        if (sizeRule === 'o16' && opsize === 0) opsize = 16;
        if (flags.has('f64') || flags.has('d64')) opsize = 64;
        if (opsize === 0 && ['cwde', 'cdq', 'iret'].includes(name)) opsize = 32;
        if (opsize === 0 && /^(movsb|stosb|lodsb|cmpsb|scasb)$/.test(name)) opsize = 8;
      }
      const cond = cc >= 0 ? CONDITIONS[cc][0] : '';
      const mnemonic = cc >= 0 ? name.replace('cc', cond) : name;
      forms.push({
        id: 0, mnemonic, family: name, operands, opsize, sizeRule, mandatory, map, opcode, opcodeLow,
        modrm, modrmByte, cc,
        lock: flags.has('lock'),
        rep: flags.has('rep') ? 'rep' : flags.has('repe') ? 'repe' : 'none',
        cpl0: flags.has('cpl0'), io: flags.has('io'),
        default64: flags.has('d64') || flags.has('f64'),
      });
    }
  }
  return forms;
}

/** Every instruction form xk knows, in table order (which is also the assembler's preference order among equal lengths). */
export const FORMS: readonly Form[] = ROWS.flatMap(expand).map((f, i) => ({ ...f, id: i }));

/** Forms grouped by Intel mnemonic. */
export const FORMS_BY_MNEMONIC: ReadonlyMap<string, readonly Form[]> = (() => {
  const m = new Map<string, Form[]>();
  for (const f of FORMS) {
    const list = m.get(f.mnemonic) ?? [];
    list.push(f);
    m.set(f.mnemonic, list);
  }
  return m;
})();

// ---------------------------------------------------------------------------
// Flags: what the manuals define, what they leave undefined.
//
// For every form, which arithmetic flags (CF PF AF ZF SF OF, and DF) it reads,
// which it writes with a value the manuals define, and which it leaves
// UNDEFINED. Flags in neither `defined` nor `undefined` are unchanged. The
// source is the Intel SDM Vol. 2 "Flags Affected" section of each instruction
// and the AMD APM Vol. 3 rFLAGS tables; where the two differ, a flag either
// one leaves undefined counts as undefined here (the host oracle must pass on
// both vendors).
//
// Shifts and rotates depend on the count, masked to 5 bits (6 for 64-bit
// operands):
//   count 0          nothing is written, no flag is read (rcl/rcr do not read CF)
//   shl shr sar      CF SF ZF PF defined; AF undefined; OF defined only for
//                    count 1; shl/shr CF undefined when count >= operand size
//                    (possible only for 8- and 16-bit operands)
//   rol ror          CF defined; OF defined only for count 1; SF ZF AF PF unchanged
//   rcl rcr          read CF; CF defined; OF defined only for count 1
//   shld shrd        as shl, and for count > operand size (16-bit operands)
//                    the result and all six flags are undefined
// Other rules that depend on the operands:
//   bsf bsr          ZF defined; CF OF SF AF PF undefined; the destination is
//                    undefined when the source is 0 (SDM; AMD: unchanged)
//   rep cmps/scas    with a count of 0 nothing runs: no flag is written
//
// xk's choice for undefined flags (profile `xk`). The CPU (src/machine) is
// deterministic: each undefined flag is a fixed function of the instruction's
// inputs and the flags before it. That function is what AMD Zen 5 (EPYC,
// family 1Ah) does, as the host-CPU oracle measures on this project's machine
// (test/hostOracle.test.ts probes the host and compares undefined flags too
// only where the host matches); other CPUs (Intel, other AMD generations)
// differ in these corners, which is allowed: programs must not depend on them.
//   and or xor test  AF cleared
//   mul imul         SF ZF AF PF unchanged
//   div idiv         CF OF unchanged, AF set, SF ZF PF cleared
//   shl shr sar      AF set; OF for count > 1: the OF of the last 1-bit step
//                    (shl: top bit of the result XOR CF; shr, sar: 0);
//                    shl/shr CF for count >= size: 0
//   shld shrd        AF set; OF for count > 1 as for a 1-bit step on the
//                    result (shld: top XOR CF, shrd: top XOR next-to-top);
//                    16-bit count > 16: the 48-bit value dst:src:src (shld) or
//                    src:src:dst (shrd) is shifted, flags computed the same way
//   rol rcl          OF for count > 1: top bit of the result XOR CF
//   ror rcr          OF for count > 1: top XOR next-to-top bit of the result
//   bt bts btr btc   OF SF AF PF unchanged
//   bsf bsr          CF OF SF AF cleared, PF the parity of the index (set
//                    for a zero source); a zero source leaves the destination
//                    unchanged (all 64 bits, also for 32-bit operands)
//   tzcnt lzcnt      SF AF PF cleared, OF unchanged

export const FLAG_CF = 0x1, FLAG_PF = 0x4, FLAG_AF = 0x10, FLAG_ZF = 0x40, FLAG_SF = 0x80, FLAG_DF = 0x400, FLAG_OF = 0x800;
const SIX = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
const SZP = FLAG_SF | FLAG_ZF | FLAG_PF;

/** What one instruction does to the flags (masks of RFLAGS bits). */
export interface FlagEffect {
  /** Flags whose value the instruction uses. */
  reads: number;
  /** Flags written with a value the manuals define. */
  defined: number;
  /** Flags the manuals leave undefined after it. */
  undefined: number;
  /** The destination's value is undefined too (bsf/bsr of 0, shld/shrd 16-bit count > 16). */
  resultUndefined: boolean;
}

/** What the effect of some forms depends on. */
export interface FlagContext {
  /** The shift/rotate count as encoded or in CL (before masking). */
  count?: number;
  /** bsf/bsr: the source operand is 0. */
  sourceZero?: boolean;
  /** A string instruction with a REP/REPE/REPNE prefix: the count in rCX (0: nothing runs, no flag changes). */
  repeatCount?: number;
}

type FlagRule = { reads: number; defined: number; undefined: number } | 'shift' | 'rotate' | 'rotateCarry' | 'double' | 'scan' | 'condition';

const NONE = { reads: 0, defined: 0, undefined: 0 };
const rule = (reads: number, defined: number, undef = 0) => ({ reads, defined, undefined: undef });

/** Flags read by condition cc (the low nibble of jcc/setcc/cmovcc). */
const CONDITION_READS = [FLAG_OF, FLAG_CF, FLAG_ZF, FLAG_CF | FLAG_ZF, FLAG_SF, FLAG_PF, FLAG_SF | FLAG_OF, FLAG_ZF | FLAG_SF | FLAG_OF];

/** One rule per family. Every family in FORMS must have one (checked below). */
const FLAG_RULES: Record<string, FlagRule> = {
  add: rule(0, SIX), sub: rule(0, SIX), cmp: rule(0, SIX), neg: rule(0, SIX),
  adc: rule(FLAG_CF, SIX), sbb: rule(FLAG_CF, SIX),
  and: rule(0, SIX & ~FLAG_AF, FLAG_AF), or: rule(0, SIX & ~FLAG_AF, FLAG_AF),
  xor: rule(0, SIX & ~FLAG_AF, FLAG_AF), test: rule(0, SIX & ~FLAG_AF, FLAG_AF),
  inc: rule(0, SIX & ~FLAG_CF), dec: rule(0, SIX & ~FLAG_CF),
  not: NONE,
  mul: rule(0, FLAG_CF | FLAG_OF, SZP | FLAG_AF), imul: rule(0, FLAG_CF | FLAG_OF, SZP | FLAG_AF),
  div: rule(0, 0, SIX), idiv: rule(0, 0, SIX),
  shl: 'shift', shr: 'shift', sar: 'shift',
  rol: 'rotate', ror: 'rotate', rcl: 'rotateCarry', rcr: 'rotateCarry',
  shld: 'double', shrd: 'double',
  bt: rule(0, FLAG_CF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF), bts: rule(0, FLAG_CF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF),
  btr: rule(0, FLAG_CF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF), btc: rule(0, FLAG_CF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF),
  bsf: 'scan', bsr: 'scan',
  tzcnt: rule(0, FLAG_CF | FLAG_ZF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF), lzcnt: rule(0, FLAG_CF | FLAG_ZF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF),
  popcnt: rule(0, SIX),
  cmpxchg: rule(0, SIX), xadd: rule(0, SIX),
  jcc: 'condition', setcc: 'condition', cmovcc: 'condition',
  movsb: rule(FLAG_DF, 0), movs: rule(FLAG_DF, 0), stosb: rule(FLAG_DF, 0), stos: rule(FLAG_DF, 0),
  lodsb: rule(FLAG_DF, 0), lods: rule(FLAG_DF, 0),
  cmpsb: rule(FLAG_DF, SIX), cmps: rule(FLAG_DF, SIX), scasb: rule(FLAG_DF, SIX), scas: rule(FLAG_DF, SIX),
  clc: rule(0, FLAG_CF), stc: rule(0, FLAG_CF), cmc: rule(FLAG_CF, FLAG_CF), cld: rule(0, FLAG_DF), std: rule(0, FLAG_DF),
  lahf: rule(SIX & ~FLAG_OF, 0), sahf: rule(0, SIX & ~FLAG_OF),
  pushf: rule(SIX | FLAG_DF, 0), popf: rule(0, SIX | FLAG_DF),
  int3: rule(SIX | FLAG_DF, 0), int1: rule(SIX | FLAG_DF, 0), int: rule(SIX | FLAG_DF, 0), iretq: rule(0, SIX | FLAG_DF), iret: rule(0, SIX | FLAG_DF),
};
for (const name of [
  'nop', 'pause', 'endbr64', 'bswap', 'mov', 'movzx', 'movsx', 'movsxd', 'lea', 'xchg', 'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo',
  'push', 'pop', 'leave', 'enter', 'jmp', 'call', 'ret', 'loop', 'jrcxz', 'cli', 'sti', 'ud2', 'cpuid', 'rdtsc',
  'mfence', 'lfence', 'sfence', 'hlt', 'lgdt', 'lidt', 'sgdt', 'sidt', 'smsw', 'lmsw', 'invlpg', 'swapgs', 'ltr', 'str',
  'rdmsr', 'wrmsr', 'in', 'out',
]) FLAG_RULES[name] = NONE;
// syscall saves RFLAGS in R11 and clears the SFMASK bits; sysret loads RFLAGS from R11.
FLAG_RULES.syscall = rule(SIX | FLAG_DF, SIX | FLAG_DF);
FLAG_RULES.sysretq = rule(0, SIX | FLAG_DF);
FLAG_RULES.sysretl = rule(0, SIX | FLAG_DF);
for (const f of FORMS) if (!(f.family in FLAG_RULES)) throw new Error(`isa table: no flag rule for ${f.family}`);

/** The flags effect of `form` with the given operands (count, zero source); without them, the general case. */
export function flagEffect(form: Form, ctx: FlagContext = {}): FlagEffect {
  const r = FLAG_RULES[form.family];
  const size = form.opsize;
  const masked = (ctx.count ?? 2) & (size === 64 ? 63 : 31);
  const of1 = masked === 1 ? FLAG_OF : 0;
  const effect = (reads: number, defined: number, undef: number, resultUndefined = false): FlagEffect =>
    ({ reads, defined, undefined: undef, resultUndefined });
  if (typeof r === 'object') {
    if (form.rep !== 'none' && ctx.repeatCount === 0) return effect(FLAG_DF & r.reads, 0, 0);
    return effect(r.reads, r.defined, r.undefined);
  }
  switch (r) {
    case 'condition': return effect(CONDITION_READS[form.cc >> 1], 0, 0);
    case 'scan': return effect(0, FLAG_ZF, SIX & ~FLAG_ZF, ctx.sourceZero === true);
  }
  if (masked === 0) return effect(0, 0, 0);
  switch (r) {
    case 'shift': {
      const cfUndefined = form.family !== 'sar' && masked >= size ? FLAG_CF : 0;
      return effect(0, (FLAG_CF & ~cfUndefined) | SZP | of1, FLAG_AF | cfUndefined | (FLAG_OF & ~of1));
    }
    case 'rotate': return effect(0, FLAG_CF | of1, FLAG_OF & ~of1);
    case 'rotateCarry': return effect(FLAG_CF, FLAG_CF | of1, FLAG_OF & ~of1);
    default: // double
      if (masked > size) return effect(0, 0, SIX, true);
      return effect(0, FLAG_CF | SZP | of1, FLAG_AF | (FLAG_OF & ~of1));
  }
}

/** Every flag `form` may leave undefined, over all operand values (for generators that avoid reading them). */
export function mayLeaveUndefined(form: Form): number {
  let m = 0;
  for (const count of [1, 2, form.opsize || 8, 31, 63]) {
    for (const sourceZero of [false, true]) m |= flagEffect(form, { count, sourceZero }).undefined;
  }
  return m;
}

/** Whether some operands of `form` leave its destination undefined. */
export function mayLeaveResultUndefined(form: Form): boolean {
  return flagEffect(form, { count: 31, sourceZero: true }).resultUndefined;
}
