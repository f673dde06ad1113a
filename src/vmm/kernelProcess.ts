// A virtual machine as a process of the xk kernel.
//
// The process's memory is the guest's: contiguous physical pages from the page
// allocator (guest-physical g is physical base + g), followed by a pool for the
// monitor's shadow page tables. The guest runs at real CPL 3 on the shadow
// tables (src/vmm/shadowPaging.ts), whose PML4 slot 256 is the kernel's own
// (supervisor-only), so a trap from the guest enters this kernel like any trap
// from user mode. trap() sees that the process is a VM and hands the trap to
// the monitor (src/vmm/monitor.ts); the scheduler preempts it like any process.
//
// The VM runs on its own GDT (vmGdt.ts, the same layout as on the bare
// machine) and its own copy of the kernel's IDT, loaded while it is the current
// process: the kernel's code and data selectors and the TSS (the hardware needs
// them to deliver traps), no user selectors, and the segments the guest really
// runs on.
//
// The kernel's window. Of the kernel, the processor needs only a few things by
// linear address while the guest runs: the IDT (a gate), the GDT (the kernel's
// CS, the guest's CS and SS on iretq, the TSS descriptor), the TSS (rsp0), the
// VM process's kernel stack (the frame it pushes, the stub's pushes, slowret's
// pops) and the kernel text (the vector stub, alltraps, the `trap` label where
// trap() runs as a host call, slowret and iretq). The TypeScript kernel reads
// and writes memory by physical address, whatever CR3 holds. All of it is in
// the kernel's half, slot 256, so a guest that uses slot 256 itself (a kernel
// linked at 0xffff800000000000, where Linux keeps its direct map) gets the
// kernel's half in another slot instead, the highest its PML4 leaves empty, as
// under xk vm (host.ts): the first access there (a real #PF the shadow cannot
// fill) moves it (`relocateKernel`), and again if the guest later uses that
// slot too. The shadow roots then copy the kernel's slot-256 entry
// (supervisor-only) into the new slot; the VM's GDT and IDT are rewritten with
// the TSS and the gates there; enterGuest loads GDTR, IDTR and the TSS base at
// the new addresses, and the scheduler loads the stack, the return address and
// TSS.rsp0 there (GuestAddressSpace.kernelOffset).
// The kernel's text is position-independent, so the same bytes run there.

import { prepareGuestImage } from './guestImage.js';
import type { PortableVm } from './vmState.js';
import { GuestMemory } from './guestMemory.js';
import { guestCpuFor } from './guestCpu.js';
import { realDr7 } from './guestBreakpoints.js';
import { afterTrap, handleTrap, virtualClock, type TrapOutcome, type VmEventListener, type VmState } from './monitor.js';
import { ShadowPaging, slotBase } from './shadowPaging.js';
import { frameFromValues, frameValues, RAX, RDX, reg64, REGISTER_FIELDS, RSP, runningRflags, u64, VmTrapFrame, type TrapFrameValues } from './trapFrame.js';
import { Vcpu } from './vcpu.js';
import { GUEST_CS, GUEST_SS, VM_GDT_LIMIT, writeVmGdt } from './vmGdt.js';
import { VirtualDevices } from './virtualDevices.js';
import { GuestTimer, nextGuestEvent } from './guestTimer.js';
import { existingSignalState } from '../kernel/signals/signals.js';
import { exitProcess } from '../kernel/proc/exit.js';
import type { Kernel } from '../kernel/kernel.js';
import type { PageAllocator } from '../kernel/mem/kalloc.js';
import { IDT_PHYS, KERNBASE, PAGE_SIZE, TSS_PHYS, T_IRQ0, T_SYSCALL, p2v } from '../kernel/mem/kernelLayout.js';
import { encodeGate, parseGate } from '../machine/descriptors.js';
import { VECTOR_COUNT } from '../kernel/trap/trapVectors.js';
import type { Proc } from '../kernel/proc/proc.js';
import type { GuestAddressSpace, VirtualMachineMonitorFactory } from '../kernel/proc/virtualMachine.js';
import type { PhysicalMemory } from '../machine/memory.js';
import { EFER_SCE } from '../machine/mmu.js';
import type { TrapFrame } from '../kernel/trap/trapFrame.js';

