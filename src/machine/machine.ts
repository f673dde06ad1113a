// The machine: physical memory, the MMU, one CPU, the interrupt controller and
// the devices on the port bus, and the run loop that drives them.
//
// Time is the retired-instruction count, so a run is deterministic: device
// interrupts are looked for only at instruction boundaries, and only when
// something could have changed (the timer's deadline passed, a device raised
// a line while IF = 1, or IF itself changed). The timer and the disk have
// deadlines; the run loop never runs past the nearest one.

import type { DirectExits } from './directExits.js';
import { ExceptionLoopWatch } from './exceptionLoop.js';
import { Cpu } from './cpu.js';
import { attachStandardDevices, type Devices } from './devices/standard.js';
import type { SectorStore } from './devices/disk.js';
import { debugInstruction, OutsideDebugger } from './debugExceptions.js';
import { CpuFault } from './exceptions.js';
import { IF, RF, TF } from './flags.js';
import { InterruptController } from './interrupts.js';
import { PhysicalMemory } from './memory.js';
import { Mmu } from './mmu.js';
import { PortBus } from './ports.js';
import { executeSystem } from './system.js';

/** 'debug': the outside debugger's breakpoint, watchpoint or step (machine.debugger.event says which). */
export type StopReason = 'limit' | 'halted' | 'triple-fault' | 'stopped' | 'debug';

export interface MachineOptions {
  /** Size of physical memory in bytes (a multiple of 4096). */
  memoryBytes: number;
  /** Instructions between timer interrupts (IRQ 0); 0 or absent = off until the guest programs the timer. */
  timerInterval?: number;
  /** Receives the bytes written to the serial port. */
  serialOut?: (bytes: Uint8Array) => void;
  /** Bytes waiting at the serial port. */
  serialIn?: Uint8Array | string;
  /** Disk image (a multiple of 512 bytes), or the sectors behind the disk. */
  disk?: Uint8Array | SectorStore;
}

export class Machine {
  readonly memory: PhysicalMemory;
  readonly mmu: Mmu;
  readonly cpu: Cpu;
  readonly ports = new PortBus();
  readonly interrupts: InterruptController;
  readonly devices: Devices;
  /** Strict virtualization (src/vmm --strict): pushf/popf/sgdt/sidt/smsw/str/mov-from-sreg trap at CPL 3. */
  strictVirtualization = false;
  /** A monitor running its guest here takes the guest's exits directly (directExits.ts); null: every fault is thrown. */
  directExits: DirectExits | null = null;
  /** Why the last run stopped, in words (set by stop(), triple faults, halts). */
  stopMessage = '';
  private stopRequest: StopReason | null = null;
  /** An outside debugger (the gdb stub), once attached. */
  debugger: OutsideDebugger | null = null;

  constructor(options: MachineOptions) {
    if (!options || !Number.isInteger(options.memoryBytes) || options.memoryBytes <= 0) {
      throw new Error(`machine: memoryBytes must be a positive integer, got ${options?.memoryBytes}`);
    }
    this.memory = new PhysicalMemory(options.memoryBytes);
    this.mmu = new Mmu(this.memory);
    this.cpu = new Cpu(this.memory, this.mmu);
    this.mmu.regs = this.cpu;
    this.interrupts = new InterruptController(this);
    this.cpu.system = (d) => executeSystem(this, d);
    this.devices = attachStandardDevices(this, {
      timerInterval: options.timerInterval, serialOut: options.serialOut, serialIn: options.serialIn, disk: options.disk,
    });
  }

  /** Ask the run loop to stop after the current instruction (from a host call or device). */
  stop(reason: StopReason | string, message?: string): void {
    // A debugger's stop after the instruction that also ended the machine (a shutdown port write) does not hide the end.
    if (reason === 'debug' && this.stopRequest !== null) return;
    this.stopRequest = reason === 'triple-fault' ? 'triple-fault' : reason === 'debug' ? 'debug' : 'stopped';
    this.stopMessage = message ?? String(reason);
    this.cpu.interruptCheck = true; // end the current slice
  }

