// The guest's own processor: the bare machine's CPU code (src/machine) run on
// the guest's virtual state.
//
// When the guest traps into the monitor, the instruction that trapped is one
// the real CPU would not let it perform at real CPL 3 (iretq, lidt, mov to CR3,
// wrmsr, in/out, int n through the monitor's DPL 0 gates...), or one that
// faulted for a reason of the guest's own. Either way the monitor runs that
// instruction once more, here: on a Cpu whose registers, CPL, RFLAGS, control
// registers, descriptor-table registers and MSRs are the guest's virtual ones
// (vcpu.ts plus the trap frame), whose MMU walks the guest's page tables in
// guest-physical memory, and whose port bus is the VM's virtual devices. It is
// the same executeSystem, the same interrupt delivery, the same MMU as the
// bare machine's, so every check, every exception vector and error code, the
// instruction it is reported at, double and triple faults are exactly the bare
// machine's: there is no second copy of those rules in the monitor.
//
// Containment comes with it: this processor's physical memory is exactly the
// guest's [0, guestBytes); a guest-physical address beyond it is the unbacked
// bus of the bare machine (reads give all ones, writes are dropped). Nothing
// the guest does here can name a host address.
//
// The engine keeps no state of its own between traps: `execute` and `deliver`
// load the vCPU and the trap frame into it, run, and store them back.

import { decode, decodeBytes, type Decoded } from '../isa/decode.js';
import { Cpu, isTrap } from '../machine/cpu.js';
import { EXEC_BY_FORM, invalidInstruction } from '../machine/decodeCache.js';
import { CpuFault, DB } from '../machine/exceptions.js';
import { DR6_BS, DR7_GD } from '../machine/debugRegisters.js';
import { RF, TF } from '../machine/flags.js';
import { InterruptController, RFLAGS_IF, RFLAGS_IOPL } from '../machine/interrupts.js';
import { PhysicalMemory } from '../machine/memory.js';
import { Mmu } from '../machine/mmu.js';
import { PortBus } from '../machine/ports.js';
import { executeSystem, type SystemHost } from '../machine/system.js';
import { runningRflags, type VmTrapFrame } from './trapFrame.js';
import type { ShadowPaging } from './shadowPaging.js';
import type { Vcpu } from './vcpu.js';
import type { VirtualDevices } from './virtualDevices.js';

/** How one instruction (or one event delivery) on the guest's processor ended. */
export type GuestStep =
  | { kind: 'done'; mnemonic: string; delivered?: number }   // retired, or faulted and its exception was delivered
  | { kind: 'halt'; mnemonic: string }                       // hlt retired
  | { kind: 'shutdown'; mnemonic: string; status: number }   // the guest wrote the shutdown port
  | { kind: 'triple-fault'; mnemonic: string; message: string };

/** The guest's TLB was flushed: one page (invlpg) or everything (CR3, CR0, CR4, EFER). The shadow tables follow. */
export type TranslationFlush = (linear?: number) => void;

/** The guest's MMU: the machine's, reporting its flushes so that the shadow page tables flush with it. */
class GuestMmu extends Mmu {
  onFlush: TranslationFlush = () => {};
  override flush(): void {
    super.flush();
    this.onFlush();
  }
  override flushPage(linear: number): void {
    super.flushPage(linear);
    this.onFlush(linear);
  }
}

/** The interrupt controller's delivery, with sti's and mov-ss's one-instruction shadow reported to the vCPU. */
class GuestInterrupts extends InterruptController {
  shadowRequested = false;
  override inhibitOneInstruction(): void {
    this.shadowRequested = true;
  }
}

/**
 * Guest-physical memory, exactly `bytes` (the guest's RAM, shared with the
 * host's physical memory); every store is reported (`written`) so that the
 * real CPU drops instructions it decoded there.
 */
