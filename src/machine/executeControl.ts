// Control transfer: jcc jmp call ret loop jrcxz, and setcc (which tests the
// same conditions). Branch targets must be canonical: a jump to a
// non-canonical address raises #GP(0) on the branch itself.

import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, GP } from './exceptions.js';
import { isCanonical, toSignedLinear } from './address.js';

const TWO_32 = 0x100000000;
const LIMIT = 2 ** 47;

function relTarget(cpu: Cpu, disp: number): number {
  const t = cpu.rip + disp;
  if (t < -LIMIT || t >= LIMIT) throw new CpuFault(GP, 0, 'non-canonical branch target');
  return t;
}

function dispOf(cpu: Cpu, op: { type: string; disp?: number }): number {
  void cpu;
  return (op as { disp: number }).disp;
}

const jcc: Exec = (cpu, d) => {
  if (cpu.flags.condition(d.form!.cc)) cpu.rip = relTarget(cpu, dispOf(cpu, d.operands[0]));
};

const jmp: Exec = (cpu, d) => {
  const op = d.operands[0];
  if (op.type === 'rel') { cpu.rip = relTarget(cpu, op.disp); return; }
  const lo = cpu.readOp(op, d);
  cpu.jumpTo64(lo, cpu.hi);
};

const call: Exec = (cpu, d) => {
  const op = d.operands[0];
  let target: number;
  if (op.type === 'rel') target = relTarget(cpu, op.disp);
  else {
    const lo = cpu.readOp(op, d);
    const hi = cpu.hi;
    if (!isCanonical(lo, hi)) throw new CpuFault(GP, 0, 'non-canonical branch target');
    target = toSignedLinear(lo, hi);
  }
  const ret = cpu.rip;
  cpu.push(64, ret >>> 0, Math.floor(ret / TWO_32) >>> 0);
  cpu.rip = target;
};

/** ret [imm16]: pop the return address (checked before RSP moves), then release imm16 more bytes. */
const ret: Exec = (cpu, d) => {
  const lo = cpu.peek(64);
  const hi = cpu.hi;
  if (!isCanonical(lo, hi)) throw new CpuFault(GP, 0, 'non-canonical return address');
  const extra = d.operands.length ? (d.operands[0] as { lo: number }).lo & 0xffff : 0;
  cpu.adjustRsp(8 + extra);
  cpu.rip = toSignedLinear(lo, hi);
};

/** loop: decrement RCX (ECX with a 67 prefix) without touching flags; branch while it is not zero. */
const loop: Exec = (cpu, d) => {
  const regs = cpu.regs;
  const target = relTarget(cpu, dispOf(cpu, d.operands[0]));
  if (d.prefixes.addrsize32) {
    regs[2] = (regs[2] - 1) >>> 0;
    if (regs[2] !== 0) cpu.rip = target;
    return;
  }
  const s = regs[2] - 1;
  regs[2] = s >>> 0;
  if (s < 0) regs[3] = (regs[3] - 1) >>> 0;
  if ((regs[2] | regs[3]) !== 0) cpu.rip = target;
};

const jrcxz: Exec = (cpu, d) => {
  const regs = cpu.regs;
  const zero = d.prefixes.addrsize32 ? regs[2] === 0 : (regs[2] | regs[3]) === 0;
  if (zero) cpu.rip = relTarget(cpu, dispOf(cpu, d.operands[0]));
};

const setcc: Exec = (cpu, d) => {
  cpu.writeOp(d.operands[0], d, cpu.flags.condition(d.form!.cc) ? 1 : 0, 0, false);
};

export const CONTROL_HANDLERS: [string, Exec][] = [
  ['jcc', jcc], ['jmp', jmp], ['call', call], ['ret', ret],
  ['loop', loop], ['jrcxz', jrcxz], ['setcc', setcc],
];
