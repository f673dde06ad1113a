// Debug exceptions (#DB, vector 1; Intel SDM Vol. 3, 18.3): what the CPU
// checks around one instruction while debugging is on.
//
// The run loop (Machine.run) tests one flag per slice: when RFLAGS.TF or RF is
// set, or DR7 (or an outside debugger) enables a breakpoint, it runs the next
// instruction through debugInstruction() below instead of a fast slice:
//
//   1. Instruction breakpoints are FAULTS: before the instruction runs, if RIP
//      equals an enabled DRn with R/W = 00 and RFLAGS.RF = 0, #DB is raised
//      with RIP at the instruction and DR6.Bn set. The handler returns with RF
//      set in the saved RFLAGS (iretq loads it), so the instruction then runs
//      once without the breakpoint firing again; RF is cleared after it.
//   2. The instruction runs. If it faults, the fault is delivered and nothing
//      else happens (the instruction did not complete).
//   3. Data and I/O breakpoints and single-step are TRAPS, after the instruction: DR6
//      gets Bn for each enabled data breakpoint the instruction's accesses
//      touched, and BS if TF was set BEFORE the instruction (so the popf or
//      iretq that sets TF does not trap itself; the one that clears it does).
//      One #DB carries all of them, with RIP after the instruction.
//   4. A repeated string instruction (rep movs, rep stos, ...) counts as one
//      instruction per iteration for these traps: with TF it stops after each
//      iteration, and it stops after the iteration whose access fired a data
//      breakpoint; RCX/RSI/RDI then count the completed iterations, RIP stays
//      at the instruction (unless that was the last) and the saved RFLAGS has
//      RF set (SDM Vol. 3, 18.3.1.2 and the RF rules of 18.3.1.1).
//   5. Edge cases: an instruction that delivers an interrupt itself (int n,
//      int3, int1) takes no single-step trap: the handler starts with TF clear
//      and the trap comes back with its iretq, after the next instruction of
//      the program. mov to SS holds its traps back until after the next
//      instruction (the stack switch must not be split); when that instruction
//      delivers an event (int n, a fault), the held traps come after the
//      delivery, at the handler's first instruction (the "pop SS" case of
//      CVE-2018-8897). sti's shadow blocks only device interrupts, not #DB.
//   6. Interrupt and exception delivery writes the frame (SS, RSP, RFLAGS, CS,
//      RIP, error code) to the stack: a data breakpoint there is a trap after
//      the delivery, raised before the handler's first instruction with RIP at
//      it (interrupts.ts notes the hits in cpu.deliveryHits). An outside
//      debugger's write watchpoint on that stack stops there as well.
//
// An outside debugger (the gdb stub) gets the same checks through its own
// DebugRegisters (hostDebugRegisters) plus any number of software breakpoints
// and a single-step flag; its hits stop the run loop (StopReason 'debug')
// instead of raising #DB, so a kernel on xk can debug itself at the same time.
// Its single step steps over a mov to SS and the instruction after it at once,
// as TF does. A host call that did an instruction's work (the monitor running
// a guest's instruction on the guest's processor) reports the watchpoints that
// work fired through cpu.hostReadHits/hostWriteHits, and stops after the call.

import type { Cpu } from './cpu.js';
import { DebugRegisters, DR6_BS, DR7_GD, type BreakpointKind } from './debugRegisters.js';
import { CpuFault, DB } from './exceptions.js';
import { RF, TF } from './flags.js';
import type { InterruptController } from './interrupts.js';

/** Why an outside debugger's run stopped. */
export type DebugEvent =
  | { kind: 'breakpoint'; address: number }
  | { kind: 'step' }
  | { kind: 'watch'; watch: 'watch' | 'rwatch' | 'awatch'; address: number };

/** What an outside debugger asks of the machine. */
export class OutsideDebugger {
  /** Software breakpoints (gdb's Z0): any number of instruction addresses. */
  readonly breakpoints = new Set<number>();
  /** Hardware breakpoints and watchpoints (Z1-Z4): four slots, as DR0-DR3. */
  readonly registers = new DebugRegisters();
  /** Stop after the next instruction (or after the next interrupt delivery). */
  step = false;
  /** Do not stop at a breakpoint at this address once (resuming from it). */
  resumeAt = NaN;
  /** Why the last run stopped ('debug'). */
  event: DebugEvent | null = null;
  /** What each hardware slot (DR0-DR3 of `registers`) was set for, as gdb named it. */
  readonly slots: ({ type: 'hbreak' | 'watch' | 'rwatch' | 'awatch'; address: number; length: number } | null)[] = [null, null, null, null];

