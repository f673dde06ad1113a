// A host that runs ONE virtual machine directly on a Machine.
//
// Host-physical memory: [0, guestBytes) is the guest's memory (guest-physical
// address p is host-physical p); above it, the monitor's own pages:
//
//   +0x0000 GDT    +0x1000 IDT    +0x2000 TSS    +0x3000..0x5000 host stack
//   +0x5000 PDPT, +0x6000 PD, +0x7000 PT: map those pages at MONITOR_LINEAR
//   +0x8000 ...   the pool of shadow page tables
//
// The monitor's pages are mapped at MONITOR_LINEAR (PML4 slot 511,
// supervisor-only) in every shadow root, so the CPU can deliver the guest's
// traps through the host IDT; the guest, always at real CPL 3, cannot touch them.
// When the guest's own page tables use that slot (a higher-half kernel), the
// monitor moves its pages to the highest slot the guest leaves empty
// (`relocate`): the GDT, IDT and TSS bases, the gate offsets, the stack and the
// host-call addresses all follow, and the shadow roots are rebuilt.
// Every host IDT vector's handler address is a host-call key: the CPU, having
// switched to CPL 0 and pushed the trap frame on the host stack, calls into
// TypeScript, which hands the trap to the monitor (monitor.ts) and resumes the
// guest by loading the frame the monitor returns.
//
// Real GDT: the VM's GDT of vmGdt.ts, the same as under the xk kernel.

import { Machine } from '../machine/machine.js';
import { DirectExits } from '../machine/directExits.js';
import { interruptGate, writeTss } from '../machine/descriptors.js';
import { CR0_PG, CR4_PAE, EFER_NXE } from '../machine/mmu.js';
import { GuestMemory } from './guestMemory.js';
import { afterTrap, handleTrap, interruptWaiting, virtualClock, type TrapOutcome, type VmState } from './monitor.js';
import { ShadowPaging, slotBase } from './shadowPaging.js';
import { frameFromValues, frameValues, RAX, RDX, reg64, RSP, runningRflags, u64, VmTrapFrame } from './trapFrame.js';
import { toSignedLinear } from '../machine/address.js';
import { Vcpu } from './vcpu.js';
import { GUEST_CS, GUEST_SS, HOST_CS, HOST_TSS, VM_GDT_LIMIT, writeVmGdt } from './vmGdt.js';
import { VirtualDevices } from './virtualDevices.js';
import { pushesErrorCode } from '../machine/exceptions.js';
import { ExceptionLoopWatch } from '../machine/exceptionLoop.js';
import { guestCpuFor } from './guestCpu.js';
import { realDr7 } from './guestBreakpoints.js';
import type { PortableVm } from './vmState.js';

export const MONITOR_LINEAR = -(2 ** 39);        // 0xffffff8000000000: PML4 slot 511
export const HOST_AREA_BYTES = 2 * 1024 * 1024;  // monitor tables + shadow page-table pool
const GDT = 0x0000, IDT = 0x1000, TSS = 0x2000, STACK_TOP = 0x5000, PDPT = 0x5000, PD = 0x6000, PT = 0x7000, POOL = 0x8000;
const HANDLERS = 0x100000;                        // handler address of vector v = monitor base + HANDLERS + v (never fetched)
/** The monitor's pages, as offsets from the end of guest memory (the fuzzer checks them: fuzz/monitorPages.ts). */
export const MONITOR_PAGES = { GDT, IDT, TSS, STACK_TOP, PDPT, PD, PT, POOL, HANDLERS } as const;

export interface VmOptions {
  /** Guest memory in bytes (4 to 16 MiB). */
  guestBytes: number;
  serialOut?: (bytes: Uint8Array) => void;
  /** The machine traps every sensitive instruction at CPL 3 (Machine.strictVirtualization). */
  strict?: boolean;
}

export type VmStopReason = 'shutdown' | 'halted' | 'triple-fault' | 'escape' | 'limit' | 'host-fault';