function guestRam(bytes: Uint8Array, written: (phys: number) => void): PhysicalMemory {
  const ram: PhysicalMemory = Object.create(PhysicalMemory.prototype);
  Object.assign(ram, { size: bytes.length, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length) });
  const { write8, write16, write32 } = PhysicalMemory.prototype;
  ram.write8 = (phys, v) => { write8.call(ram, phys, v); written(phys); };
  ram.write16 = (phys, v) => { write16.call(ram, phys, v); written(phys); };
  ram.write32 = (phys, v) => { write32.call(ram, phys, v); written(phys); };
  return ram;
}

/** Most decoded instructions GuestCpu.fetch keeps (the trapping instructions of a guest are few). */
const DECODED_KEPT = 1024;

/** Are the bytes at `at` in `memory` those of `bytes`? */
function sameBytes(memory: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (memory[at + i] !== bytes[i]) return false;
  return true;
}

export class GuestCpu implements SystemHost {
  readonly memory: PhysicalMemory;
  readonly mmu: GuestMmu;
  readonly cpu: Cpu;
  readonly ports = new PortBus();
  readonly interrupts: GuestInterrupts;
  strictVirtualization = false;
  /**
   * The real CPU the guest runs on, when an outside debugger (xk vm --gdb) may
   * watch it: its watchpoints, at guest-linear addresses, also watch what this
   * processor does for the guest. null: no outside debugger looks.
   */
  watchedBy: Cpu | null = null;
  private stopMessage: string | null = null;
  /** Instructions decoded here lately, by guest-physical address, with their bytes (fetch); an ES private field, so not in a saved VM state. */
  readonly #decoded = new Map<number, { d: Decoded; length: number; bytes: Uint8Array }>();

  /**
   * `ram`: the guest's physical memory (guest-physical 0 at index 0);
   * `codeWritten(phys)`: the guest's processor stored to guest-physical `phys`.
   */
  constructor(ram: Uint8Array, devices: VirtualDevices, codeWritten: (phys: number) => void) {
    this.memory = guestRam(ram, codeWritten);
    this.mmu = new GuestMmu(this.memory);
    this.cpu = new Cpu(this.memory, this.mmu);
    this.mmu.regs = this.cpu;
    this.cpu.blocksEnabled = false;
    this.cpu.system = (d) => executeSystem(this, d);
    this.interrupts = new GuestInterrupts(this);
    this.ports.register(0, 0x10000, {
      read: (port, size) => devices.in(port, size),
      write: (port, size, value) => devices.out(port, size, value),
    });
  }

  /** The interrupt controller's triple fault (or any stop request): the guest cannot go on. */
  stop(reason: string, message?: string): void {
    this.stopMessage = message ?? reason;
  }

  /** Where the shadow tables learn of the guest's TLB flushes. */
  set onTranslationFlush(f: TranslationFlush) {
    this.mmu.onFlush = f;
  }

