// The monitor's trap handler: what happens when the guest, running at real
// CPL 3, leaves the CPU to the host. The host's trap code (src/vmm/host.ts, or
// the host kernel's trap()) calls `handleTrap` with the trap frame and the VM;
// the monitor dispatches on the real trap number:
//
//   #PF (14)   a shadow miss: fill the shadow entry and retry (invisible to the
//              guest). Any other page fault (the guest's own tables refuse the
//              access, or the address has no shadow mapping) is handled below.
//   #DB (1)    the guest's own breakpoint or single-step on the real CPU (the
//              host loads the guest's DR0-DR3/DR7 there): its DR6 and its IDT.
//   anything else (and those page faults): the instruction at RIP could not run
//              at real CPL 3 (iretq, lidt, mov to CR3, in/out, `int n` through
//              the monitor's DPL 0 gates, an int3 the loader planted...) or
//              faulted for the guest's own reasons. The monitor runs it once more
//              on the guest's own processor (guestCpu.ts): the bare machine's CPU
//              code on the guest's virtual state. Whatever that processor does,
//              retire it or deliver its exception through the guest's IDT (or
//              triple-fault), is what the bare machine does.
//
// After every trap the monitor gives pending virtual interrupts (the virtual
// timer) a chance, when the virtual IF allows, just as the hardware does at an
// instruction boundary.

import type { GuestCpu } from './guestCpu.js';
import type { GuestMemory } from './guestMemory.js';
import type { ShadowPaging } from './shadowPaging.js';
import { reg64, RSP, u64, type VmTrapFrame } from './trapFrame.js';
import type { Vcpu } from './vcpu.js';
import type { VirtualDevices } from './virtualDevices.js';

export const T_GP = 13, T_NP = 11, T_PF = 14, T_DF = 8, T_DB = 1;
const T_BP = 3;
const PF_W = 2, PF_I = 16;

/** One VM's state, as the host keeps it between traps. */
export interface VmState {
  vcpu: Vcpu;
  shadow: ShadowPaging;
  mem: GuestMemory;
  /** The guest's own processor (guestCpu.ts): runs the instructions that trap, delivers the guest's events. */
  cpu: GuestCpu;
  devices: VirtualDevices;
  /** The real clock: guest instructions retired on the real CPU so far (the host adds vcpu.extraTicks). */
  realInstructions(): number;
  /** The guest's translation changed (one page, or everything): the host must flush its TLB / reload CR3. */
  translationChanged(linear?: number): void;
  /**
   * The guest maps the PML4 slot where the host keeps its own pages: move them
   * to a slot the guest leaves empty, if it leaves one (host.ts moves its pages;
   * kernelProcess.ts, the window onto the kernel's half). True if moved.
   */
  relocateMonitor?(): boolean;
  /**
   * A #DB came from the real CPU: its DR6 status bits (B0-B3, BD, BS), the real
   * DR6 cleared for the next one. Absent (a host that does not load the guest's
   * debug registers into the real CPU): no bits.
   */
  takeDebugStatus?(): number;
  /** Instructions the loader replaced by int3 (patcher.ts): guest-physical address -> original bytes. */
  patches: Map<number, Uint8Array>;
  /** Statistics: exits by kind. */
  exits: Map<string, number>;
  /** Who watches the VM's path (the page's picture); absent, the monitor emits nothing and pays nothing. */
  onEvent?: VmEventListener;
}

/**
 * One step of the VM path, as the monitor sees it: the guest left the real CPU
 * (`exit`, from the host's trap code), the monitor ran an instruction on the
 * guest's processor (`emulate`), delivered a vector through the guest's IDT
 * (`deliver`), or the guest runs again (`resume`). rip and cpl are the guest's
 * (virtual CPL: 3 = the guest's application, 0 = the guest kernel).
 */