/** Pages for the shadow page tables. */
const SHADOW_POOL_PAGES = 512;

/** What the monitor keeps for a process that is a VM (behind Proc.guest). */
export interface VmProcess {
  state: VmState;
  /** Physical address of guest-physical 0, and the pages allocated from there (guest memory + shadow pool). */
  base: number;
  pages: number;
  /** Physical addresses of the VM's GDT page and IDT page. */
  gdt: number;
  idt: number;
  /** Where the VM's address space maps the kernel's half, relative to its own addresses (GuestAddressSpace). */
  kernelOffset: number;
  /** Real instructions the guest retired so far, and the CPU's count when it was last entered. */
  retired: number;
  enteredAt: number;
  /** The guest's translation changed: flush the TLB and the decode cache before it runs again. */
  dirty: boolean;
  /** The kernel's EFER while the guest runs with SCE clear (enterGuest). */
  hostEfer: number;
  /** The real DR6's status bits when the guest last left the CPU (the monitor's takeDebugStatus). */
  debugStatus: number;
  /** The kernel's timer, set to stop the guest at its next event (its timer deadline, a save point: guestTimer.ts). */
  timer: GuestTimer;
}

export interface SpawnVmOptions {
  /** Guest memory in MiB, 4 to 16 (default 4). */
  memoryMiB?: number;
  /** The guest's serial output (default: the console). */
  serialOut?: (bytes: Uint8Array) => void;
  parent?: Proc | null;
  /** Watches the VM's path (monitor.ts VmEvent): exits, emulated instructions, deliveries, resumes. */
  onEvent?: VmEventListener;
  /**
   * After exactly `instructions` guest instructions (guestTimer.ts; or at the first trap after, if the guest's own time jumps past it in hlt), write the VM's portable state
   * (vmState.ts) with `write` and end the VM's process (status 0): the VM moves to another host.
   */
  saveAt?: { instructions: number; write: (state: Uint8Array) => void };
  /** Called once when the guest stops (shutdown, triple fault, hlt for ever...): how it ended, what it left (the fuzzer compares it with the bare machine). */
  onStop?: (end: KernelVmEnd) => void;
  /**
   * Reading and writing state files (vmStateCodec.ts; kept out of this file, which the web
   * page loads, because it needs node:zlib). Without it a state file is not a boot image.
   */
  states?: VmStateCodec;
}

/** How a VM process ended (SpawnVmOptions.onStop). */
export interface KernelVmEnd {
  name: string;
  outcome: Extract<TrapOutcome, { action: 'stop' }>;
  /** The guest's clock: guest instructions retired (plus idle time), as the bare machine counts them. */
  clock: number;
  /** The guest's registers at the stop (the monitor's frame, as 64-bit values). */
  frame: TrapFrameValues;
  /** Guest memory as the guest wrote it (a copy; where the loader planted an int3, the original byte). */
  memory: Uint8Array;
  /** The monitor's exits by kind (VmState.exits, a copy). */
  exits: Map<string, number>;
}

/** vmState.ts's portable states, as the kernel's monitor uses them. */
export interface VmStateCodec {
  isState(file: Uint8Array): boolean;
  /** The geometry, once the whole file is checked (throws naming what is wrong). */
  header(file: Uint8Array): { guestBytes: number; strict: boolean };
  load(file: Uint8Array, target: () => PortableVm): PortableVm;
  save(vm: PortableVm): Uint8Array;
}

/**
 * Create a runnable process that boots the guest image `elf` in `memory` (the machine's) (the boot protocol
 * of guest/README.md). Throws BootImageError for a bad image, Error when memory
 * or the process table is full.
 */