export interface VmResult {
  reason: VmStopReason;
  message: string;
  /** Shutdown-port status, if the guest powered off. */
  status: number | undefined;
  /** Guest instructions (the guest's virtual clock). */
  guestInstructions: number;
  /** Real instructions executed by the machine (guest instructions that did not trap). */
  realInstructions: number;
  /** Monitor exits (traps into the host), total and by kind. */
  exits: number;
  exitKinds: Map<string, number>;
}

export class VmHost {
  readonly machine: Machine;
  readonly vcpu = new Vcpu();
  readonly vm: VmState;
  readonly guestBytes: number;
  private readonly hostBase: number;
  private outcome: TrapOutcome | null = null;
  /** The guest's registers at an exit: one frame, refilled by every exit. */
  private readonly frame = new VmTrapFrame();
  private translationDirty = true;
  /** The shadow tables' flush count when the real TLB was last flushed (ShadowPaging.flushes). */
  private shadowFlushes = -1;
  private exits = 0;
  private lastExitClock = -1;
  /** Guest clock of the last instruction boundary at which virtual interrupts were looked for. */
  private lastBoundary = -1;
  private stalledExits = 0;
  private lastExitDelivered = -1;
  /** The guest's deliveries in a row with no instruction retired (exceptionLoop.ts): part of a saved VM. */
  private readonly exceptionLoop = new ExceptionLoopWatch(0, 1);
  /** Linear address of the monitor's pages (PML4 slot vm.shadow.slot). */
  private monitorLinear = MONITOR_LINEAR;
  /** Times the monitor moved to another PML4 slot. */
  relocations = 0;

  constructor(options: VmOptions) {
    const mib = options.guestBytes / (1024 * 1024);
    if (!Number.isInteger(options.guestBytes / 4096) || mib < 4 || mib > 16) {
      throw new Error(`vm: guest memory must be 4 to 16 MiB in whole pages, got ${options.guestBytes} bytes`);
    }
    this.guestBytes = options.guestBytes;
    this.hostBase = options.guestBytes;
    this.machine = new Machine({ memoryBytes: options.guestBytes + HOST_AREA_BYTES });
    const memory = this.machine.memory;
    const cpu = this.machine.cpu;
    // The guest starts in the machine's reset state, virtually.
    Object.assign(this.vcpu, { cr0: cpu.cr0, cr3: cpu.cr3, cr4: cpu.cr4, efer: cpu.efer, cs: cpu.cs, ss: cpu.ss });
    const shadow = new ShadowPaging(memory, this.guestBytes, this.hostBase + POOL, this.hostBase + HOST_AREA_BYTES, this.hostBase + PDPT);
    const devices = new VirtualDevices(() => virtualClock(this.vm), options.serialOut ?? (() => {}));
    const translationChanged = (linear?: number): void => {
      if (linear === undefined) this.translationDirty = true;
      else this.machine.mmu.flushPage(linear);
    };
    this.vm = {
      vcpu: this.vcpu, shadow, devices, mem: new GuestMemory(memory, shadow, this.vcpu),
      cpu: guestCpuFor(shadow, devices, translationChanged, (page) => cpu.invalidateDecodeCache(page)),
      realInstructions: () => cpu.instructionCount,
      translationChanged,
      exits: new Map(),
      patches: new Map(),
      relocateMonitor: () => this.relocate(),
      takeDebugStatus: () => {
        const regs = cpu.debugRegisters;
        const bits = regs.dr6 & 0xe00f;
        regs.dr6 = 0;
        return bits;
      },
    };
    this.vm.cpu.watchedBy = cpu; // an outside debugger's watchpoints see the instructions the monitor runs for the guest
    this.machine.strictVirtualization = options.strict ?? false;
    this.machine.directExits = new DirectExits((vector, errorCode) => this.onDirectExit(vector, errorCode));
    // PML4[slot] -> PDPT[0] -> PD[0] -> PT[0..7]: the monitor's pages, present, writable, supervisor.
    const m = memory, base = this.hostBase;
    m.write32(base + PDPT, (base + PD) | 3);
    m.write32(base + PD, (base + PT) | 3);
    for (let i = 0; i < 8; i++) m.write32(base + PT + 8 * i, (base + 0x1000 * i) | 3);
    // The real processor: paging on (shadow tables), NX on, CPL 3 on the guest segments.
    cpu.cr0 = (cpu.cr0 | CR0_PG) >>> 0;
    cpu.cr4 |= CR4_PAE;
    cpu.efer |= EFER_NXE;
    cpu.gdtrLimit = VM_GDT_LIMIT;
    cpu.idtrLimit = 256 * 16 - 1;
    cpu.trSelector = HOST_TSS; cpu.tssLimit = 103;
    this.machine.interrupts.pic.imr = 0xff; // no real device interrupts reach the VM
    this.placeMonitor(MONITOR_LINEAR);
  }