  /** Put a hardware breakpoint or watchpoint in a free slot; false when all four are in use (as on the CPU). */
  insert(type: 'hbreak' | 'watch' | 'rwatch' | 'awatch', address: number, length: 1 | 2 | 4 | 8): boolean {
    const kind: BreakpointKind = type === 'hbreak' ? 'execute' : type === 'watch' ? 'write' : 'access';
    const n = this.slots.findIndex((s) => s === null);
    if (n < 0) return false;
    this.slots[n] = { type, address, length };
    this.registers.set(n, kind, address, type === 'hbreak' ? 1 : length);
    return true;
  }
  /** Remove what insert() put there; false if there was none. */
  remove(type: 'hbreak' | 'watch' | 'rwatch' | 'awatch', address: number, length: number): boolean {
    const n = this.slots.findIndex((s) => s !== null && s.type === type && s.address === address && (type === 'hbreak' || s.length === length));
    if (n < 0) return false;
    this.slots[n] = null;
    this.registers.clear(n);
    return true;
  }
}

/** What debugInstruction needs from the machine. */
export interface DebugHost {
  cpu: Cpu;
  interrupts: InterruptController;
  debugger: OutsideDebugger | null;
  stop(reason: 'debug', message?: string): void;
}

/** Raise #DB for the CPU: DR6 gets `bits`, DR7.GD is cleared (so the handler may use the debug registers). */
function raiseDebug(host: DebugHost, bits: number): void {
  const regs = host.cpu.debugRegisters;
  regs.dr6 = regs.dr6 | bits;
  regs.dr7 = regs.dr7 & ~DR7_GD;
  host.interrupts.deliver(DB, undefined, false);
}

function debuggerStop(host: DebugHost, event: DebugEvent): void {
  const d = host.debugger as OutsideDebugger;
  d.event = event;
  d.step = false;
  host.stop('debug', event.kind);
}

/** The outside debugger's first watchpoint that the instruction's reads or writes fired (a read watchpoint: only reads), or null. */
function watchEvent(d: OutsideDebugger, reads: number, writes: number): DebugEvent | null {
  for (let n = 0; n < 4; n++) {
    const slot = d.slots[n];
    if (slot === null || slot.type === 'hbreak') continue;
    const bits = slot.type === 'rwatch' ? reads : slot.type === 'watch' ? writes : reads | writes;
    if ((bits & (1 << n)) !== 0) return { kind: 'watch', watch: slot.type, address: slot.address };
  }
  return null;
}

/**
 * The last delivery's frame hit data breakpoints (cpu.deliveryHits, point 6 at
 * the top): raise their #DB now, at the handler's first instruction. Returns
 * the outside debugger's watchpoint the frame fired, or null.
 */
function deliveryTraps(host: DebugHost): DebugEvent | null {
  const { cpu } = host;
  const own = cpu.deliveryHits, outsideHits = cpu.deliveryHostHits;
  cpu.deliveryHits = cpu.deliveryHostHits = 0;
  if (own !== 0) raiseDebug(host, own);
  return outsideHits !== 0 && host.debugger !== null ? watchEvent(host.debugger, 0, outsideHits) : null;
}

/**
 * Run a host call (the kernel's or the monitor's TypeScript half; not an
 * instruction, so no breakpoint or trap of its own). When its work fired the
 * outside debugger's watchpoints (the monitor ran a guest instruction that
 * wrote a watched variable), the debugger stops after it. True if it stopped.
 */
export function runHostCall(host: DebugHost, call: (cpu: Cpu) => void): boolean {
  const { cpu } = host;
  cpu.hostReadHits = cpu.hostWriteHits = 0;
  call(cpu);
  const outside = host.debugger;
  if (outside === null || (cpu.hostReadHits | cpu.hostWriteHits) === 0) return false;
  const watch = watchEvent(outside, cpu.hostReadHits, cpu.hostWriteHits);
  cpu.hostReadHits = cpu.hostWriteHits = 0;
  if (watch === null) return false;
  debuggerStop(host, watch);
  return true;
}

