// The monitor's trap handler: what happens when the guest, running at real
// CPL 3, leaves the CPU to the host. The host's trap code (src/vmm/host.ts, or
// the host kernel's trap()) calls `handleTrap` with the trap frame and the VM;
// the monitor dispatches on the real trap number:
//
//   #PF (14)   a shadow miss: fill the shadow entry and retry (invisible to the
//              guest); or a fault by the guest's own tables: reflect vector 14
//              with the virtual CR2.
//   #GP (13) with the IDT bit in the error code: the guest's `int n` hit one of
//              the monitor's DPL 0 gates: deliver n through the guest's IDT.
//   #GP, #NP   a sensitive instruction: decode it and emulate it on the vCPU.
//   others     reflect to the guest through its IDT.
//
// After every trap the monitor gives pending virtual interrupts (the virtual
// timer) a chance, when the virtual IF allows, just as the hardware does at an
// instruction boundary.

import { decode, decodeBytes, type Decoded } from '../isa/decode.js';
import { emulate, type EmulationContext } from './emulate.js';
import { GuestEscape, GuestException, GuestMemory } from './guestMemory.js';
import type { ShadowPaging } from './shadowPaging.js';
import { signed, type VmTrapFrame } from './trapFrame.js';
import type { Vcpu } from './vcpu.js';
import type { VirtualDevices } from './virtualDevices.js';
import { deliverToGuest } from './virtualInterrupts.js';

export const T_GP = 13, T_NP = 11, T_PF = 14, T_DF = 8;
const PF_W = 2, PF_I = 16;

/** One VM's state, as the host keeps it between traps. */
export interface VmState {
  vcpu: Vcpu;
  shadow: ShadowPaging;
  mem: GuestMemory;
  devices: VirtualDevices;
  /** The real clock: guest instructions retired on the real CPU so far (the host adds vcpu.extraTicks). */
  realInstructions(): number;
  /** The guest's translation changed (one page, or everything): the host must flush its TLB / reload CR3. */
  translationChanged(linear?: number): void;
  /** Instructions the loader replaced by int3 (patcher.ts): guest-physical address -> original bytes. */
  patches: Map<number, Uint8Array>;
  /** Statistics: exits by kind. */
  exits: Map<string, number>;
}

export type TrapOutcome =
  | { action: 'resume' }
  | { action: 'stop'; reason: 'shutdown' | 'halted' | 'triple-fault' | 'escape'; message: string; status?: number };

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
  const trapno = Number(tf.trapno);
  const err = Number(tf.err);
  const { vcpu, mem } = vm;
  try {
    if (trapno === T_PF) {
      const access = (err & PF_I) !== 0 ? 'execute' : (err & PF_W) !== 0 ? 'write' : 'read';
      const t = vm.shadow.fill(vcpu, cr2, access);
      if (t.kind === 'escape') throw new GuestEscape(t.message);
      if (t.kind === 'ok') { count(vm, 'shadow-fill'); vm.translationChanged(cr2); return afterTrap(vm, tf); }
      count(vm, 'guest-page-fault');
      vcpu.cr2 = cr2;
      deliverToGuest(mem, vcpu, tf, T_PF, t.errorCode, false);
      return afterTrap(vm, tf);
    }
    if (trapno === T_GP && (err & 2) !== 0) {
      // int n through a gate the monitor keeps at DPL 0.
      const vector = err >>> 3;
      let original: Uint8Array | undefined;
      if (vector === 3 && vm.patches.size !== 0) {
        // Patches are keyed by guest-physical address: the same code may run at several virtual addresses.
        const t = vm.shadow.translate(vcpu, signed(tf.rip), 'execute', vcpu.cpl);
        if (t.kind === 'ok') original = vm.patches.get(t.phys);
      }
      if (original !== undefined) return emulateOne(vm, tf, decodeBytes(original, 0), 'patched-');
      count(vm, 'int');
      const d = decode((i) => mem.read(signed(tf.rip) + i, 1, vcpu.cpl, 'execute')[0]);
      const at = tf.rip;
      tf.rip += BigInt(d.length); // the frame holds the address after the int
      try {
        deliverToGuest(mem, vcpu, tf, vector, undefined, true);
      } catch (e) {
        tf.rip = at; // like any fault, the #GP of a refused int n leaves RIP at the instruction
        throw e;
      }
      vcpu.extraTicks++;
      return afterTrap(vm, tf);
    }
    if (trapno === T_GP || trapno === T_NP) {
      const d = decode((i) => mem.read(signed(tf.rip) + i, 1, vcpu.cpl, 'execute')[0]);
      return emulateOne(vm, tf, d, '');
    }
    // Any other exception is the guest's own: reflect it.
    count(vm, `exception-${trapno}`);
    deliverToGuest(mem, vcpu, tf, trapno, err, false);
    return afterTrap(vm, tf);
  } catch (e) {
    return guestTrouble(vm, tf, e);
  }
}