  /**
   * Put the monitor's tables at linear `linear` (the start of a PML4 slot): the
   * GDT's TSS descriptor, the IDT's gates, the TSS's stack, the CPU's table
   * registers and the host-call addresses of the handlers all name it.
   */
  private placeMonitor(linear: number): void {
    const m = this.machine.memory;
    const cpu = this.machine.cpu;
    const base = this.hostBase;
    for (let v = 0; v < 256; v++) cpu.hostCalls.delete(this.monitorLinear + HANDLERS + v);
    this.monitorLinear = linear;
    writeVmGdt(m.bytes, base + GDT, linear + TSS);
    for (let v = 0; v < 256; v++) m.bytes.set(interruptGate(linear + HANDLERS + v, HOST_CS, 0), base + IDT + 16 * v);
    writeTss(m, base + TSS, linear + STACK_TOP);
    cpu.gdtrBase = linear + GDT;
    cpu.idtrBase = linear + IDT;
    cpu.tssBase = linear + TSS;
    for (let v = 0; v < 256; v++) cpu.hostCalls.set(linear + HANDLERS + v, () => this.onTrap(v));
    this.translationDirty = true;
  }

  /**
   * After vmState.ts grafted a saved state onto this fresh host: the host calls
   * (functions, not saved) still name the monitor's first place; put them where
   * the saved monitor is, and forget decoded code (memory changed under it).
   */
  afterRestore(): void {
    const cpu = this.machine.cpu;
    for (let v = 0; v < 256; v++) cpu.hostCalls.delete(MONITOR_LINEAR + HANDLERS + v);
    for (let v = 0; v < 256; v++) cpu.hostCalls.set(this.monitorLinear + HANDLERS + v, () => this.onTrap(v));
    for (let p = 0; p < this.machine.memory.size / 4096; p++) cpu.invalidateDecodeCache(p);
    // Data breakpoints (the guest's, on both processors) watch accesses through functions, which are not state.
    cpu.debugChanged();
    this.vm.cpu.cpu.debugChanged();
  }

  /** The VM's host-independent parts (vmState.ts PortableVm), live: saving reads them, resuming fills them in. */
  portableParts(): PortableVm {
    const clock = virtualClock(this.vm);
    return {
      clock, vcpu: this.vcpu, devices: this.vm.devices, regs: frameValues(this.frameFromCpu(new VmTrapFrame())),
      memory: this.machine.memory.bytes.subarray(0, this.guestBytes), patches: this.vm.patches,
      boundaryChecked: this.lastBoundary === clock, loopDeliveries: this.exceptionLoop.deliveriesAt(clock),
    };
  }

  /** After a portable state was grafted onto portableParts(): run on from it (shadow tables rebuilt on demand). */
  restorePortable(p: PortableVm): void {
    this.vcpu.extraTicks = p.clock - this.machine.cpu.instructionCount;
    this.lastBoundary = p.boundaryChecked ? p.clock : -1;
    this.exceptionLoop.resumeAt(p.clock, p.loopDeliveries);
    this.vm.shadow.flush();
    this.translationDirty = true;
    this.machine.cpu.invalidateDecodeCache();
    this.frameToCpu(frameFromValues(p.regs));
  }