/** Run one instruction with the debug checks (see the top of the file). */
export function debugInstruction(host: DebugHost): void {
  const { cpu, interrupts } = host;
  const outside = host.debugger;
  // 0. A delivery since the last instruction (a device interrupt) wrote its frame over a data breakpoint.
  if ((cpu.deliveryHits | cpu.deliveryHostHits) !== 0) {
    const raised = cpu.deliveryHits !== 0;
    const watch = deliveryTraps(host);
    if (watch !== null) debuggerStop(host, watch);
    else if (raised && outside?.step) debuggerStop(host, { kind: 'step' });
    if (watch !== null || raised) return;
  }
  // Host calls (the kernel's TypeScript half) are not instructions: no breakpoint or trap for them.
  for (;;) {
    const call = cpu.cpl === 0 && cpu.hostCalls.size !== 0 ? cpu.hostCalls.get(cpu.rip) : undefined;
    if (call === undefined) break;
    if (outside !== null && outside.resumeAt !== cpu.rip && outside.breakpoints.has(cpu.rip)) {
      debuggerStop(host, { kind: 'breakpoint', address: cpu.rip });
      return;
    }
    if (outside !== null) outside.resumeAt = NaN;
    if (runHostCall(host, call)) return;
    if (cpu.interruptCheck || cpu.halted) return;
  }
  const start = cpu.rip;
  const bits = cpu.flags.bits;
  const tf = (bits & TF) !== 0, rf = (bits & RF) !== 0;

  // 1. Breakpoints on this instruction: the outside debugger's, then the CPU's own (a fault, unless RF).
  if (outside !== null) {
    if (outside.resumeAt !== start && (outside.breakpoints.has(start) || outside.registers.executeHits(start) !== 0)) {
      debuggerStop(host, { kind: 'breakpoint', address: start });
      return;
    }
    outside.resumeAt = NaN;
  }
  if (!rf) {
    const hits = cpu.debugRegisters.executeHits(start);
    if (hits !== 0) {
      cpu.instructionStart = start;
      raiseDebug(host, hits);
      if (outside?.step) debuggerStop(host, { kind: 'step' });
      return;
    }
  }

  // 2. The instruction.
  const delivered = interrupts.delivered;
  cpu.dataHits = 0;
  cpu.hostReadHits = 0;
  cpu.hostWriteHits = 0;
  cpu.movSsShadow = false;
  cpu.repDebug = true;
  cpu.repStep = tf || (outside !== null && outside.step);
  cpu.repInterrupted = false;
  let mnemonic: string | undefined;
  try {
    cpu.instructionStart = start; // a fetch fault is a fault of this instruction
    mnemonic = cpu.decodeCache.fetch(cpu, start).d.form?.mnemonic;
    cpu.runSlice(cpu.instructionCount + 1);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    cpu.repDebug = false;
    interrupts.deliver(e.vector, e.errorCode, cpu.rip !== cpu.instructionStart);
    cpu.deliveryHits |= cpu.heldDebugTraps; // a mov to SS's traps, after the delivery
    cpu.heldDebugTraps = 0;
    const watch = deliveryTraps(host);
    if (watch !== null) debuggerStop(host, watch);
    else if (outside?.step) debuggerStop(host, { kind: 'step' });
    return;
  }
  cpu.repDebug = false;
  if (rf && mnemonic !== 'iretq' && mnemonic !== 'iret') cpu.setRflags(cpu.getRflags() & ~RF);
  // A repeated string instruction stopped between iterations: a #DB now saves RF
  // set, so an instruction breakpoint on it does not fire again when it resumes.
  const midString = cpu.repInterrupted;

  // 3. Traps after it.
  const hostReads = cpu.hostReadHits, hostWrites = cpu.hostWriteHits;
  let deliveryWatch: DebugEvent | null = null;
  if (interrupts.delivered === delivered) {
    let dr6 = cpu.dataHits | (tf ? DR6_BS : 0);
    if (cpu.movSsShadow) {
      cpu.heldDebugTraps |= dr6;
      dr6 = 0;
    } else {
      dr6 |= cpu.heldDebugTraps;
      cpu.heldDebugTraps = 0;
    }
    if (dr6 !== 0) {
      if (midString) cpu.setRflags(cpu.getRflags() | RF);
      raiseDebug(host, dr6);
    }
  } else {
    // int n and its kin: no single-step trap (the handler starts with TF clear); a mov to SS's
    // held traps and the frame's data breakpoints come after the delivery.
    cpu.deliveryHits |= cpu.heldDebugTraps;
    cpu.heldDebugTraps = 0;
    deliveryWatch = deliveryTraps(host);
  }
  if (outside !== null) {
    const watch = ((hostReads | hostWrites) !== 0 ? watchEvent(outside, hostReads, hostWrites) : null) ?? deliveryWatch;
    if (watch !== null) debuggerStop(host, watch);
    else if (outside.step && !cpu.movSsShadow) debuggerStop(host, { kind: 'step' }); // after a mov to SS: one more
  }
}
