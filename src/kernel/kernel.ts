// The kernel's state: the hardware it drives, the page allocator, the process
// table, the clock, and where the assembly entry points are. boot.ts creates it;
// trap.ts, scheduler.ts and the system calls act on it.
//
// One door to user memory, by construction: nothing reachable from a Kernel or a
// Proc is a view of physical memory. The memory is an ES private field here and
// in the few objects that need it (AddressSpace: page tables; PageAllocator:
// zeroing; TrapFrame: one kernel-stack frame; ProcTable: making kernel stacks);
// the processor is seen through KernelCpu (registers and control state, no
// memory access) and the machine through KernelHardware (no memory). User memory
// is reachable only through copyin/copyout/copyinstr (mem/copyin.ts), which alone
// holds the key to AddressSpace.frames(). test/securityDoor.test.ts type-checks
// system calls that try otherwise and expects the compiler to refuse them.

import type { Cpu } from '../machine/cpu.js';
import { TSS_RSP0, writeAddress } from '../machine/descriptors.js';
import type { PhysicalMemory } from '../machine/memory.js';
import type { PortBus } from '../machine/ports.js';
import type { TraceEvent, TraceSink } from './traceEvents.js';
import type { FileLayer } from './files/fileLayer.js';
import type { PageAllocator } from './mem/kalloc.js';
import type { AddressSpace } from './mem/vm.js';
import type { Proc, ProcTable } from './proc/proc.js';
import { FREE_MEMORY_PHYS, PAGE_SIZE, TSS_PHYS } from './mem/kernelLayout.js';
import { TRAP_FRAME_SIZE, TrapFrame } from './trap/trapFrame.js';
import type { VirtualMachineMonitor } from './proc/virtualMachine.js';
import { COM1 } from '../machine/devices/serial.js';

/** The processor as kernel code sees it: registers and control state; no access to memory. */
export type KernelCpu = Pick<
  Cpu,
  | 'regs' | 'rip' | 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'efer' | 'instructionCount' | 'invalidateDecodeCache'
  | 'gdtrBase' | 'gdtrLimit' | 'idtrBase' | 'tssBase' | 'fsBase' | 'gsBase' | 'debugRegisters' | 'debugChanged'
>;

/** The machine as kernel code sees it: no physical memory. */
export interface KernelHardware {
  mmu: { flush(): void };
  ports: PortBus;
  /** Stop the machine's run loop (the kernel is done, or has panicked). */
  stop(reason: string): void;
}

/** The parts of the machine (src/machine/machine.ts) boot() is given. */
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
  /** The `syscall` road (trapEntry.S): LSTAR's target, and the fast exit's sysretq. */
  syscallEntry: number;
  sysret: number;
  /** The iretq exit (a VM's frames always take it), and the instructions of the trap path (kernelText.ts trapPathInstructions). */
  slowret: number;
  trapPath: { entry: number[]; iretExit: number };
}

import type { DiskDriver } from './drivers/diskDriver.js';

export class Kernel {
  readonly #memory: PhysicalMemory;
  readonly cpu: KernelCpu;
  readonly hw: KernelHardware;
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
  /** Instructions between clock interrupts (boot programs the timer with it). */
  timerInterval = 0;
  /** Called after each clock interrupt (asynchronous I/O completes requests that need nothing from the disk). */
  onClockTick: (() => void) | null = null;
  /** Boots guests for vmrun; registered from above (src/vmm), null when booted without one. */
  monitor: VirtualMachineMonitor | null = null;
  /**
   * Where the running address space maps the kernel's half, relative to the
   * kernel's own addresses: 0, except for a VM whose guest uses PML4 slot 256
   * (proc/virtualMachine.ts). The processor then enters the kernel's code at
   * these other addresses; the TypeScript kernel reaches memory by physical
   * address and needs it only to find the trap frame from %rdi (trap.ts).
   */
  kernelOffset = 0;
  /** The CPU's host calls: trap() at the `trap` label (boot.ts), and at its other addresses (useKernelOffset). */
  readonly #hostCalls: Cpu['hostCalls'];

  constructor(
    hw: Hardware,
    readonly allocator: PageAllocator,
    readonly kernelVm: AddressSpace,
    readonly procs: ProcTable,
    readonly files: FileLayer,
    readonly entry: EntryPoints,
  ) {
    this.#memory = hw.memory;
    this.cpu = hw.cpu;
    this.#hostCalls = hw.cpu.hostCalls;
    this.hw = { mmu: hw.mmu, ports: hw.ports, stop: (reason) => hw.stop(reason) };
  }

  /**
   * The trap frame alltraps built at physical `phys` (from %rdi). It must lie on a
   * kernel stack: the current process's, another process's, or the idle stack
   * below the allocator's pages; never in a user page.
   */
  trapFrameAt(phys: number): TrapFrame {
    const p = this.current;
    if (p && phys === p.tf.phys) return p.tf;
    const onKernelStack =
      (phys >= 0 && phys + TRAP_FRAME_SIZE <= FREE_MEMORY_PHYS) ||
      this.procs.live().some((q) => phys >= q.kstack && phys + TRAP_FRAME_SIZE <= q.kstack + PAGE_SIZE);
    if (!onKernelStack) throw new Error(`kernel: no trap frame at physical 0x${phys.toString(16)}: not on a kernel stack`);
    return new TrapFrame(this.#memory, phys);
  }

  /** TSS.rsp0 := `top`: where the processor puts the next trap frame from user mode. */
  setTrapStack(top: number): void {
    writeAddress(this.#memory, TSS_PHYS + TSS_RSP0, top);
  }

  /**
   * The scheduler enters an address space that maps the kernel's half `offset`
   * bytes from its own addresses: the processor will reach trap()'s label there too.
   */
  useKernelOffset(offset: number): void {
    this.kernelOffset = offset;
    const alias = this.entry.trap + offset;
    if (offset !== 0 && !this.#hostCalls.has(alias)) this.#hostCalls.set(alias, (cpu) => this.#hostCalls.get(this.entry.trap)!(cpu));
  }

  /** Print a kernel message on the console (the serial port), like xv6's cprintf. */
  print(text: string): void {
    for (let i = 0; i < text.length; i++) this.hw.ports.out(COM1, 1, text.charCodeAt(i) & 0xff);
  }

  /**
   * An observer of the events emit() is given, without the trace's extra work
   * (the steps built only `if (k.trace)`): the system-call fuzzer's ledger.
   */
  observe: TraceSink | null = null;

  /** Record a trace event when tracing (or observing). */
  emit(p: Proc | null, layer: TraceEvent['layer'], step: string, text: string, args?: TraceEvent['args']): void {
    if (!this.trace && !this.observe) return;
    const event = { count: this.cpu.instructionCount, pid: p ? p.pid : 0, layer, step, text, args };
    this.trace?.(event);
    this.observe?.(event);
  }
}
