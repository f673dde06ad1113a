// The trap frame the monitor works on: the 22 fields of the host kernel's
// trap frame (src/kernel/trap/trapFrame.ts) as a plain object of exact 64-bit values.

import { TRAP_FRAME_FIELDS, type TrapFrameField } from '../kernel/trap/trapFrame.js';
import { RFLAGS_IF, RFLAGS_IOPL } from './vcpu.js';

export type VmTrapFrame = Record<TrapFrameField, bigint>;

/** Register names by hardware number (0 rax ... 15 r15). */
export const REGISTER_FIELDS: readonly TrapFrameField[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

/** A 64-bit value as a signed number (addresses come out in signed canonical form). */
export const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));
/** A number (signed or unsigned) as a 64-bit value. */
export const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

/** A frame of zeros. */
export function zeroFrame(): VmTrapFrame {
  const f = {} as VmTrapFrame;
  for (const field of TRAP_FRAME_FIELDS) f[field] = 0n;
  return f;
}

/**
 * The real RFLAGS a guest resumes with, in both hosts: its own status flags,
 * but IF always on (the host takes its interrupts; the guest's IF is virtual,
 * Vcpu.vif) and IOPL 0 (so cli/sti/in/out/popf's IF trap or are patched).
 */
export function runningRflags(rflags: bigint): number {
  return ((Number(rflags & 0xffffffffn) & ~RFLAGS_IOPL) | RFLAGS_IF | 2) >>> 0;
}
