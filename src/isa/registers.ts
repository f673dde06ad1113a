// General-purpose register numbers and their AT&T names at each size.
// Numbers are the hardware encodings: ModRM.reg/rm plus REX.R/REX.B as bit 3.

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

export const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
  'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di',
  'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
/** 8-bit registers when a REX prefix is present (spl, bpl, sil, dil reachable). */
export const REG8_REX = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil',
  'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
/** 8-bit registers without REX: encodings 4-7 are the legacy high bytes ah, ch, dh, bh. */
export const REG8_LEGACY = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

export const SEGMENT_REGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
export const CONTROL_REGS = ['cr0', 'cr1', 'cr2', 'cr3', 'cr4', 'cr5', 'cr6', 'cr7', 'cr8'];
/** Debug registers: objdump prints them %db0..%db7; GNU as also accepts %dr0..%dr7. */
export const DEBUG_REGS = ['db0', 'db1', 'db2', 'db3', 'db4', 'db5', 'db6', 'db7'];

/** AT&T name of register `num` at `size` bits; `rex` selects spl..dil over ah..bh for 8-bit 4-7. */
export function registerName(num: number, size: 8 | 16 | 32 | 64, rex: boolean): string {
  switch (size) {
    case 64: return REG64[num];
    case 32: return REG32[num];
    case 16: return REG16[num];
    case 8: return rex ? REG8_REX[num] : REG8_LEGACY[num];
  }
}
