// The trap frame the monitor works on: the guest's registers as the real CPU
// left them when the guest trapped, and as the guest resumes with them.
//
// It holds them the way the CPU does (src/machine/cpu.ts): the 16 general
// registers as pairs of uint32 halves in the CPU's own layout, so that taking
// them from a CPU or giving them back is one copy; RIP as a signed canonical
// linear address; RFLAGS, the selectors, the trap number and the error code as
// plain numbers (none of them has a bit above 31). An exit does no BigInt
// arithmetic. The 64-bit views (reg64, frameValues) are for the few places that
// show or save a frame: the VM path's events, the portable state.

import { TRAP_FRAME_FIELDS, type TrapFrameField } from '../kernel/trap/trapFrame.js';
import { RFLAGS_IF, RFLAGS_IOPL } from './vcpu.js';

export class VmTrapFrame {
  /** The general registers by hardware number (0 rax ... 15 r15): low half at 2n, high half at 2n + 1. */
  readonly regs = new Uint32Array(32);
  /** The guest's RIP: a signed canonical linear address. */
  rip = 0;
  /** RFLAGS (bits 32-63 are reserved and zero). */
  rflags = 0;
  cs = 0;
  ss = 0;
  trapno = 0;
  /** The error code (0 for a vector that pushes none). */
  err = 0;
}

/** Hardware register numbers. */
export const RAX = 0, RDX = 2, RSP = 4;

/** Register names by hardware number (0 rax ... 15 r15). */
export const REGISTER_FIELDS: readonly TrapFrameField[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

/** A 64-bit value as a signed number (addresses come out in signed canonical form). */
export const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));
/** A number (signed or unsigned) as a 64-bit value. */
export const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

/** Register `n` of the frame as a 64-bit value. */
export function reg64(tf: VmTrapFrame, n: number): bigint {
  return (BigInt(tf.regs[2 * n + 1]) << 32n) | BigInt(tf.regs[2 * n]);
}

/** Set register `n` of the frame to a 64-bit value. */
export function setReg64(tf: VmTrapFrame, n: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  tf.regs[2 * n] = Number(u & 0xffffffffn);
  tf.regs[2 * n + 1] = Number(u >> 32n);
}

/** The 22 fields of the host kernel's trap frame (src/kernel/trap/trapFrame.ts) as exact 64-bit values. */
export type TrapFrameValues = Record<TrapFrameField, bigint>;

/** The frame's fields as 64-bit values (a saved state keeps these). */
export function frameValues(tf: VmTrapFrame): TrapFrameValues {
  const v = {} as TrapFrameValues;
  for (const field of TRAP_FRAME_FIELDS) v[field] = 0n;
  REGISTER_FIELDS.forEach((f, n) => { v[f] = reg64(tf, n); });
  v.rip = u64(tf.rip);
  v.rflags = u64(tf.rflags);
  v.cs = BigInt(tf.cs);
  v.ss = BigInt(tf.ss);
  v.trapno = BigInt(tf.trapno);
  v.err = u64(tf.err);
  return v;
}

/** The frame holding `values` (a saved state's registers). */
export function frameFromValues(values: TrapFrameValues): VmTrapFrame {
  const tf = new VmTrapFrame();
  REGISTER_FIELDS.forEach((f, n) => setReg64(tf, n, values[f]));
  tf.rip = signed(values.rip);
  tf.rflags = Number(values.rflags & 0xffffffffn);
  tf.cs = Number(values.cs & 0xffffn);
  tf.ss = Number(values.ss & 0xffffn);
  tf.trapno = Number(values.trapno & 0xffffffffn);
  tf.err = Number(values.err & 0xffffffffn);
  return tf;
}

/**
 * The real RFLAGS a guest resumes with, in both hosts: its own status flags,
 * but IF always on (the host takes its interrupts; the guest's IF is virtual,
 * Vcpu.vif) and IOPL 0 (so cli/sti/in/out/popf's IF trap or are patched).
 */
export function runningRflags(rflags: number): number {
  return ((rflags & ~RFLAGS_IOPL) | RFLAGS_IF | 2) >>> 0;
}