  /** The guest maps the monitor's PML4 slot: move the monitor to the highest slot it leaves empty. */
  private relocate(): boolean {
    const slot = this.vm.shadow.relocate(this.vcpu);
    if (slot < 0) return false;
    this.placeMonitor(slotBase(slot));
    this.relocations++;
    return true;
  }

  /** Guest instructions so far (the guest's virtual clock). */
  guestClock(): number {
    return virtualClock(this.vm);
  }

  /** Load an image's bytes at guest-physical `phys`. */
  loadGuest(phys: number, data: Uint8Array, memsz = data.length): void {
    if (phys < 0 || phys + memsz > this.guestBytes) {
      throw new Error(`vm: segment at guest-physical 0x${phys.toString(16)}..0x${(phys + memsz).toString(16)} does not fit in ${this.guestBytes / 1048576} MiB`);
    }
    this.machine.memory.bytes.fill(0, phys, phys + memsz);
    this.machine.loadPhysical(phys, data);
  }

  /** Start the guest at `entry` (virtual CPL 0, as after reset). */
  start(entry: number): void {
    const tf = this.frameFromCpu();
    tf.rip = entry;
    this.frameToCpu(tf);
  }

  /** The real CPU's registers into `tf` (by default the host's one frame, reused by every exit). */
  private frameFromCpu(tf = this.frame): VmTrapFrame {
    const cpu = this.machine.cpu;
    tf.regs.set(cpu.regs);
    tf.rip = cpu.rip;
    tf.rflags = cpu.getRflags();
    tf.cs = cpu.cs;
    tf.ss = cpu.ss;
    tf.trapno = 0;
    tf.err = 0;
    return tf;
  }

  /** Resume the guest from `tf`: real CPL 3 on the guest segments, the shadow root for the virtual CPL. */
  private frameToCpu(tf: VmTrapFrame): void {
    const cpu = this.machine.cpu;
    cpu.regs.set(tf.regs);
    cpu.rip = tf.rip;
    cpu.cs = GUEST_CS;
    cpu.ss = GUEST_SS;
    cpu.ds = cpu.es = 0;
    cpu.cpl = 3;
    cpu.fsBase = this.vcpu.fsBase;
    cpu.gsBase = this.vcpu.gsBase;
    cpu.setRflags(runningRflags(tf.rflags));
    this.loadGuestDebugRegisters();
    const shadow = this.vm.shadow;
    const root = shadow.root(this.vcpu.cpl);
    if (this.translationDirty || shadow.flushes !== this.shadowFlushes) {
      cpu.cr3 = root;
      // The TLB goes (the one kept for the other root too); decoded instructions stay: the CPU
      // keys them by physical address and translates every fetch, so a new mapping is seen at once.
      this.machine.mmu.flush();
      this.translationDirty = false;
      this.shadowFlushes = shadow.flushes;
    } else if (cpu.cr3 !== root) {
      // The virtual CPL changed: the other shadow root, with the TLB kept for it (both roots'
      // tables only grow between flushes, and every page flush reaches both TLBs).
      this.machine.mmu.switchRoot(root);
    }
  }