export type VmEvent =
  | { kind: 'exit'; trapno: number; err: number; rip: bigint; cpl: number; rsp?: bigint; rax?: bigint; rdx?: bigint }
  | { kind: 'emulate'; mnemonic: string; rip: bigint; cpl: number; nextRip: bigint; nextCpl: number; instructions: number; rsp?: bigint; nextRsp?: bigint }
  | { kind: 'deliver'; vector: number; rip: bigint; cpl: number; external: boolean; fromCpl?: number; rsp?: bigint }
  | { kind: 'resume'; rip: bigint; cpl: number; rsp?: bigint; rax?: bigint };
/** `vm` is the VM the event happened in (the trace reads its vCPU and memory; vmTrace.ts). */
export type VmEventListener = (event: VmEvent, vm: VmState) => void;

export type TrapOutcome =
  | { action: 'resume' }
  | { action: 'stop'; reason: 'shutdown' | 'halted' | 'triple-fault' | 'escape' | 'limit'; message: string; status?: number };

/** The outcome of most exits: one object, never changed. */
const RESUME: TrapOutcome = Object.freeze({ action: 'resume' });

/** Is a virtual interrupt waiting for the next guest instruction boundary (the host then runs one instruction at a time)? */
export function interruptWaiting(vm: VmState): boolean {
  return vm.vcpu.vif && vm.devices.pic.irr !== 0 && vm.devices.pic.pendingLine() >= 0;
}

/** The guest's virtual clock: its retired instructions (real ones plus emulated ones and idle time). */
export function virtualClock(vm: VmState): number {
  return vm.realInstructions() + vm.vcpu.extraTicks;
}

function count(vm: VmState, kind: string): void {
  vm.exits.set(kind, (vm.exits.get(kind) ?? 0) + 1);
}

/**
 * Handle one trap from the guest. `tf` holds the guest's registers as the real
 * CPU left them (rip at the faulting instruction for faults); it is updated in
 * place to the state the guest resumes in. `cr2` is the real CR2 for a #PF.
 */
export function handleTrap(vm: VmState, tf: VmTrapFrame, cr2 = 0): TrapOutcome {
  const { trapno, err } = tf;
  const { vcpu } = vm;
  if (trapno === T_PF) {
    const access = (err & PF_I) !== 0 ? 'execute' : (err & PF_W) !== 0 ? 'write' : 'read';
    const t = vm.shadow.fill(vcpu, cr2, access);
    if (t.kind === 'ok') { count(vm, 'shadow-fill'); vm.translationChanged(cr2); return afterTrap(vm, tf); }
    if (t.kind === 'escape' && vm.shadow.inReservedSlot(cr2) && vm.relocateMonitor?.() === true) {
      // The guest uses the monitor's slot: the monitor moved out of its way; the access is retried.
      count(vm, 'monitor-relocated');
      return afterTrap(vm, tf);
    }
    // The guest's tables refuse it (its own page fault), or no shadow entry can map it (an
    // address beyond the guest's memory, in the monitor's region): the guest's processor decides.
    return runOnGuestCpu(vm, tf, undefined, t.kind === 'fault' ? 'guest-page-fault' : 'unshadowed-access', false);
  }
  if (trapno === T_DB) {
    // The guest's own breakpoint or single-step (or its int1) fired on the real CPU: the guest's #DB.
    count(vm, 'debug');
    const cpl = vcpu.cpl;
    const step = vm.cpu.debugTrap(vcpu, tf, vm.takeDebugStatus?.() ?? 0);
    vm.onEvent?.({ kind: 'deliver', vector: T_DB, rip: u64(tf.rip), cpl: vcpu.cpl, external: false, fromCpl: cpl, rsp: reg64(tf, RSP) }, vm);
    if (step.kind === 'triple-fault') return { action: 'stop', reason: 'triple-fault', message: step.message };
    return afterTrap(vm, tf);
  }
  if (trapno === T_GP && err === T_BP * 8 + 2 && vm.patches.size !== 0) {
    // An int3 hit the monitor's DPL 0 gate: one the loader planted runs the original instruction.
    // Patches are keyed by guest-physical address: the same code may run at several virtual addresses.
    const t = vm.shadow.translate(vcpu, tf.rip, 'execute', vcpu.cpl);
    const original = t.kind === 'ok' ? vm.patches.get(t.phys) : undefined;
    if (original !== undefined) return runOnGuestCpu(vm, tf, original, 'patched-', true);
  }
  // A software interrupt whose real delivery failed (the #GP names an IDT entry) retired on the real CPU, as on bare.
  return runOnGuestCpu(vm, tf, undefined, '', trapno === T_GP && (err & 2) !== 0);
}