export function spawnVm(k: Kernel, memory: PhysicalMemory, elf: Uint8Array, name: string, options: SpawnVmOptions = {}): Proc {
  // A saved VM (vmState.ts's portable state) instead of an image: the VM moves here and runs on.
  const codec = options.states;
  const resumed = codec?.isState(elf) ?? false;
  const mib = resumed ? 0 : options.memoryMiB ?? 4;
  if (!resumed && (!Number.isInteger(mib) || mib < 4 || mib > 16)) throw new Error(`vm: guest memory must be 4 to 16 MiB, got ${mib}`);
  let portable: PortableVm | undefined;
  const image = resumed ? { segments: [], patches: new Map<number, Uint8Array>(), entry: 0 } : prepareGuestImage(elf, name, true);
  let guestBytes = mib * 1024 * 1024;
  if (resumed) {
    // Check the file before taking any memory: the header names the geometry.
    const h = codec!.header(elf);
    if (h.strict) throw new Error('vm: a VM saved with --strict runs on the strict machine only (its code is not patched)');
    if (h.guestBytes % PAGE_SIZE !== 0 || h.guestBytes < 4 * 1048576 || h.guestBytes > 16 * 1048576) throw new Error(`vm: guest memory of ${h.guestBytes} bytes`);
    guestBytes = h.guestBytes;
  }
  const pages = guestBytes / PAGE_SIZE + SHADOW_POOL_PAGES;
  const base = k.allocator.allocContiguous(pages);
  if (base < 0) throw new Error(`vm: no ${pages * PAGE_SIZE / 1048576} MiB of contiguous physical memory for ${name}`);
  const gdt = k.allocator.alloc();
  const idt = gdt < 0 ? -1 : k.allocator.alloc();
  const p = idt < 0 ? null : k.procs.alloc(name);
  if (!p) {
    k.allocator.releaseRun(base, pages);
    if (gdt >= 0) k.allocator.release(gdt);
    if (idt >= 0) k.allocator.release(idt);
    throw new Error(`vm: no free process slot or memory for ${name}`);
  }

  // Shadow roots map the kernel's half (PML4 slot 256, the direct map; supervisor-only): traps enter the kernel.
  const shadow = new ShadowPaging(memory, guestBytes, base + guestBytes, base + pages * PAGE_SIZE, 0, { base, reservedSlot: KERNEL_SLOT, hostRoot: k.kernelVm.root });
  const vcpu = new Vcpu();
  vcpu.cs = 0; // the reset state: paging off, virtual CPL 0
  let guest: VmProcess;
  const devices = new VirtualDevices(() => virtualClock(guest.state), options.serialOut ?? ((b) => k.print(String.fromCharCode(...b))));
  const translationChanged = (): void => { guest.dirty = true; };
  const state: VmState = {
    vcpu, shadow, devices, mem: new GuestMemory(memory, shadow, vcpu),
    cpu: guestCpuFor(shadow, devices, translationChanged, (page) => k.cpu.invalidateDecodeCache(page)),
    realInstructions: () => guest.retired + (k.current === p ? k.cpu.instructionCount - guest.enteredAt : 0),
    translationChanged,
    exits: new Map(),
    patches: image.patches,
    onEvent: options.onEvent,
    takeDebugStatus: () => guest.debugStatus,
    relocateMonitor: () => relocateKernel(memory, guest),
  };
  guest = { state, base, pages, gdt, idt, kernelOffset: 0, retired: 0, enteredAt: 0, dirty: true, hostEfer: 0, debugStatus: 0, timer: new GuestTimer() };
  placeKernelWindow(memory, guest);

  // Load the image (its sensitive instructions patched into traps: guestImage.ts), or the saved VM.
  const frame = frameValues(new VmTrapFrame());
  try {
    for (const s of image.segments) shadow.load(s.paddr, s.data, s.memsz);
    if (resumed) {
      portable = codec!.load(elf, () => ({
        clock: 0, vcpu, devices, regs: frame, memory: shadow.guest.bytes.subarray(0, guestBytes), patches: state.patches, boundaryChecked: false, loopDeliveries: 0,
      }));
      vcpu.extraTicks = portable.clock; // the guest's clock goes on from where it was saved
    }
  } catch (e) {
    k.procs.free(p);
    releaseVm(k.allocator, guest);
    throw e;
  }
  k.cpu.invalidateDecodeCache();
  if (options.onStop) stopped.set(guest, options.onStop);
  if (options.saveAt) {
    if (!codec) throw new Error('vm: saving a VM needs SpawnVmOptions.states');
    saving.set(guest, { ...options.saveAt, codec });
  }

  p.guest = {
    enter: (kernel) => enterGuest(kernel, guest),
    trap: (kernel, tf) => vmTrap(kernel, p, guest, tf),
    release: (allocator) => releaseVm(allocator, guest),
  };
  p.parent = options.parent ?? null;
  fromVmFrame(p.tf, frameFromValues(frame));
  if (!resumed) p.tf.set('rip', image.entry);
  p.state = 'runnable';
  return p;
}