  /**
   * The guest's DR0-DR3 and DR7 (vcpu.ts) into the real CPU, where its guest
   * code runs: its breakpoints fire there and come back as #DB (monitor.ts).
   * DR7.GD stays virtual: every mov to/from %dbN traps at real CPL 3 anyway.
   */
  private loadGuestDebugRegisters(): void {
    const cpu = this.machine.cpu, v = this.vcpu, regs = cpu.debugRegisters;
    const dr7 = realDr7(v, this.vm.shadow); // without GD, and nothing in the monitor's own slot (guestBreakpoints.ts)
    let changed = regs.dr7 !== dr7;
    for (let n = 0; n < 4 && !changed; n++) {
      const [lo, hi] = regs.address(n);
      changed = lo !== v.dr[2 * n] || hi !== v.dr[2 * n + 1];
    }
    if (!changed) return;
    for (let n = 0; n < 4; n++) regs.setAddress(n, v.dr[2 * n], v.dr[2 * n + 1]);
    regs.dr7 = dr7;
    cpu.debugChanged();
  }

  /** A host-call: the CPU delivered vector `v` from the guest through the host IDT. */
  private onTrap(v: number): void {
    const cpu = this.machine.cpu;
    const mem = this.machine.memory;
    this.exits++;
    // The frame the CPU pushed on the host stack: [error code], rip, cs, rflags, rsp, ss.
    // (Error code, CS, RFLAGS and SS have nothing above bit 31; RIP and RSP are canonical.)
    let at = this.hostBase + (toSignedLinear(cpu.regs[2 * RSP], cpu.regs[2 * RSP + 1]) - this.monitorLinear);
    const tf = this.frameFromCpu();
    tf.trapno = v;
    if (pushesErrorCode(v)) { tf.err = mem.read32(at); at += 8; }
    tf.rip = toSignedLinear(mem.read32(at), mem.read32(at + 4));
    tf.cs = mem.read32(at + 8);
    tf.rflags = mem.read32(at + 16);
    tf.regs[2 * RSP] = mem.read32(at + 24);
    tf.regs[2 * RSP + 1] = mem.read32(at + 28);
    tf.ss = mem.read32(at + 32);
    if ((tf.cs & 3) !== 3) {
      this.outcome = { action: 'stop', reason: 'escape', message: `the monitor itself faulted (vector ${v} at CPL 0)` };
      this.machine.stop('stopped', this.outcome.message);
      return;
    }
    this.exit(tf);
  }

  /**
   * A direct exit (src/machine/directExits.ts): the guest's instruction at the
   * CPU's RIP would have raised `vector` into the monitor. The frame is the
   * CPU's registers, as the delivery through the host IDT would have pushed them.
   */
  private onDirectExit(vector: number, errorCode: number): void {
    this.exits++;
    const tf = this.frameFromCpu();
    tf.trapno = vector;
    tf.err = errorCode;
    this.exit(tf);
  }

  /** Handle the exit in `tf` (the guest's registers and the trap), then resume the guest from it or stop. */
  private exit(tf: VmTrapFrame): void {
    const cpu = this.machine.cpu;
    const watch = this.vm.onEvent;
    watch?.({ kind: 'exit', trapno: tf.trapno, err: tf.err, rip: u64(tf.rip), cpl: this.vcpu.cpl, rsp: reg64(tf, RSP), rax: reg64(tf, RAX), rdx: reg64(tf, RDX) }, this.vm);
    let outcome = handleTrap(this.vm, tf, cpu.cr2);
    // A guest that keeps trapping without ever retiring an instruction (a monitor bug, or a
    // fault the monitor keeps "fixing") is stopped rather than spinning the host forever.
    const clock = virtualClock(this.vm);
    this.lastBoundary = clock; // handleTrap ended with afterTrap at this boundary
    // An exit that delivered an exception to the guest is progress of the guest's own
    // (an exception loop ends by the bare machine's rule, exceptionLoop.ts).
    const delivered = this.vm.cpu.interrupts.delivered;
    this.stalledExits = clock === this.lastExitClock && delivered === this.lastExitDelivered ? this.stalledExits + 1 : 0;
    this.lastExitClock = clock;
    this.lastExitDelivered = delivered;
    if (this.stalledExits > 10_000 && outcome.action === 'resume') {
      outcome = { action: 'stop', reason: 'escape', message: `10000 exits without progress at rip 0x${u64(tf.rip).toString(16)}` };
    }
    if (this.exceptionLoop.note(clock, delivered) && outcome.action === 'resume') {
      outcome = { action: 'stop', reason: 'limit', message: this.exceptionLoop.message(tf.rip) };
    }
    this.frameToCpu(tf);
    if (outcome.action === 'stop') this.outcome = outcome;
    else watch?.({ kind: 'resume', rip: u64(tf.rip), cpl: this.vcpu.cpl, rsp: reg64(tf, RSP), rax: reg64(tf, RAX) }, this.vm);
    // Back to the run loop: the virtual clock moved, the timer budget must be recomputed.
    this.machine.stop('stopped', 'vm exit');
  }

