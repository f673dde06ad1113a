// A virtual machine under xk's monitor as a debug target: gdb sees the guest
// as if it were a real machine. Registers are the guest's (the real CPU holds
// them while the guest runs), but CS/SS, CPL-dependent RFLAGS.IF and the
// control registers come from the vCPU, and memory goes through the guest's
// own page tables (its CR3) into guest-physical memory.

import type { VmHost, VmResult } from '../vmm/host.js';
import { runHostCall } from '../machine/debugExceptions.js';
import { MachineTarget, stopEvent } from './machineTarget.js';
import type { StopEvent } from './target.js';
import { REGISTERS } from './targetDescription.js';

const IF = 1 << 9;

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  for (let i = 0; i < bytes; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** How a VmHost run ended, as a stop event (null: it did not end). */
function ended(r: VmResult): StopEvent | null {
  if (r.reason === 'limit') return null;
  if (r.reason === 'shutdown') return { kind: 'exited', status: r.status ?? 0 };
  return { kind: 'ended', message: r.message };
}

export class VmTarget extends MachineTarget {
  constructor(private readonly host: VmHost) {
    super(host.machine, { run: (n) => ended(host.run(n)) });
  }

  /**
   * One guest instruction. The real CPU's single step stops where the guest
   * left it: when the instruction trapped to the monitor (an emulated out,
   * cli, iretq..., or a shadow page fault), at the monitor's handler. Finish
   * that exit as the monitor does and report the guest where it then is: after
   * the emulated instruction, or in its own handler; after a shadow fill (no
   * guest time passed, same RIP) the instruction has not run yet: step again.
   */
  override step(): StopEvent | null {
    const cpu = this.host.machine.cpu;
    for (let exits = 0; ; exits++) {
      const rip = cpu.rip, cpl = this.host.vcpu.cpl, clock = this.host.guestClock();
      const event = super.step();
      const pending = cpu.cpl === 0 ? cpu.hostCalls.get(cpu.rip) : undefined;
      if (event === null || event.kind !== 'signal' || event.watch !== undefined || pending === undefined) return event;
      // The monitor's handling of the exit: a watchpoint the emulated instruction fired ends the step there.
      const d = this.debugger;
      d.event = null;
      const watched = runHostCall(this.host.machine, pending) && d.event !== null ? stopEvent(d.event) : null;
      d.event = null;
      const end = ended(this.host.run(0));
      if (end !== null) return end;
      if (watched !== null) return watched;
      if (cpu.rip !== rip || this.host.vcpu.cpl !== cpl || this.host.guestClock() !== clock || exits >= 100) return event;
    }
  }

  override readRegister(n: number): Uint8Array {
    const v = this.host.vcpu;
    switch (REGISTERS[n]?.name) {
      case 'eflags': {
        const real = this.host.machine.cpu.getRflags();
        return le(((real & ~IF) | (v.vif ? IF : 0)) >>> 0, 4);
      }
      case 'cs': return le(v.cpl === 0 ? v.cs : v.cs | 3, 4);
      case 'ss': return le(v.ss, 4);
      case 'ds': return le(v.ds, 4);
      case 'es': return le(v.es, 4);
      case 'cr0': return le(v.cr0, 8);
      case 'cr2': return le(v.cr2, 8);
      case 'cr3': return le(v.cr3, 8);
      case 'cr4': return le(v.cr4, 8);
      case 'efer': return le(v.efer, 8);
    }
    return super.readRegister(n);
  }

  override writeRegister(n: number, bytes: Uint8Array): boolean {
    const name = REGISTERS[n]?.name;
    if (name === 'eflags' || name === 'cs' || name === 'ss') return false;
    return super.writeRegister(n, bytes);
  }

  /** Guest-physical address of a guest-linear one, through the guest's own tables (as its kernel would see it). */
  override physical(address: number): number {
    const t = this.host.vm.shadow.translate(this.host.vcpu, address, 'read', 0);
    return t.kind === 'ok' ? t.phys : -1;
  }

  override readMemory(address: bigint, length: number): Uint8Array | null {
    const guest = this.host.vm.shadow.guest;
    const start = Number(BigInt.asIntN(64, address));
    const out = new Uint8Array(length);
    let phys = 0;
    for (let i = 0; i < length; i++) {
      if (i === 0 || ((start + i) & 0xfff) === 0) {
        const p = this.physical(start + i);
        if (p < 0) return null;
        phys = p - i;
      }
      out[i] = guest.read8(phys + i);
    }
    return out;
  }

  override writeMemory(address: bigint, bytes: Uint8Array): boolean {
    const guest = this.host.vm.shadow.guest;
    const start = Number(BigInt.asIntN(64, address));
    for (let i = 0; i < bytes.length; i++) {
      const p = this.physical(start + i);
      if (p < 0) return false;
      guest.write8(p, bytes[i]);
      this.host.machine.invalidateCode(Math.floor(p / 4096)); // the guest's memory is host-physical [0, guestBytes)
    }
    return true;
  }
}