/** Give back a VM's physical memory (ProcTable.free). */
export function releaseVm(allocator: PageAllocator, guest: VmProcess): void {
  allocator.releaseRun(guest.base, guest.pages);
  allocator.release(guest.gdt);
  allocator.release(guest.idt);
}

/** The kernel's own PML4 slot (256: KERNBASE, the direct map). */
const KERNEL_SLOT = Math.floor((KERNBASE + 2 ** 48) / 2 ** 39);

/**
 * Write the VM's GDT and IDT for the kernel's half at guest.kernelOffset: the
 * TSS descriptor names the kernel's TSS there, and each gate is the kernel's
 * own (boot.ts) with its handler, a vector stub, there.
 */
function placeKernelWindow(memory: PhysicalMemory, guest: VmProcess): void {
  const offset = guest.kernelOffset;
  writeVmGdt(memory.bytes, guest.gdt, p2v(TSS_PHYS) + offset);
  for (let v = 0; v < VECTOR_COUNT; v++) {
    const gate = parseGate(memory.bytes, IDT_PHYS + 16 * v);
    memory.bytes.set(encodeGate({ ...gate, offset: gate.offset + offset }), guest.idt + 16 * v);
  }
}

/**
 * The guest uses the PML4 slot where it sees the kernel's half: move the half to
 * the highest slot the guest leaves empty (ShadowPaging.relocate). The kernel is
 * inside trap() now, on the old addresses; it leaves by the scheduler, which
 * enters the VM again at the new ones. False when the guest leaves no slot empty:
 * its accesses to that slot then run on the guest's processor (monitor.ts).
 */
function relocateKernel(memory: PhysicalMemory, guest: VmProcess): boolean {
  const slot = guest.state.shadow.relocate(guest.state.vcpu);
  if (slot < 0) return false;
  guest.kernelOffset = slotBase(slot) - KERNBASE;
  placeKernelWindow(memory, guest);
  guest.dirty = true;
  return true;
}

/**
 * Called by the scheduler when it switches to the VM: the processor state it
 * runs with (its GDT, IDT and TSS where it sees the kernel's half, FS/GS bases).
 * Returns the page-table root and that place.
 */
function enterGuest(k: Kernel, guest: VmProcess): GuestAddressSpace {
  const cpu = k.cpu;
  const { vcpu, shadow } = guest.state;
  const kernelOffset = guest.kernelOffset;
  cpu.gdtrBase = p2v(guest.gdt) + kernelOffset;
  cpu.gdtrLimit = VM_GDT_LIMIT;
  cpu.idtrBase = p2v(guest.idt) + kernelOffset;
  cpu.tssBase = p2v(TSS_PHYS) + kernelOffset; // what ltr loads from the VM GDT's TSS descriptor
  cpu.fsBase = vcpu.fsBase;
  cpu.gsBase = vcpu.gsBase;
  const root = shadow.root(vcpu.cpl);
  if (guest.dirty) {
    k.hw.mmu.flush(); // decoded instructions are keyed by physical address: they stay valid
    guest.dirty = false;
  }
  // The kernel enables `syscall` (EFER.SCE); the guest's must not reach the kernel's entry
  // stub: with SCE clear the real CPU raises #UD and the monitor runs it on the guest's processor.
  guest.hostEfer = cpu.efer;
  cpu.efer = (cpu.efer & ~EFER_SCE) >>> 0;
  guest.enteredAt = cpu.instructionCount;
  // The guest's next event (its timer's deadline, a save point) at its instruction: guestTimer.ts.
  const clock = virtualClock(guest.state);
  guest.timer.arm(k, clock, nextGuestEvent(guest.state, clock, saving.get(guest)?.instructions));
  // The guest's own breakpoints (DR0-DR3, DR7 but GD, which stays virtual) on the real CPU while it runs; vmTrap takes them off.
  if ((vcpu.dr7 & 0xff) !== 0) {
    const regs = cpu.debugRegisters;
    for (let n = 0; n < 4; n++) regs.setAddress(n, vcpu.dr[2 * n], vcpu.dr[2 * n + 1]);
    regs.dr7 = realDr7(vcpu, shadow); // without GD, and nothing in the kernel's own slot (guestBreakpoints.ts)
    cpu.debugChanged();
  }
  return { root, kernelOffset };
}

