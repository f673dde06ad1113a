// The hardware half of `xk trace`: runs the machine one instruction at a time and
// reports what the processor and the kernel's assembly do between the user's
// `int $64` and the kernel's `iretq`: the gate, the stack switch, vectorN,
// alltraps, trapret, iretq and the return to user mode. The kernel reports its
// own steps (trap(), syscall(), sys_open(), ...) into the same sink, so the events
// come out in execution order.

import type { Session } from '../kernel/boot/session.js';
import { PAGE_SIZE, TSS_PHYS, T_SYSCALL } from '../kernel/mem/kernelLayout.js';
import { TSS_RSP0 } from '../machine/descriptors.js';
import { pushesErrorCode } from '../machine/exceptions.js';
import { SYSCALL_BY_NUMBER } from '../kernel/syscall/syscallTable.js';
import { trapFrameAddress } from '../kernel/proc/proc.js';
import { hex, type TraceSink } from '../kernel/traceEvents.js';

const RAX = 0, RSP = 4;

function reg(cpuRegs: Uint32Array, i: number): bigint {
  return (BigInt(cpuRegs[2 * i + 1]) << 32n) | BigInt(cpuRegs[2 * i]);
}

/** Run `session` to completion (or `maxInstructions`), one instruction at a time, reporting to `sink`. */
export function traceSession(session: Session, sink: TraceSink, maxInstructions = 50_000_000): boolean {
  const { machine, kernel: k } = session;
  const cpu = machine.cpu;
  const entry = k.entry;
  /** The vector stub containing `rip` (the stubs are laid out in vector order). */
  const vectorAt = (rip: number): number | undefined => {
    for (let n = entry.vectors.length - 1; n >= 0; n--) {
      if (entry.vectors[n] <= rip) return rip - entry.vectors[n] < 16 ? n : undefined;
    }
    return undefined;
  };
  const pidNow = () => (k.current ? k.current.pid : 0);
  const emit = (count: number, layer: 'user' | 'cpu' | 'entry', step: string, text: string, args?: Record<string, string | number>) =>
    sink({ count, pid: pidNow(), layer, step, text, args });

  const stop = cpu.instructionCount + maxInstructions;
  let inTrap = false;
  let bySyscall = false; // the current entry came by the syscall instruction, not through the IDT
  while (cpu.instructionCount < stop) {
    const before = {
      rip: cpu.rip, cpl: cpu.cpl, count: cpu.instructionCount,
      rsp: reg(cpu.regs, RSP), rax: reg(cpu.regs, RAX), cs: cpu.cs, ss: cpu.ss,
    };
    const finished = session.run(1);
    if (finished) return true;
    const rip = cpu.rip;

    // Entering the kernel: `int $64` stops exactly at vector64; a device interrupt is
    // delivered before the step, which then runs the stub's first instruction.
    const vector = before.cpl === 3 && cpu.cpl === 0 ? vectorAt(rip) : undefined;
    if (before.cpl === 3 && cpu.cpl === 0 && rip === entry.syscallEntry) {
      // The syscall road: no IDT, no TSS, nothing pushed; the stub (movl $n,%eax; movq %rcx,%r10; syscall) is 8 bytes before.
      inTrap = true;
      bySyscall = true;
      const stub = userStub(session, before.rip - 3);
      if (stub) emit(before.count - 2, 'user', 'stub', `${stub.name}: movl $${stub.num},%eax; movq %rcx,%r10`, { rip: hex(before.rip - 8) });
      emit(before.count, 'user', 'syscall-instruction', `syscall at ${hex(before.rip)}`, {
        rip: hex(before.rip + 2), rsp: hex(before.rsp), cs: hex(before.cs), ss: hex(before.ss), rax: Number(before.rax),
      });
      emit(cpu.instructionCount, 'cpu', 'msr',
        `syscall: %rcx = rip ${hex(reg(cpu.regs, 1))}, %r11 = rflags, rflags &= ~SFMASK, CS/SS from STAR, rip = LSTAR ${hex(rip)}; no IDT, no stack switch (%rsp still ${hex(reg(cpu.regs, RSP))}), nothing pushed`,
        { rcx: hex(reg(cpu.regs, 1)), r11: hex(reg(cpu.regs, 11)), handler: hex(rip) });
    } else if (vector !== undefined) {
      bySyscall = false;
      inTrap = true;
      if (vector === T_SYSCALL) {
        const stub = userStub(session, before.rip);
        if (stub) emit(before.count - 1, 'user', 'stub', `${stub.name}: movl $${stub.num},%eax`, { rip: hex(before.rip - 5) });
        emit(before.count, 'user', 'int', `int $64 at ${hex(before.rip)}`, {
          rip: hex(before.rip + 2), rsp: hex(before.rsp), cs: hex(before.cs), ss: hex(before.ss), rax: Number(before.rax),
        });
      } else {
        emit(before.count, 'user', 'interrupted', `interrupted at ${hex(before.rip)}`, { rip: hex(before.rip) });
      }
      const rsp0 = machine.memory.read32(TSS_PHYS + TSS_RSP0) + machine.memory.read32(TSS_PHYS + TSS_RSP0 + 4) * 2 ** 32;
      emit(cpu.instructionCount, 'cpu', 'gate',
        `IDT[${vector}] interrupt gate${vector === T_SYSCALL ? ' (DPL 3)' : ''}: %rsp = TSS.rsp0 ${hex(BigInt.asIntN(64, BigInt(rsp0)))}; push ss, rsp, rflags, cs, rip; jump to vector${vector}`,
        { vector, rsp0: hex(BigInt.asIntN(64, BigInt(rsp0))), handler: hex(entry.vectors[vector]) });
    } else if (rip === entry.alltraps && inTrap && bySyscall) {
      emit(cpu.instructionCount, 'entry', 'syscall_entry',
        'syscall_entry: swapgs; save user %rsp at %gs:0x200; %rsp = TSS.rsp0 (%gs:4); push ss, rsp, r11, cs, rcx (the frame no hardware built); push $1 (err: by syscall); push $64; swapgs; jmp alltraps',
        { addr: hex(entry.syscallEntry), rsp: hex(reg(cpu.regs, RSP)) });
      emit(cpu.instructionCount, 'entry', 'alltraps', 'alltraps: push r15 ... rax (struct trap_frame, 176 bytes); mov %rsp,%rdi; call trap', { addr: hex(rip) });
    } else if (rip === entry.alltraps && inTrap) {
      const n = vectorNumber(machine.memory, reg(cpu.regs, RSP));
      const pushes = pushesErrorCode(n) ? `push $${n}` : `push $0; push $${n}`;
      emit(cpu.instructionCount, 'entry', 'vector', `vector${n}: ${pushes}; jmp alltraps`, { vector: n });
      emit(cpu.instructionCount, 'entry', 'alltraps', 'alltraps: push r15 ... rax (struct trap_frame, 176 bytes); mov %rsp,%rdi; call trap', { addr: hex(rip) });
    } else if (before.rip === entry.trap && inTrap && k.current) {
      // trap() ran (as a host call, no instruction retired) and left the CPU at trapret.
      emit(before.count, 'entry', 'trapret', `trapret: pop rax ... r15; add $16,%rsp (trapno, err)`, {
        addr: hex(entry.trapret), tf: hex(trapFrameAddress(k.current)),
      });
    } else if (rip === entry.sysret && inTrap) {
      emit(cpu.instructionCount, 'cpu', 'sysretq', 'sysretq: rip = %rcx, rflags = %r11, CS/SS from STAR, CPL 3 (%rsp already the user\'s: loaded from the frame)', { addr: hex(rip) });
    } else if (rip === entry.iret && inTrap) {
      emit(cpu.instructionCount, 'cpu', 'iretq', 'iretq: pop rip, cs, rflags, rsp, ss', { addr: hex(rip) });
    } else if (before.cpl === 0 && cpu.cpl === 3 && inTrap) {
      inTrap = false;
      emit(cpu.instructionCount, 'user', 'user', `back in user mode at ${hex(rip)}, rax = ${BigInt.asIntN(64, reg(cpu.regs, RAX))}`, {
        rip: hex(rip), rsp: hex(reg(cpu.regs, RSP)), cs: hex(cpu.cs), ss: hex(cpu.ss), rax: Number(BigInt.asIntN(64, reg(cpu.regs, RAX))),
      });
    }
  }
  return false;
}

/** The trap number the vector stub pushed: at %rsp when alltraps starts. */
function vectorNumber(mem: { read32(a: number): number }, rsp: bigint): number {
  const phys = Number(BigInt.asIntN(64, rsp) + 2n ** 47n);
  return mem.read32(phys);
}

/** If the 5 bytes before `intAddr` are `movl $n,%eax`, the stub's system-call number and name. */
function userStub(session: Session, intAddr: number): { num: number; name: string } | undefined {
  const p = session.kernel.current;
  if (!p) return undefined;
  const at = intAddr - 5;
  const page = p.vm.lookup(Math.floor(at / PAGE_SIZE) * PAGE_SIZE);
  if (!page || (at % PAGE_SIZE) > PAGE_SIZE - 5) return undefined;
  const b = session.machine.memory.bytes.subarray(page.addr + (at % PAGE_SIZE), page.addr + (at % PAGE_SIZE) + 5);
  if (b[0] !== 0xb8) return undefined;
  const num = b[1] | (b[2] << 8) | (b[3] << 16) | (b[4] << 24);
  return { num, name: stubName(num) };
}

function stubName(num: number): string {
  return SYSCALL_BY_NUMBER.get(num)?.name ?? `syscall ${num}`;
}
