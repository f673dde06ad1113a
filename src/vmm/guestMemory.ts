// The monitor's own accesses to guest memory, made on the guest's behalf
// (reading an lgdt operand, popping an iretq frame, pushing an interrupt
// frame): through the guest's page tables at a given virtual CPL, with the
// guest-visible Accessed/Dirty side effects, faulting like the hardware would.

import type { ShadowPaging, Access } from './shadowPaging.js';
import type { Vcpu } from './vcpu.js';
import { PhysicalMemory } from '../machine/memory.js';

/**
 * The guest's physical memory seen at guest-physical addresses: host-physical
 * [base, base + bytes) of `memory`, sharing its bytes (addresses past the end
 * read as an unbacked bus, like the real one).
 */
export function guestPhysicalView(memory: PhysicalMemory, base: number, bytes: number): PhysicalMemory {
  if (base === 0) return memory;
  const view: PhysicalMemory = Object.create(PhysicalMemory.prototype);
  const window = memory.bytes.subarray(base, base + bytes);
  Object.assign(view, { size: window.length, bytes: window, view: new DataView(window.buffer, window.byteOffset, window.length) });
  return view;
}

/** The guest's access faults: the monitor reflects this exception to the guest. */
export class GuestException {
  constructor(readonly vector: number, readonly errorCode: number | undefined, readonly cr2?: number) {}
}

/** The guest tried to leave its box: the VM is stopped. */
export class GuestEscape {
  constructor(readonly message: string) {}
}

export class GuestMemory {
  /** Guest-physical memory (the shadow's view of host-physical [base, base + guestBytes)). */
  private readonly memory: PhysicalMemory;
  constructor(_host: PhysicalMemory, private readonly shadow: ShadowPaging, private readonly vcpu: Vcpu) {
    this.memory = shadow.guest;
  }

  private phys(linear: number, access: Access, vcpl: number): number {
    const t = this.shadow.translate(this.vcpu, linear, access, vcpl);
    if (t.kind === 'escape') throw new GuestEscape(t.message);
    if (t.kind === 'fault') throw new GuestException(14, t.errorCode, linear);
    return t.phys;
  }

  /** Read `n` bytes (translating every page first, so a fault leaves nothing half-done). */
  read(linear: number, n: number, vcpl: number, access: Access = 'read'): Uint8Array {
    const out = new Uint8Array(n);
    const phys: number[] = [];
    for (let i = 0; i < n; i++) phys.push(i === 0 || ((linear + i) & 0xfff) === 0 ? this.phys(linear + i, access, vcpl) : phys[i - 1] + 1);
    for (let i = 0; i < n; i++) out[i] = this.memory.read8(phys[i]);
    return out;
  }

  write(linear: number, bytes: Uint8Array, vcpl: number): void {
    const phys: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      phys.push(i === 0 || ((linear + i) & 0xfff) === 0 ? this.phys(linear + i, 'write', vcpl) : phys[i - 1] + 1);
    }
    for (let i = 0; i < bytes.length; i++) this.memory.write8(phys[i], bytes[i]);
  }

  read64(linear: number, vcpl: number): bigint {
    const b = this.read(linear, 8, vcpl);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  write64s(linear: number, values: bigint[], vcpl: number): void {
    const b = new Uint8Array(8 * values.length);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setBigUint64(8 * i, BigInt.asUintN(64, x), true));
    this.write(linear, b, vcpl);
  }
}
