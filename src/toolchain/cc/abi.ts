// The System V x86-64 calling convention, for integer C (xk cc has no
// floating point, so every value is of class INTEGER or MEMORY):
//
//   1. Arguments go, left to right, into %rdi %rsi %rdx %rcx %r8 %r9; a
//      function returning a struct in memory takes the address to write it to
//      as a hidden first argument (and returns that address in %rax).
//   2. A struct or union of at most 16 bytes is passed in one or two
//      registers (its eightbytes), if that many are still free; otherwise, and
//      for anything larger, it is copied onto the stack.
//   3. Arguments that do not fit in registers go on the stack, the first one at
//      the lowest address, each in a slot of a multiple of 8 bytes; %rsp is a
//      multiple of 16 at the call instruction.
//   4. A scalar is returned in %rax; a struct of at most 16 bytes in %rax and
//      %rdx; a larger one in memory (rule 1).
//   5. A variadic call sets %al to the number of vector registers used (0).
//   6. %rbx %rbp %r12-%r15 belong to the caller (callee-saved); the rest may be
//      clobbered by a call.

import { isRecord, type Type } from './types.js';

export const ARG_REGISTERS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
export const CALLEE_SAVED = ['rbx', 'r12', 'r13', 'r14', 'r15'];

/** How many registers a value of type `t` takes (1 or 2), or 0 when it is passed and returned in memory. */
export function registerCount(t: Type): number {
  if (!isRecord(t)) return 1;
  if (t.size > 16) return 0;
  return Math.max(1, Math.ceil(t.size / 8));
}

/** Register names by size: reg('rax', 4) = 'eax', reg('r8', 1) = 'r8b'. */
const NAMES: Record<string, [string, string, string, string]> = {
  rax: ['al', 'ax', 'eax', 'rax'], rbx: ['bl', 'bx', 'ebx', 'rbx'], rcx: ['cl', 'cx', 'ecx', 'rcx'],
  rdx: ['dl', 'dx', 'edx', 'rdx'], rsi: ['sil', 'si', 'esi', 'rsi'], rdi: ['dil', 'di', 'edi', 'rdi'],
  rbp: ['bpl', 'bp', 'ebp', 'rbp'], rsp: ['spl', 'sp', 'esp', 'rsp'],
};

export function reg(name: string, size: number): string {
  const i = size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3;
  const known = NAMES[name];
  if (known) return '%' + known[i];
  // r8..r15
  return '%' + name + ['b', 'w', 'd', ''][i];
}

/** The 64-bit name of a register as written in an asm clobber or constraint ("ecx", "%r9d" -> "rcx", "r9"). */
export function fullRegister(name: string): string | undefined {
  const n = name.replace(/^%/, '');
  for (const [full, names] of Object.entries(NAMES)) if (names.includes(n)) return full;
  const m = /^(r(?:8|9|1[0-5]))[bwd]?$/.exec(n);
  return m ? m[1] : undefined;
}

/** The AT&T size suffix for an operand of `size` bytes. */
export function suffix(size: number): string {
  return size === 1 ? 'b' : size === 2 ? 'w' : size === 4 ? 'l' : 'q';
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
