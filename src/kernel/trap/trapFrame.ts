// struct trap_frame: what is on a process's kernel stack while it is in the kernel.
//
// The processor pushes ss, rsp, rflags, cs, rip (and an error code for some
// exceptions); the vector stub pushes the error code (0 when the hardware pushed
// none) and the trap number; alltraps pushes r15 first and rax last. So rax ends
// up at the LOWEST address, and %rsp points at it when alltraps calls trap().
//
//   offset  field      pushed by
//     0     rax        alltraps (last push)
//     8..112 rbx rcx rdx rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15
//   120     trapno     vector stub
//   128     err        vector stub (or the processor)
//   136     rip        processor
//   144     cs
//   152     rflags
//   160     rsp
//   168     ss         processor (first push)
//   176     (top of the kernel stack: TSS.rsp0)

import type { PhysicalMemory } from '../../machine/memory.js';

export const TRAP_FRAME_FIELDS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'trapno', 'err', 'rip', 'cs', 'rflags', 'rsp', 'ss',
] as const;
export type TrapFrameField = (typeof TRAP_FRAME_FIELDS)[number];

export const TRAP_FRAME_SIZE = TRAP_FRAME_FIELDS.length * 8; // 176

/** Byte offset of a field within the frame. */
export function trapFrameOffset(field: TrapFrameField): number {
  return TRAP_FRAME_FIELDS.indexOf(field) * 8;
}

/** The system-call argument registers, in order. */
export const ARGUMENT_REGISTERS: readonly TrapFrameField[] = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
/**
 * The same, for a call made by the `syscall` instruction: it overwrites %rcx
 * with the return RIP, so the fourth argument travels in %r10 (as on Linux).
 */
export const SYSCALL_ARGUMENT_REGISTERS: readonly TrapFrameField[] = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'];
/** The `err` value syscall_entry (trapEntry.S) stores: the frame was built by the kernel after `syscall`, not by int $64. */
export const ENTERED_BY_SYSCALL = 1;

const TWO32 = 2 ** 32;

/**
 * A view of one trap frame in physical memory (the kernel stack is kernel memory,
 * reached through the direct map; it is never user memory). The memory is an ES
 * private field: a TrapFrame reads and writes its 176 bytes and nothing else.
 * Only code that holds the physical memory can make one (ProcTable, for each
 * kernel stack; Kernel.trapFrameAt, for the frame alltraps built).
 */
export class TrapFrame {
  readonly #memory: PhysicalMemory;
  constructor(memory: PhysicalMemory, readonly phys: number) {
    this.#memory = memory;
  }

  /** Copy every register of `other` into this frame (fork: the child returns where the parent did). */
  copyFrom(other: TrapFrame): void {
    this.#memory.bytes.copyWithin(this.phys, other.phys, other.phys + TRAP_FRAME_SIZE);
  }
  /** The frame's 176 bytes, copied (a signal frame saves them on the user stack). */
  toBytes(): Uint8Array {
    return this.#memory.bytes.slice(this.phys, this.phys + TRAP_FRAME_SIZE);
  }

  lo(field: TrapFrameField): number {
    return this.#memory.read32(this.phys + trapFrameOffset(field));
  }
  hi(field: TrapFrameField): number {
    return this.#memory.read32(this.phys + trapFrameOffset(field) + 4);
  }
  /** The 64-bit value as an unsigned number (exact below 2^53; larger values stay >= 2^53). */
  unsigned(field: TrapFrameField): number {
    return this.hi(field) * TWO32 + this.lo(field);
  }
  /** The 64-bit value as a signed number (exact in [-2^53, 2^53]); addresses come out canonical-signed. */
  signed(field: TrapFrameField): number {
    return (this.hi(field) | 0) * TWO32 + this.lo(field);
  }
  /** The low 32 bits as a signed C int. */
  int(field: TrapFrameField): number {
    return this.lo(field) | 0;
  }
  /** Exact 64-bit value. */
  big(field: TrapFrameField): bigint {
    return (BigInt(this.hi(field)) << 32n) | BigInt(this.lo(field));
  }
  setHalves(field: TrapFrameField, lo: number, hi: number): void {
    this.#memory.write64(this.phys + trapFrameOffset(field), lo >>> 0, hi >>> 0);
  }
  /** Store a (safe) integer, negative values two's-complement: -1 -> 0xffff_ffff_ffff_ffff. */
  set(field: TrapFrameField, value: number): void {
    const lo = value >>> 0; // low 32 bits, also right for negatives
    const hi = Math.floor(value / TWO32) >>> 0;
    this.setHalves(field, lo, hi);
  }
  /** Argument register n (0 = %rdi). */
  arg(n: number): TrapFrameField {
    return (this.lo('err') === ENTERED_BY_SYSCALL ? SYSCALL_ARGUMENT_REGISTERS : ARGUMENT_REGISTERS)[n];
  }
  /** Hex rendering of a field, exact. */
  hex(field: TrapFrameField): string {
    return '0x' + this.big(field).toString(16);
  }
}
