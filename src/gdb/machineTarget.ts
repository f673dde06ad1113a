// The bare machine as a debug target: the CPU's registers, memory through the
// page tables CR3 names (or physical addresses while paging is off), and the
// machine's own run loop, whose debug checks (machine/debugExceptions.ts) stop
// it at breakpoints, watchpoints and after a single step.

import type { DebugEvent, OutsideDebugger } from '../machine/debugExceptions.js';
import type { Machine, StopReason } from '../machine/machine.js';
import { CR0_PG, EFER_NXE, walkPageTables } from '../machine/mmu.js';
import type { DebugTarget, StopEvent } from './target.js';
import { REGISTERS } from './targetDescription.js';

/** gdb's order of the general registers -> the x86 register number xk's CPU uses. */
const GPR_INDEX = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
const RIP = 16, EFLAGS = 17, CS = 18;
const SIGTRAP = 5;
const SEGMENT_NAMES = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const;

function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt.asUintN(bytes * 8, value);
  for (let i = 0; i < bytes; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}
function fromLe(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}
const signed64 = (v: bigint): number => Number(BigInt.asIntN(64, v));

/** The machine's debug event as the stub's stop event. */
export function stopEvent(event: DebugEvent): StopEvent {
  if (event.kind === 'watch') return { kind: 'signal', signal: SIGTRAP, watch: { type: event.watch, address: BigInt.asUintN(64, BigInt(event.address)) } };
  return { kind: 'signal', signal: SIGTRAP };
}

export interface MachineTargetOptions {
  /** How a stopped run loop turns into a stop event (a shutdown port's status, say). */
  ended?: (reason: StopReason, machine: Machine) => StopEvent;
  monitor?: (command: string) => string | null;
  /** Run `n` instructions some other way than machine.run (a kernel session that also ends when its first process exits). */
  run?: (n: number) => StopEvent | null;
}

export class MachineTarget implements DebugTarget {
  constructor(readonly machine: Machine, private readonly options: MachineTargetOptions = {}) {
    if (options.monitor) this.monitor = options.monitor;
  }
  monitor?: (command: string) => string | null;

  readRegister(n: number): Uint8Array {
    const cpu = this.machine.cpu;
    const info = REGISTERS[n];
    if (!info) return new Uint8Array(0);
    const bytes = info.bits / 8;
    if (n < 16) return le(cpu.getReg64(GPR_INDEX[n]), 8);
    if (n === RIP) return le(BigInt(cpu.rip), 8);
    if (n === EFLAGS) return le(BigInt(cpu.getRflags()), 4);
    if (n >= CS && n < CS + 6) return le(BigInt(cpu[SEGMENT_NAMES[n - CS]]), 4);
    switch (info.name) {
      case 'fs_base': return le(BigInt(cpu.fsBase), 8);
      case 'gs_base': return le(BigInt(cpu.gsBase), 8);
      case 'cr0': return le(BigInt(cpu.cr0), 8);
      case 'cr2': return le(BigInt(cpu.cr2), 8);
      case 'cr3': return le(BigInt(cpu.cr3), 8);
      case 'cr4': return le(BigInt(cpu.cr4), 8);
      case 'efer': return le(BigInt(cpu.efer), 8);
      case 'fctrl': return le(0x37fn, 4); // x87 reset state (xk has no x87 unit)
      case 'mxcsr': return le(0x1f80n, 4);
    }
    return new Uint8Array(bytes); // x87/SSE: xk's CPU has none, they read as zero
  }

  writeRegister(n: number, bytes: Uint8Array): boolean {
    const cpu = this.machine.cpu;
    const info = REGISTERS[n];
    if (!info || bytes.length !== info.bits / 8) return false;
    const v = fromLe(bytes);
    if (n < 16) { cpu.setReg64(GPR_INDEX[n], v); return true; }
    if (n === RIP) { cpu.rip = signed64(v); return true; }
    if (n === EFLAGS) { cpu.setRflags(Number(v & 0xffffffffn)); return true; }
    if (info.name === 'fs_base') { cpu.fsBase = signed64(v); return true; }
    if (info.name === 'gs_base') { cpu.gsBase = signed64(v); return true; }
    // Segment and control registers: changing them behind the CPU's back would skip its checks.
    return n >= REGISTERS.findIndex((r) => r.name === 'st0') && n < REGISTERS.findIndex((r) => r.name === 'fs_base');
  }

  /** Physical address of linear `address`, as the CPU would translate it now (no A/D side effects); -1 if unmapped. */
  physical(address: number): number {
    const { cpu, memory } = this.machine;
    let phys = address;
    if ((cpu.cr0 & CR0_PG) !== 0) {
      const walk = walkPageTables(memory, cpu.cr3, (cpu.efer & EFER_NXE) !== 0, address);
      if (!walk.ok) return -1;
      phys = walk.phys;
    }
    return phys >= 0 && phys < memory.size ? phys : -1;
  }

  readMemory(address: bigint, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    const start = signed64(address);
    let phys = -1;
    for (let i = 0; i < length; i++) {
      if (i === 0 || ((start + i) & 0xfff) === 0) phys = this.physical(start + i) - i;
      if (phys + i < 0) return null;
      out[i] = this.machine.memory.read8(phys + i);
    }
    return out;
  }

  writeMemory(address: bigint, bytes: Uint8Array): boolean {
    const start = signed64(address);
    const phys: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const p = i === 0 || ((start + i) & 0xfff) === 0 ? this.physical(start + i) : phys[i - 1] + 1;
      if (p < 0) return false;
      phys.push(p);
    }
    for (let i = 0; i < bytes.length; i++) {
      this.machine.memory.write8(phys[i], bytes[i]);
      this.machine.invalidateCode(Math.floor(phys[i] / 4096));
    }
    return true;
  }

  pc(): bigint {
    return BigInt.asUintN(64, BigInt(this.machine.cpu.rip));
  }

  get debugger(): OutsideDebugger {
    return this.machine.attachDebugger();
  }
  debuggerChanged(): void {
    this.machine.debuggerChanged();
  }

  step(): StopEvent | null {
    const d = this.debugger;
    d.step = true;
    d.resumeAt = this.machine.cpu.rip; // a breakpoint here does not stop the step before it starts
    this.debuggerChanged();
    try {
      return this.run(1_000_000);
    } finally {
      d.step = false;
      this.debuggerChanged();
    }
  }

  run(n: number): StopEvent | null {
    const d = this.debugger;
    d.event = null;
    const ended = this.runMachine(n);
    const event = d.event as DebugEvent | null;
    d.event = null;
    if (ended) return ended;
    return event === null ? null : stopEvent(event);
  }

  private runMachine(n: number): StopEvent | null {
    if (this.options.run) return this.options.run(n);
    const reason = this.machine.run(n);
    if (reason === 'limit' || reason === 'debug') return null;
    if (this.options.ended) return this.options.ended(reason, this.machine);
    return { kind: 'ended', message: this.machine.stopMessage || reason };
  }
}