/**
 * A trap from a VM process (real CPL 3 inside the guest). Device interrupts
 * return false: the kernel handles them as for any process (the timer preempts
 * the VM), after the monitor has advanced the guest's virtual timer. Everything
 * else goes to the monitor and returns true; the process then either resumes
 * with the frame the monitor left, or exits when the guest stopped.
 */
function vmTrap(k: Kernel, p: Proc, guest: VmProcess, tf: TrapFrame): boolean {
  k.cpu.efer = guest.hostEfer; // the kernel's own EFER again (enterGuest)
  const trapno = tf.lo('trapno');
  // Guest time is guest instructions: since the guest was entered the CPU also ran the kernel's
  // way out (slowret: pops, iretq) and, for this trap, its way in (the vector stub, alltraps).
  const path = k.entry.trapPath;
  guest.retired += k.cpu.instructionCount - guest.enteredAt - path.iretExit - (path.entry[trapno] ?? 0);
  guest.enteredAt = k.cpu.instructionCount;
  // The monitor's own clock interrupt (guestTimer.ts) is the guest's boundary, not the kernel's tick.
  const monitorTick = guest.timer.onTrap(k, trapno);
  // What the real CPU's debug registers saw of the guest (monitor.ts reflects a #DB), then the kernel's again: none.
  const regs = k.cpu.debugRegisters;
  guest.debugStatus = regs.dr6 & 0xe00f;
  regs.dr6 = 0;
  if ((regs.dr7 & 0xff) !== 0) {
    regs.dr7 = 0;
    k.cpu.debugChanged();
  }
  const frame = toVmFrame(tf);
  const watch = guest.state.onEvent;
  // rip: the guest instruction that left (the int $64 itself, whose trap frame holds the next rip).
  watch?.({ kind: 'exit', trapno, err: frame.err, rip: u64(trapno === T_SYSCALL ? frame.rip - 2 : frame.rip), cpl: guest.state.vcpu.cpl, rsp: reg64(frame, RSP), rax: reg64(frame, RAX), rdx: reg64(frame, RDX) }, guest.state);
  let outcome: TrapOutcome;
  // Every host device interrupt (timer, serial, disk...) is the host's, not the guest's: one
  // that arrived while the VM ran must reach the kernel's handler (a disk completion for a
  // process sleeping on it), or a VM that never traps would starve the host's I/O forever.
  const deviceInterrupt = trapno >= T_IRQ0 && trapno < T_IRQ0 + 16 && !monitorTick;
  if (deviceInterrupt || monitorTick) {
    outcome = afterTrap(guest.state, frame);
  } else {
    if (trapno === T_SYSCALL) {
      // The guest's int $64 went through the kernel's one DPL 3 gate: show the monitor
      // what every other int n looks like, a #GP naming the IDT entry at the int (2 bytes).
      frame.trapno = 13;
      frame.err = (T_SYSCALL << 3) | 2;
      frame.rip -= 2;
    }
    outcome = handleTrap(guest.state, frame, k.cpu.cr2);
  }
  fromVmFrame(tf, frame);
  const save = saving.get(guest);
  if (save && outcome.action === 'resume' && virtualClock(guest.state) >= save.instructions) {
    // The guest's registers are in the frame, every trap is handled: the VM's portable state is complete.
    saving.delete(guest);
    save.write(save.codec.save({
      clock: virtualClock(guest.state), vcpu: guest.state.vcpu, devices: guest.state.devices, regs: frameValues(frame),
      memory: guest.state.shadow.guest.bytes.subarray(0, guest.state.shadow.guestBytes), patches: guest.state.patches, boundaryChecked: false, loopDeliveries: 0,
    }));
    k.print(`pid ${p.pid} (${p.name}): vm saved after ${virtualClock(guest.state)} guest instructions\n`);
    guest.timer.leave(k);
    exitProcess(k, p, 0);
    return !deviceInterrupt;
  }
  if (watch && outcome.action === 'resume') watch({ kind: 'resume', rip: u64(frame.rip), cpl: guest.state.vcpu.cpl, rsp: reg64(frame, RSP), rax: reg64(frame, RAX) }, guest.state);
  if (outcome.action === 'stop') {
    stopped.get(guest)?.(stopReport(p.name, guest.state, outcome, frame));
    if (outcome.reason !== 'shutdown') k.print(`pid ${p.pid} (${p.name}): vm stopped: ${outcome.message}\n`);
    guest.timer.leave(k);
    exitProcess(k, p, outcome.status ?? -1);
  }
  // Killed, or a signal that may stop it: the VM may not run again soon.
  if (p.killed || (existingSignalState(p)?.pending ?? 0) !== 0) guest.timer.leave(k);
  return !deviceInterrupt;
}