  /** Run the guest for at most `maxInstructions` guest instructions. */
  run(maxInstructions: number): VmResult {
    const machine = this.machine;
    const vm = this.vm;
    const end = virtualClock(vm) + maxInstructions;
    // The deliveries in a row so far count on (a VM resumed in an exception loop stops where the uninterrupted run did).
    this.exceptionLoop.nextRun(vm.cpu.interrupts.delivered, maxInstructions);
    const result = (reason: VmStopReason, message: string, status?: number): VmResult => ({
      reason, message, status, guestInstructions: virtualClock(vm), realInstructions: machine.cpu.instructionCount,
      exits: this.exits, exitKinds: vm.exits,
    });
    if (this.exceptionLoop.ended && this.outcome?.action !== 'stop') return result('limit', this.exceptionLoop.message(machine.cpu.rip));
    for (;;) {
      if (this.outcome?.action === 'stop') {
        const o = this.outcome;
        // An exception loop's stop ends this run, not the VM: the next run looks at the loop again
        // (its deliveries in a row count on, and one that ran its full course ends that run at once).
        if (o.reason === 'limit') this.outcome = null;
        return result(o.reason, o.message, o.status);
      }
      const now = virtualClock(vm);
      if (now >= end) return result('limit', `stopped after ${maxInstructions} guest instructions`);
      // At the timer's deadline, and after each guest instruction while a virtual interrupt is
      // held back (sti's one-instruction shadow): an instruction boundary, tick and maybe inject.
      const waiting = interruptWaiting(vm);
      const deadline = vm.devices.timer.deadline;
      if (now >= deadline || (waiting && now > this.lastBoundary)) {
        const tf = this.frameFromCpu();
        let o = afterTrap(vm, tf);
        this.lastBoundary = now;
        this.frameToCpu(tf);
        if (o.action === 'resume' && this.exceptionLoop.note(now, vm.cpu.interrupts.delivered)) o = { action: 'stop', reason: 'limit', message: this.exceptionLoop.message(tf.rip) };
        if (o.action === 'stop') this.outcome = o;
        else if (vm.devices.timer.deadline <= now) throw new Error('vm: the virtual timer did not advance');
        continue;
      }
      const budget = waiting ? 1 : Math.min(end - now, deadline - now);
      // Exits are taken directly unless someone watches them: then each is the real trap, as the trace shows it.
      if (machine.directExits !== null) machine.directExits.enabled = vm.onEvent === undefined;
      const reason = machine.run(budget);
      // machine.debugger.event says why (a watchpoint an emulated instruction fired stops after the exit, reason 'stopped')
      if (reason === 'debug' || machine.debugger?.event) return result('limit', 'stopped by the debugger');
      if (reason === 'triple-fault' || reason === 'halted') return result('host-fault', `the machine stopped: ${machine.stopMessage}`);
      // The slice can end just after the CPU delivered a trap to the monitor (an int n whose
      // delivery faulted retires, and may be the slice's last instruction): the CPU is at the
      // host-call address and the trap is not handled yet. Handle it before anything reads the frame.
      const pending = machine.cpu.cpl === 0 ? machine.cpu.hostCalls.get(machine.cpu.rip) : undefined;
      if (pending !== undefined) pending(machine.cpu);
    }
  }
}