  /**
   * Run the guest's instruction at tf.rip (or `original`, the bytes the loader
   * replaced there by int3: patcher.ts) at the virtual CPL, as the bare machine
   * would; a fault is delivered through the guest's IDT. `devices` sees the
   * instruction's port I/O. vcpu and tf are updated in place.
   */
  execute(vcpu: Vcpu, tf: VmTrapFrame, devices: VirtualDevices, original?: Uint8Array, patches?: Map<number, Uint8Array>): GuestStep {
    this.load(vcpu, tf);
    const cpu = this.cpu;
    let first: string | undefined;
    // A mov to SS and the instruction after it run here together, as the hardware does not split
    // them: its debug traps wait until after the next instruction (`held`, debugExceptions.ts),
    // and a debugger's single step covers both. `patches`: what the loader replaced by int3.
    let held = 0;
    for (let pair = 0; ; pair++) {
      const start = cpu.rip;
      // Debug traps after the instruction (debugExceptions.ts): TF as it was before it, its data and I/O breakpoints.
      const bits = cpu.flags.bits;
      const stepping = (bits & TF) !== 0;
      cpu.dataHits = 0;
      cpu.movSsShadow = false;
      const delivered = this.interrupts.delivered;
      let d: Decoded | null = null;
      try {
        d = pair === 0 && original !== undefined ? decodeBytes(original, 0) : this.fetch(start, patches);
        cpu.instructionStart = start;
        cpu.rip = start + d.length;
        (d.form === null ? invalidInstruction : EXEC_BY_FORM[d.form.id])(cpu, d);
        cpu.instructionCount++;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        const trap = d !== null && isTrap(d, e);
        if (trap) cpu.instructionCount++;
        else cpu.rip = start;
        this.interrupts.deliver(e.vector, e.errorCode, trap);
        this.deliveryTraps(held);
        return this.finish(vcpu, tf, first ?? d?.form?.mnemonic ?? 'invalid', e.vector);
      }
      const mnemonic = first ?? d.form?.mnemonic ?? 'invalid';
      if (devices.shutdownStatus !== undefined) {
        this.store(vcpu, tf);
        return { kind: 'shutdown', mnemonic, status: devices.shutdownStatus };
      }
      if (cpu.halted) {
        this.store(vcpu, tf);
        return this.stopMessage === null ? { kind: 'halt', mnemonic } : this.finish(vcpu, tf, mnemonic);
      }
      if ((bits & RF) !== 0 && d.form?.mnemonic !== 'iretq' && d.form?.mnemonic !== 'iret') cpu.setRflags(cpu.getRflags() & ~RF);
      if (this.interrupts.delivered !== delivered) {
        this.deliveryTraps(held); // int1 and its kin: no single step; held traps and the frame's, after the delivery
        return this.finish(vcpu, tf, mnemonic);
      }
      const dr6 = cpu.dataHits | (stepping ? DR6_BS : 0) | held;
      if (cpu.movSsShadow && pair < 16) {
        first = mnemonic;
        held = dr6;
        this.interrupts.shadowRequested = false; // the shadow is the next instruction's, here
        continue;
      }
      if (dr6 !== 0) {
        this.raiseDebug(dr6);
        return this.finish(vcpu, tf, mnemonic, DB);
      }
      return this.finish(vcpu, tf, mnemonic);
    }
  }

  /**
   * After a delivery: the data breakpoints its frame hit, and the traps a mov
   * to SS held over the instruction that delivered it (`held`), are the
   * guest's #DB at the handler's first instruction (debugExceptions.ts).
   */
  private deliveryTraps(held: number): void {
    const bits = this.cpu.deliveryHits | held;
    this.cpu.deliveryHits = 0;
    if (bits !== 0) this.raiseDebug(bits);
  }

  /**
   * A #DB the real CPU raised while the guest ran (one of the guest's own
   * breakpoints, which the host loaded into the real debug registers, or its
   * single-step): `dr6` is the real DR6's B0-B3/BD/BS bits. The guest's DR6
   * gets them and the #DB goes through the guest's IDT, at tf.rip (after the
   * instruction for a trap, at it for an instruction breakpoint), as on bare.
   */
  debugTrap(vcpu: Vcpu, tf: VmTrapFrame, dr6: number): GuestStep {
    this.load(vcpu, tf);
    this.raiseDebug(dr6);
    return this.finish(vcpu, tf, 'debug', DB);
  }

  private raiseDebug(dr6: number): void {
    const regs = this.cpu.debugRegisters;
    regs.dr6 = regs.dr6 | dr6;
    regs.dr7 = regs.dr7 & ~DR7_GD;
    this.interrupts.deliver(DB, undefined, false);
  }

  /** Deliver an interrupt or exception to the guest through its IDT (a virtual device interrupt: errorCode undefined). */
  deliver(vcpu: Vcpu, tf: VmTrapFrame, vector: number, errorCode: number | undefined, software: boolean): GuestStep {
    this.load(vcpu, tf);
    this.interrupts.deliver(vector, errorCode, software);
    this.deliveryTraps(0);
    return this.finish(vcpu, tf, 'interrupt', vector);
  }

  /** Guest instructions this processor retired (the monitor adds them to the guest's clock). */
  get retired(): number {
    return this.cpu.instructionCount;
  }