/** What a stopped VM leaves (SpawnVmOptions.onStop). */
function stopReport(name: string, vm: VmState, outcome: Extract<TrapOutcome, { action: 'stop' }>, frame: VmTrapFrame): KernelVmEnd {
  const memory = vm.shadow.guest.bytes.slice(0, vm.shadow.guestBytes);
  for (const [at, original] of vm.patches) if (at < memory.length && memory[at] === 0xcc) memory[at] = original[0];
  return { name, outcome, clock: virtualClock(vm), frame: frameValues(frame), memory, exits: new Map(vm.exits) };
}

/** VMs watched for their end (SpawnVmOptions.onStop). */
const stopped = new WeakMap<VmProcess, (end: KernelVmEnd) => void>();

/** VMs to be saved (SpawnVmOptions.saveAt). */
const saving = new WeakMap<VmProcess, NonNullable<SpawnVmOptions['saveAt']> & { codec: VmStateCodec }>();

function toVmFrame(tf: TrapFrame): VmTrapFrame {
  const f = new VmTrapFrame();
  REGISTER_FIELDS.forEach((field, n) => { f.regs[2 * n] = tf.lo(field); f.regs[2 * n + 1] = tf.hi(field); });
  f.rip = tf.signed('rip');
  f.rflags = tf.lo('rflags');
  f.cs = tf.lo('cs');
  f.ss = tf.lo('ss');
  f.trapno = tf.lo('trapno');
  f.err = tf.lo('err');
  return f;
}

/** Write the monitor's frame back: the guest resumes at real CPL 3 on its segments, IF on, IOPL 0. */
function fromVmFrame(tf: TrapFrame, f: VmTrapFrame): void {
  f.cs = GUEST_CS;
  f.ss = GUEST_SS;
  f.rflags = runningRflags(f.rflags);
  REGISTER_FIELDS.forEach((field, n) => tf.setHalves(field, f.regs[2 * n], f.regs[2 * n + 1]));
  tf.set('rip', f.rip);
  for (const field of ['rflags', 'cs', 'ss', 'trapno', 'err'] as const) tf.setHalves(field, f[field], 0);
}

/** The monitor as the kernel sees it (BootOptions.monitor): vmrun boots guests with it. */
export const kernelMonitor: VirtualMachineMonitorFactory = (memory) => ({
  spawn: (k, elf, name, parent) => spawnVm(k, memory, elf, name, { parent }),
});

/** The same monitor, with every VM it boots watched by `onEvent` (the page's VM path picture). */
export function watchedKernelMonitor(onEvent: VmEventListener): VirtualMachineMonitorFactory {
  return (memory) => ({ spawn: (k, elf, name, parent) => spawnVm(k, memory, elf, name, { parent, onEvent }) });
}
