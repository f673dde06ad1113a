// The kernel's state: the hardware it drives, physical memory and the page
// allocator, the process table, the clock, and where the assembly entry points are.
// boot.ts creates it; trap.ts, scheduler.ts and the system calls act on it.

import type { Cpu } from '../machine/cpu.js';
import type { PhysicalMemory } from '../machine/memory.js';
import type { PortBus } from '../machine/ports.js';
import type { TraceEvent, TraceSink } from './traceEvents.js';
import type { FileLayer } from './files/fileLayer.js';
import type { PageAllocator } from './mem/kalloc.js';
import type { AddressSpace } from './mem/vm.js';
import type { Proc, ProcTable } from './proc/proc.js';
import type { VirtualMachineMonitor } from './proc/virtualMachine.js';
import { COM1 } from '../machine/devices/serial.js';

/** The parts of the machine (src/machine/machine.ts) the kernel uses. */
export interface Hardware {
  memory: PhysicalMemory;
  cpu: Cpu;
  mmu: { flush(): void };
  ports: PortBus;
  /** Stop the machine's run loop (the kernel is done, or has panicked). */
  stop(reason: string): void;
}

/** Kernel linear addresses of the assembly entry points (trap/trapEntry.S, trapVectors.ts). */
export interface EntryPoints {
  alltraps: number;
  trapret: number;
  iret: number;
  trap: number;
  idle: number;
  vectors: number[];
}

import type { DiskDriver } from './drivers/diskDriver.js';

export class Kernel {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  /** The running process, or null while idle. */
  current: Proc | null = null;
  /** Timer interrupts so far. */
  ticks = 0;
  /** sleep(n) sleeps on this; every tick wakes it. */
  readonly ticksChannel = { name: 'ticks' };
  /** The first process: /init, or the program `xk run` was given. */
  initProc: Proc | null = null;
  /** Set when the first process exits: the status `xk run` returns. */
  exitStatus: number | null = null;
  /** Round-robin position in the process table. */
  lastSlot = -1;
  pageFaults = 0;
  /** How fork copies memory: 'cow' shares pages copy-on-write; 'eager' copies every page (npm run bench compares them). */
  forkCopies: 'cow' | 'eager' = 'cow';
  trace: TraceSink | null = null;
  /** The timed disk's driver (drivers/diskDriver.ts); null when the file system is on the instant disk. */
  disk: DiskDriver | null = null;
  /** Called after each disk interrupt (asynchronous I/O moves its requests on). */
  onDiskInterrupt: (() => void) | null = null;
  /** Boots guests for vmrun; registered from above (src/vmm), null when booted without one. */
  monitor: VirtualMachineMonitor | null = null;

  constructor(
    readonly hw: Hardware,
    readonly allocator: PageAllocator,
    readonly kernelVm: AddressSpace,
    readonly procs: ProcTable,
    readonly files: FileLayer,
    readonly entry: EntryPoints,
  ) {
    this.mem = hw.memory;
    this.cpu = hw.cpu;
  }

  /** Print a kernel message on the console (the serial port), like xv6's cprintf. */
  print(text: string): void {
    for (const b of Buffer.from(text, 'latin1')) this.hw.ports.out(COM1, 1, b);
  }

  /** Record a trace event when tracing. */
  emit(p: Proc | null, layer: TraceEvent['layer'], step: string, text: string, args?: TraceEvent['args']): void {
    if (this.trace) this.trace({ count: this.cpu.instructionCount, pid: p ? p.pid : 0, layer, step, text, args });
  }
}
