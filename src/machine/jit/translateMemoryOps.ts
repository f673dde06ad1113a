// Read-modify-write destinations for the JIT: the one operand that an ALU
// instruction (add sub and or xor, inc dec neg not, shifts by an immediate)
// both reads and writes, as a register or as memory. For memory, the value is
// loaded and stored through the inline TLB probe (Ops.load / Ops.store), at
// the same linear address, as the interpreter's readOp / writeOp(sameAddress)
// do: the load uses a read access and the store a write access, so a
// read-only page faults on the store. Nothing is written before the store
// (registers, flags), so a #PF on either access leaves the state of before
// the instruction, as the interpreter's fault does; a page-crossing access
// takes Cpu.readMem / Cpu.writeMem, which translate both pages first.

import type { DecodedOperand } from '../../isa/decode.js';
import type { Ops } from './pieces.js';

/** The destination operand of a read-modify-write: code that reads it, its value [lo, hi], and code that writes it. */
export interface Destination {
  pre: string;
  v: [string, string];
  write: (vl: string, vh: string) => string;
}

/** `o` (a register or memory operand of `size` bits) as a read-modify-write destination, or null (fs/gs, 32-bit addressing). */
export function destination(c: Ops, o: DecodedOperand, size: number): Destination | null {
  if (o.type === 'reg') return { pre: '', v: c.reg(o), write: (vl, vh) => c.setReg(o, vl, vh) };
  if (o.type !== 'mem') return null;
  const ea = c.address(o);
  if (ea === null) return null;
  return { pre: `${ea} ${c.load(size, 'm', 'mH')}`, v: ['m', size === 64 ? 'mH' : '0'], write: (vl, vh) => c.store(size, vl, vh) };
}