/**
 * Run the instruction at tf.rip (or the patched `original`) on the guest's
 * processor and act on how it ended. `kind` names the exit in the statistics
 * (a prefix of the mnemonic, or the whole name). `realRetired`: the real CPU
 * already counted the trapping instruction (an int n or int3 whose delivery
 * through the monitor's DPL 0 gate failed), so the guest's clock must not count it twice.
 */
function runOnGuestCpu(vm: VmState, tf: VmTrapFrame, original: Uint8Array | undefined, kind: string, realRetired: boolean): TrapOutcome {
  const { vcpu } = vm;
  const retired = vm.cpu.retired;
  const cpl = vcpu.cpl;
  const rip = vm.onEvent ? u64(tf.rip) : 0n, rsp = vm.onEvent ? reg64(tf, RSP) : 0n;
  const step = vm.cpu.execute(vcpu, tf, vm.devices, original, vm.patches);
  vcpu.extraTicks += vm.cpu.retired - retired - (realRetired ? 1 : 0);
  if (vm.onEvent) {
    vm.onEvent({ kind: 'emulate', mnemonic: step.mnemonic, rip, cpl, nextRip: u64(tf.rip), nextCpl: vcpu.cpl, instructions: vm.cpu.retired - retired, rsp, nextRsp: reg64(tf, RSP) }, vm);
    if (step.kind === 'done' && step.delivered !== undefined) {
      vm.onEvent({ kind: 'deliver', vector: step.delivered, rip: u64(tf.rip), cpl: vcpu.cpl, external: false, fromCpl: cpl, rsp: reg64(tf, RSP) }, vm);
    }
  }
  count(vm, kind === '' ? step.mnemonic : kind.endsWith('-') ? kind + step.mnemonic : kind);
  if (step.kind === 'done' && step.delivered !== undefined) count(vm, `reflected-${step.delivered}`);
  if (step.kind === 'triple-fault') return { action: 'stop', reason: 'triple-fault', message: step.message };
  if (step.kind === 'shutdown') return { action: 'stop', reason: 'shutdown', status: step.status, message: `shutdown with status ${step.status}` };
  if (step.kind === 'halt') {
    // hlt: with the virtual IF clear nothing can wake the guest; else skip to the next timer tick.
    const deadline = vm.devices.timer.deadline;
    if (!vcpu.vif || !Number.isFinite(deadline)) return { action: 'stop', reason: 'halted', message: 'guest hlt with no interrupt that can wake it' };
    const now = virtualClock(vm);
    if (deadline > now) vcpu.extraTicks += deadline - now;
  }
  return afterTrap(vm, tf);
}

/**
 * An instruction boundary in the guest's time: advance the virtual timer and,
 * if the virtual IF allows, deliver one pending virtual interrupt.
 */
export function afterTrap(vm: VmState, tf: VmTrapFrame): TrapOutcome {
  const { devices, vcpu } = vm;
  const now = virtualClock(vm);
  if (now >= devices.timer.deadline) devices.timer.tick(now);
  if (vcpu.interruptShadow) { vcpu.interruptShadow = false; return RESUME; }
  if (vcpu.vif && devices.pic.irr !== 0) {
    const line = devices.pic.pendingLine();
    if (line >= 0) {
      count(vm, 'virtual-interrupt');
      const cpl = vcpu.cpl;
      const vector = devices.pic.acknowledge(line);
      const step = vm.cpu.deliver(vcpu, tf, vector, undefined, false);
      vm.onEvent?.({ kind: 'deliver', vector, rip: u64(tf.rip), cpl: vcpu.cpl, external: true, fromCpl: cpl, rsp: reg64(tf, RSP) }, vm);
        if (step.kind === 'triple-fault') return { action: 'stop', reason: 'triple-fault', message: step.message };
    }
  }
  return RESUME;
}
