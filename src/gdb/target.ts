// What the stub debugs: a target that can show and change its registers and
// memory and run one instruction or many. Adapters: machineTarget.ts (the bare
// machine, and the xk kernel running on it). Breakpoints, watchpoints and
// single steps are the machine's own (machine/debugExceptions.ts): the stub
// only tells the target's OutsideDebugger what to stop at.

import type { OutsideDebugger } from '../machine/debugExceptions.js';

/** Why a run stopped, for the stop reply. */
export type StopEvent =
  | { kind: 'signal'; signal: number; watch?: { type: 'watch' | 'rwatch' | 'awatch'; address: bigint } }
  | { kind: 'exited'; status: number }
  | { kind: 'ended'; message: string };

export interface DebugTarget {
  /** Register `n` (gdb numbering, targetDescription.ts) as little-endian bytes. */
  readRegister(n: number): Uint8Array;
  /** Write register `n`; false if it cannot be written. */
  writeRegister(n: number, bytes: Uint8Array): boolean;
  /** Bytes at a linear address through the current page tables, or null when some page is unmapped. */
  readMemory(address: bigint, length: number): Uint8Array | null;
  writeMemory(address: bigint, bytes: Uint8Array): boolean;
  /** The address of the next instruction. */
  pc(): bigint;
  /** Run one instruction (into a handler, if it raises an exception). Returns the event it stopped with. */
  step(): StopEvent | null;
  /** Run up to `n` instructions; an event if a breakpoint or watchpoint stopped it, or the target ended. */
  run(n: number): StopEvent | null;
  /** The machine's breakpoints, watchpoints and step flag for the debugger; call debuggerChanged() after changes. */
  readonly debugger: OutsideDebugger;
  debuggerChanged(): void;
  /** Text for `monitor CMD` (qRcmd), or null when unknown. */
  monitor?(command: string): string | null;
}
