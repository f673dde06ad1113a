// The host-call gate's table: RIP -> the TypeScript function that runs instead
// of the instruction there (see Cpu.hostCalls).
//
// The run loop asks "is there a host call here?" before every kernel-mode
// instruction. A Map lookup with a large (negative, kernel-half) address as the
// key costs a hash of a floating-point number each time, so this Map also keeps
// a filter indexed by the low 12 bits of the addresses it holds: most
// instructions are ruled out by one typed-array load.

import type { Cpu } from './cpu.js';

export type HostCall = (cpu: Cpu) => void;

export class HostCallMap extends Map<number, HostCall> {
  /** filter[a & 0xfff] counts the keys with those low bits (0: no host call can be at such an address). */
  readonly filter = new Uint16Array(4096);
  /** Bumped by every change, so code that planned around the table (cpu blocks.ts) can notice. */
  version = 0;

  override set(rip: number, call: HostCall): this {
    // Map's constructor calls set() before the filter field exists; it is always called without entries here.
    if (this.filter !== undefined && !this.has(rip)) this.filter[rip & 0xfff]++;
    if (this.filter !== undefined) this.version++;
    return super.set(rip, call);
  }

  override delete(rip: number): boolean {
    if (!super.delete(rip)) return false;
    this.filter[rip & 0xfff]--;
    this.version++;
    return true;
  }

  override clear(): void {
    super.clear();
    this.filter.fill(0);
    this.version++;
  }
}