/** Emulate the sensitive instruction `d` at tf.rip. */
function emulateOne(vm: VmState, tf: VmTrapFrame, d: Decoded, kind: string): TrapOutcome {
  const { vcpu, mem } = vm;
  count(vm, kind + (d.form?.mnemonic ?? 'invalid'));
  const context: EmulationContext = {
    vcpu, tf, mem, shadow: vm.shadow, devices: vm.devices, translationChanged: () => vm.translationChanged(),
  };
  try {
    const r = emulate(context, d);
    vcpu.extraTicks++;
    if (r.kind === 'shutdown') return { action: 'stop', reason: 'shutdown', status: r.status, message: `shutdown with status ${r.status}` };
    if (r.kind === 'halt') {
      // hlt: with the virtual IF clear nothing can wake the guest; else skip to the next timer tick.
      const deadline = vm.devices.timer.deadline;
      if (!vcpu.vif || !Number.isFinite(deadline)) return { action: 'stop', reason: 'halted', message: 'guest hlt with no interrupt that can wake it' };
      const now = virtualClock(vm);
      if (deadline > now) vcpu.extraTicks += deadline - now;
    }
    return afterTrap(vm, tf);
  } catch (e) {
    return guestTrouble(vm, tf, e);
  }
}

/** A fault the guest must see (reflect it) or an escape attempt (stop the VM). */
function guestTrouble(vm: VmState, tf: VmTrapFrame, e: unknown): TrapOutcome {
  if (e instanceof GuestException) {
    if (e.cr2 !== undefined) vm.vcpu.cr2 = e.cr2;
    count(vm, `reflected-${e.vector}`);
    try {
      deliverToGuest(vm.mem, vm.vcpu, tf, e.vector, e.errorCode, false);
    } catch (e2) {
      if (e2 instanceof GuestEscape) return { action: 'stop', reason: 'triple-fault', message: e2.message };
      throw e2;
    }
    return afterTrap(vm, tf);
  }
  if (e instanceof GuestEscape) {
    return { action: 'stop', reason: /triple fault/.test(e.message) ? 'triple-fault' : 'escape', message: e.message };
  }
  throw e;
}

/**
 * An instruction boundary in the guest's time: advance the virtual timer and,
 * if the virtual IF allows, deliver one pending virtual interrupt.
 */
export function afterTrap(vm: VmState, tf: VmTrapFrame): TrapOutcome {
  const { devices, vcpu } = vm;
  const now = virtualClock(vm);
  if (now >= devices.timer.deadline) devices.timer.tick(now);
  if (vcpu.interruptShadow) { vcpu.interruptShadow = false; return { action: 'resume' }; }
  if (vcpu.vif && devices.pic.irr !== 0) {
    const line = devices.pic.pendingLine();
    if (line >= 0) {
      count(vm, 'virtual-interrupt');
      try {
        deliverToGuest(vm.mem, vcpu, tf, devices.pic.acknowledge(line), undefined, false);
      } catch (e) {
        if (e instanceof GuestEscape) return { action: 'stop', reason: 'triple-fault', message: e.message };
        throw e;
      }
    }
  }
  return { action: 'resume' };
}