  /** The outside debugger (created on first use); call debuggerChanged() after changing it. */
  attachDebugger(): OutsideDebugger {
    if (this.debugger === null) {
      this.debugger = new OutsideDebugger();
      this.cpu.hostDebugRegisters = this.debugger.registers;
    }
    return this.debugger;
  }

  /** The outside debugger's breakpoints, watchpoints or step changed. */
  debuggerChanged(): void {
    const d = this.debugger;
    this.cpu.hostDebugActive = d !== null && (d.step || d.breakpoints.size !== 0);
    this.cpu.debugChanged();
  }

  /** Physical page `n` was written behind the CPU's back (DMA, a loader): drop its decoded code. */
  invalidateCode(physPage: number): void {
    this.cpu.invalidateDecodeCache(physPage);
  }

  /** Copy bytes into physical memory (and forget any code decoded there). */
  loadPhysical(phys: number, data: Uint8Array): void {
    this.memory.load(phys, data);
    for (let p = Math.floor(phys / 4096); p <= Math.floor((phys + data.length - 1) / 4096); p++) this.cpu.invalidateDecodeCache(p);
  }

  /** Run up to `maxInstructions` instructions (or until an exception loop: exceptionLoop.ts). */
  run(maxInstructions: number): StopReason {
    const cpu = this.cpu;
    const ic = this.interrupts;
    const loop = new ExceptionLoopWatch(ic.delivered, maxInstructions);
    const pic = ic.pic;
    const flags = cpu.flags;
    const end = cpu.instructionCount + maxInstructions;
    this.stopRequest = null;
    this.stopMessage = '';
    cpu.interruptCheck = true; // devices may have changed between runs
    while (cpu.instructionCount < end) {
      if (this.stopRequest !== null) return this.stopRequest;
      if (cpu.halted) {
        // Skip idle time to the next interrupt; if none can come, the machine is halted for good.
        if (!ic.idle()) {
          this.stopMessage = 'hlt with no interrupt that can wake the CPU';
          return 'halted';
        }
        continue;
      }
      if (cpu.interruptCheck || cpu.instructionCount + ic.idleTicks >= ic.nextDeadline() ||
          ((pic.irr & ~pic.imr) !== 0 && (flags.bits & IF) !== 0)) {
        cpu.interruptCheck = false;
        ic.poll();
        if (this.stopRequest !== null) return this.stopRequest;
        if (loop.note(cpu.instructionCount, ic.delivered)) return this.exceptionLoop(loop);
        if (cpu.halted) continue;
      }
      // Run until the timer's deadline at most; system instructions and IF changes end the slice early.
      // A request that could not be taken yet (sti's one-instruction shadow, a higher-priority
      // interrupt in service) is looked at again after every instruction.
      const waiting = (pic.irr & ~pic.imr) !== 0 && (flags.bits & IF) !== 0;
      const limit = waiting ? cpu.instructionCount + 1 : Math.min(end, ic.nextDeadline() - ic.idleTicks);
      try {
        // Debugging (debugExceptions.ts) looks at every instruction; otherwise a whole slice runs.
        if (cpu.debugEnabled || (flags.bits & (TF | RF)) !== 0) {
          debugInstruction(this); // delivers its instruction's fault itself
          if (loop.note(cpu.instructionCount, ic.delivered)) return this.exceptionLoop(loop);
        } else cpu.runSlice(limit);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        // runSlice left RIP at the instruction for faults and after it for int3/int n.
        const software = cpu.rip !== cpu.instructionStart;
        ic.deliver(e.vector, e.errorCode, software);
        if (loop.note(cpu.instructionCount, ic.delivered)) return this.exceptionLoop(loop);
      }
      if (this.directExits?.pending === true) this.directExits.deliver(cpu);
    }
    return 'limit';
  }

  private exceptionLoop(loop: ExceptionLoopWatch): StopReason {
    this.stopMessage = loop.message(this.cpu.rip);
    return 'limit';
  }
}