  private finish(vcpu: Vcpu, tf: VmTrapFrame, mnemonic: string, delivered?: number): GuestStep {
    this.store(vcpu, tf);
    if (this.stopMessage !== null) return { kind: 'triple-fault', mnemonic, message: this.stopMessage };
    return { kind: 'done', mnemonic, delivered };
  }

  /**
   * Decode the instruction at linear `rip`, fetched through the guest's tables
   * as the CPU fetches (or the original bytes of a patched one). An instruction
   * inside one page whose bytes are those decoded there last time is not decoded
   * again (a decoding depends on the bytes alone; they are compared, so code the
   * guest rewrote is decoded afresh).
   */
  private fetch(rip: number, patches?: Map<number, Uint8Array>): Decoded {
    const { mmu, memory, cpu } = this;
    const phys = mmu.translate(rip, 'execute', cpu.cpl);
    const original = patches?.get(phys);
    if (original !== undefined) return decodeBytes(original, 0);
    const room = 4096 - (phys & 0xfff);
    const known = this.#decoded.get(phys);
    if (known !== undefined && known.length <= room && sameBytes(memory.bytes, phys, known.bytes)) return known.d;
    const d = decode((offset) => memory.read8(offset < room ? phys + offset : mmu.translate(rip + offset, 'execute', cpu.cpl)));
    if (d.length <= room && phys + d.length <= memory.size) {
      if (this.#decoded.size >= DECODED_KEPT) this.#decoded.clear();
      this.#decoded.set(phys, { d, length: d.length, bytes: memory.bytes.slice(phys, phys + d.length) });
    }
    return d;
  }

  /** The guest's state into the processor: registers from the frame, the privileged state from the vCPU. */
  private load(vcpu: Vcpu, tf: VmTrapFrame): void {
    const cpu = this.cpu;
    cpu.regs.set(tf.regs);
    cpu.rip = tf.rip;
    const flags = tf.rflags & ~(RFLAGS_IF | RFLAGS_IOPL);
    cpu.setRflags((flags | (vcpu.vif ? RFLAGS_IF : 0) | ((vcpu.iopl & 3) << 12) | 2) >>> 0);
    cpu.cpl = vcpu.cpl;
    cpu.cs = vcpu.cs; cpu.ss = vcpu.ss; cpu.ds = vcpu.ds; cpu.es = vcpu.es; cpu.fs = vcpu.fs; cpu.gs = vcpu.gs;
    cpu.fsBase = vcpu.fsBase; cpu.gsBase = vcpu.gsBase; cpu.kernelGsBase = vcpu.kernelGsBase;
    cpu.cr2 = vcpu.cr2;
    // A change of paging mode or root (the guest cannot make one without trapping) flushes the guest's TLB.
    if (cpu.cr0 !== vcpu.cr0 || cpu.cr3 !== vcpu.cr3 || cpu.cr4 !== vcpu.cr4 || cpu.efer !== vcpu.efer) {
      cpu.cr0 = vcpu.cr0; cpu.cr3 = vcpu.cr3; cpu.cr4 = vcpu.cr4; cpu.efer = vcpu.efer;
      Mmu.prototype.flush.call(this.mmu);
    }
    cpu.starLo = vcpu.starLo; cpu.starHi = vcpu.starHi; cpu.lstar = vcpu.lstar; cpu.cstar = vcpu.cstar; cpu.sfmask = vcpu.sfmask;
    cpu.gdtrBase = vcpu.gdtrBase; cpu.gdtrLimit = vcpu.gdtrLimit;
    cpu.idtrBase = vcpu.idtrBase; cpu.idtrLimit = vcpu.idtrLimit;
    cpu.trSelector = vcpu.tr; cpu.tssBase = vcpu.tssBase; cpu.tssLimit = vcpu.tssLimit;
    const regs = cpu.debugRegisters;
    for (let n = 0; n < 4; n++) if (!regs.holds(n, vcpu.dr[2 * n], vcpu.dr[2 * n + 1])) regs.setAddress(n, vcpu.dr[2 * n], vcpu.dr[2 * n + 1]);
    regs.dr6 = vcpu.dr6;
    // Data breakpoints, the guest's and an outside debugger's (at the same guest-linear addresses): the emulated instruction's accesses are watched.
    const outside = this.watchedBy?.hostDebugRegisters ?? null;
    if (regs.dr7 !== vcpu.dr7 || outside !== cpu.hostDebugRegisters || outside !== null) {
      regs.dr7 = vcpu.dr7;
      cpu.hostDebugRegisters = outside;
      cpu.debugChanged();
    }
    cpu.hostReadHits = cpu.hostWriteHits = cpu.deliveryHostHits = cpu.deliveryHits = 0;
    cpu.halted = false;
    this.interrupts.shadowRequested = false;
    this.stopMessage = null;
  }

  /** The processor's state back into the frame (registers, RIP, the real RFLAGS) and the vCPU (the rest). */
  private store(vcpu: Vcpu, tf: VmTrapFrame): void {
    const cpu = this.cpu;
    tf.regs.set(cpu.regs);
    tf.rip = cpu.rip;
    const flags = cpu.getRflags();
    vcpu.vif = (flags & RFLAGS_IF) !== 0;
    vcpu.iopl = (flags & RFLAGS_IOPL) >>> 12;
    tf.rflags = runningRflags(flags);
    if (this.interrupts.shadowRequested) vcpu.interruptShadow = true;
    vcpu.cpl = cpu.cpl;
    vcpu.cs = cpu.cs; vcpu.ss = cpu.ss; vcpu.ds = cpu.ds; vcpu.es = cpu.es; vcpu.fs = cpu.fs; vcpu.gs = cpu.gs;
    vcpu.fsBase = cpu.fsBase; vcpu.gsBase = cpu.gsBase; vcpu.kernelGsBase = cpu.kernelGsBase;
    vcpu.cr0 = cpu.cr0; vcpu.cr2 = cpu.cr2; vcpu.cr3 = cpu.cr3; vcpu.cr4 = cpu.cr4; vcpu.efer = cpu.efer;
    vcpu.starLo = cpu.starLo; vcpu.starHi = cpu.starHi; vcpu.lstar = cpu.lstar; vcpu.cstar = cpu.cstar; vcpu.sfmask = cpu.sfmask;
    vcpu.gdtrBase = cpu.gdtrBase; vcpu.gdtrLimit = cpu.gdtrLimit;
    vcpu.idtrBase = cpu.idtrBase; vcpu.idtrLimit = cpu.idtrLimit;
    vcpu.tr = cpu.trSelector; vcpu.tssBase = cpu.tssBase; vcpu.tssLimit = cpu.tssLimit;
    const regs = cpu.debugRegisters;
    regs.addressesInto(vcpu.dr);
    vcpu.dr6 = regs.dr6;
    vcpu.dr7 = regs.dr7;
    // What this processor's accesses fired of the outside debugger's watchpoints: the real CPU reports them (debugExceptions.ts runHostCall).
    const real = this.watchedBy;
    if (real !== null) {
      real.hostReadHits |= cpu.hostReadHits;
      real.hostWriteHits |= cpu.hostWriteHits | cpu.deliveryHostHits;
    }
  }
}


/**
 * The guest processor of a VM whose guest-physical memory is `shadow.guest`.
 * Its TLB flushes (mov to CR3/CR0/CR4, wrmsr EFER, invlpg) flush the shadow
 * tables too and tell the host (`translationChanged`); its stores make the real
 * CPU drop what it decoded there (`invalidateHostPage`, a host-physical page number).
 */
export function guestCpuFor(
  shadow: ShadowPaging, devices: VirtualDevices, translationChanged: (linear?: number) => void,
  invalidateHostPage: (page: number) => void,
): GuestCpu {
  const base = shadow.base;
  const g = new GuestCpu(shadow.guest.bytes.subarray(0, shadow.guestBytes), devices, (phys) => invalidateHostPage(Math.floor((base + phys) / 4096)));
  g.onTranslationFlush = (linear) => {
    if (linear === undefined) shadow.flush();
    else shadow.flushPage(linear);
    translationChanged(linear);
  };
  return g;
}
