// Delivering an interrupt or exception to the guest: what the hardware does
// through the IDT (src/machine/interrupts.ts), done by the monitor against the
// guest's virtual IDT, GDT and TSS, in guest memory.
//
// From virtual CPL 3 the frame goes on the guest kernel stack (the guest TSS's
// rsp0); the pushed CS/SS/RFLAGS are the guest's virtual ones (its selectors,
// its virtual IF). Then the virtual CPL becomes the gate's, the guest resumes at
// the handler, and an interrupt gate clears the virtual IF.

import { parseGate, parseSegmentDescriptor, TSS_RSP0, TYPE_INTERRUPT_GATE, TYPE_TRAP_GATE } from '../machine/descriptors.js';
import { GuestEscape, GuestException, type GuestMemory } from './guestMemory.js';
import { signed, u64, type VmTrapFrame } from './trapFrame.js';
import { RFLAGS_IF, RFLAGS_IOPL, type Vcpu } from './vcpu.js';

const RFLAGS_TF = 1n << 8n, RFLAGS_NT = 1n << 14n, RFLAGS_RF = 1n << 16n;

/** Vectors whose exceptions push an error code. */
export const pushesErrorCode = (v: number): boolean => v === 8 || (v >= 10 && v <= 14) || v === 17;

/** RFLAGS as the guest sees it: the real arithmetic flags with the virtual IF, IOPL 0. */
export function guestRflags(tf: VmTrapFrame, vcpu: Vcpu): bigint {
  return (tf.rflags & ~BigInt(RFLAGS_IF | RFLAGS_IOPL)) | (vcpu.vif ? BigInt(RFLAGS_IF) : 0n) | 2n;
}

/** Load a guest-visible RFLAGS value: IF goes to the vCPU (if the guest may change it), the rest to the real flags. */
export function setGuestRflags(tf: VmTrapFrame, vcpu: Vcpu, value: bigint, mayChangeIf: boolean): void {
  if (mayChangeIf) vcpu.vif = (value & BigInt(RFLAGS_IF)) !== 0n;
  tf.rflags = (value & ~BigInt(RFLAGS_IOPL)) | BigInt(RFLAGS_IF) | 2n;
}

/**
 * Deliver `vector` to the guest. `software` is true for `int n` (gate DPL is
 * checked and the frame's RIP is `nextRip`); faults push the faulting RIP.
 * A fault while delivering becomes a double fault, and a fault while
 * delivering that a triple fault (GuestEscape: the VM stops).
 */
export function deliverToGuest(
  mem: GuestMemory, vcpu: Vcpu, tf: VmTrapFrame, vector: number, errorCode: number | undefined, software: boolean,
  depth = 0,
): void {
  if (depth >= 2) throw new GuestEscape(`triple fault in the guest (delivering vector ${vector})`);
  try {
    if (vector * 16 + 15 > vcpu.idtrLimit) throw new GuestException(13, vector * 8 + 2);
    const gate = parseGate(mem.read(vcpu.idtrBase + vector * 16, 16, 0));
    if (gate.type !== TYPE_INTERRUPT_GATE && gate.type !== TYPE_TRAP_GATE) throw new GuestException(13, vector * 8 + 2);
    if (software && gate.dpl < vcpu.cpl) throw new GuestException(13, vector * 8 + 2);
    if (!gate.present) throw new GuestException(11, vector * 8 + 2);
    const sel = gate.selector & 0xfff8;
    if (sel === 0 || sel + 7 > vcpu.gdtrLimit) throw new GuestException(13, sel);
    const code = parseSegmentDescriptor(mem.read(vcpu.gdtrBase + sel, 8, 0));
    if (!code.present) throw new GuestException(11, sel);
    const newCpl = Math.min(code.dpl, vcpu.cpl);
    let rsp = signed(tf.rsp);
    if (newCpl < vcpu.cpl) rsp = signed(mem.read64(vcpu.tssBase + TSS_RSP0, 0));
    rsp -= ((rsp % 16) + 16) % 16; // align down to 16, as the hardware does
    const frame = [tf.rip, u64(vcpu.cs), guestRflags(tf, vcpu), tf.rsp, u64(vcpu.ss)];
    if (errorCode !== undefined && !software && pushesErrorCode(vector)) frame.unshift(u64(errorCode));
    const top = rsp - 8 * frame.length;
    mem.write64s(top, frame, newCpl);
    // Committed: switch the vCPU to the handler.
    if (newCpl !== vcpu.cpl) vcpu.ss = newCpl;
    vcpu.cpl = newCpl;
    vcpu.cs = gate.selector;
    tf.rsp = u64(top);
    tf.rip = u64(gate.offset);
    tf.rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
    if (gate.type === TYPE_INTERRUPT_GATE) vcpu.vif = false;
  } catch (e) {
    // A fault delivering `int n` is an ordinary fault of that instruction (#GP(n*8+2)...).
    if (!(e instanceof GuestException) || software) throw e;
    if (e.cr2 !== undefined) vcpu.cr2 = e.cr2;
    deliverToGuest(mem, vcpu, tf, 8, 0, false, depth + 1);
  }
}
