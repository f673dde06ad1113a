// Processor exceptions. Any part of the machine that detects a fault throws a
// CpuFault; the CPU's run loop catches it and hands it to interrupt delivery
// (src/machine/interrupts.ts), which pushes the frame and enters the handler.

/** Exception vectors (Intel SDM Vol. 3, table 6-1). */
export const DE = 0; // divide error
export const DB = 1; // debug
export const NMI = 2;
export const BP = 3; // breakpoint (int3)
export const OF = 4; // overflow (into; not in 64-bit mode)
export const BR = 5; // bound range
export const UD = 6; // invalid opcode
export const NM = 7; // device not available
export const DF = 8; // double fault (error code 0)
export const TS = 10; // invalid TSS
export const NP = 11; // segment not present
export const SS = 12; // stack-segment fault
export const GP = 13; // general protection
export const PF = 14; // page fault
export const MF = 16; // x87 floating point
export const AC = 17; // alignment check
export const MC = 18; // machine check
export const XM = 19; // SIMD floating point

export const EXCEPTION_NAMES: readonly string[] = [
  '#DE divide error', '#DB debug', 'NMI', '#BP breakpoint', '#OF overflow', '#BR bound range',
  '#UD invalid opcode', '#NM device not available', '#DF double fault', 'coprocessor segment overrun',
  '#TS invalid TSS', '#NP segment not present', '#SS stack fault', '#GP general protection',
  '#PF page fault', 'reserved', '#MF x87 error', '#AC alignment check', '#MC machine check',
  '#XM SIMD error',
];

/** Vectors for which the processor pushes an error code. */
export function pushesErrorCode(vector: number): boolean {
  return vector === DF || (vector >= TS && vector <= PF) || vector === AC;
}

/** Contributory exceptions (SDM Vol. 3, table 6-4): a second one while delivering one of these is a #DF. */
export function isContributory(vector: number): boolean {
  return vector === DE || (vector >= TS && vector <= GP);
}

/** Page-fault error code bits. */
export const PF_P = 1; // 1: protection violation on a present page; 0: page not present
export const PF_W = 2; // the access was a write
export const PF_U = 4; // the access was made at CPL 3
export const PF_RSVD = 8; // a reserved bit was set in a paging entry
export const PF_I = 16; // the access was an instruction fetch (reported when EFER.NXE = 1)

/** Selector error code (for #GP/#NP/#TS/#SS with a selector or IDT vector). */
export function selectorErrorCode(selector: number): number {
  return selector & 0xfffc;
}
/** Error code naming IDT entry `vector` (bit 1 = IDT). */
export function idtErrorCode(vector: number): number {
  return vector * 8 + 2;
}

/**
 * A fault or trap raised while executing an instruction. `errorCode` is
 * undefined for vectors that push none. Faults are the machine's ordinary
 * control flow (every page fault, every trap out of a virtual machine), so no
 * host stack trace is captured: that would cost more than delivering the fault.
 */
export class CpuFault extends Error {
  readonly vector: number;
  readonly errorCode: number | undefined;
  constructor(vector: number, errorCode?: number, detail?: string) {
    const name = EXCEPTION_NAMES[vector] ?? `vector ${vector}`;
    const code = errorCode === undefined ? '' : `(0x${errorCode.toString(16)})`;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${name}${code}${detail ? ': ' + detail : ''}`);
    Error.stackTraceLimit = limit;
    this.name = 'CpuFault';
    this.vector = vector;
    this.errorCode = errorCode;
  }
}

/** Shorthands for the common faults. */
export const gp = (errorCode = 0, detail?: string): CpuFault => new CpuFault(GP, errorCode, detail);
export const ud = (detail?: string): CpuFault => new CpuFault(UD, undefined, detail);
