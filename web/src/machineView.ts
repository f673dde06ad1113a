// What the page shows of a stopped machine: registers, the code at rip, the
// process table and a page-table walk -- read through the gdb stub's own views
// (src/gdb), so the page and gdb show the same machine.

import type { Session } from '../../src/kernel/boot/session.js';
import { MachineTarget } from '../../src/gdb/machineTarget.js';
import { kernelMonitor } from '../../src/gdb/monitorCommands.js';
import { kernelView } from '../../src/gdb/kernelView.js';
import { disassemble } from '../../src/toolchain/disassembler/listing.js';
import type { MachineView } from './protocol.js';

const hex = (v: bigint | number): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** `count` instructions at linear address `rip`, read through the current page tables. */
export function codeAt(session: Session, rip: number, count = 6): string {
  const bytes = new MachineTarget(session.machine).readMemory(BigInt.asUintN(64, BigInt(rip)), 15 * count);
  if (!bytes) return `${hex(rip)}: not mapped`;
  return disassemble(bytes, rip).slice(0, count)
    .map((l) => `${BigInt.asUintN(64, BigInt(l.address)).toString(16)}:  ${l.text}`).join('\n');
}

export function machineView(session: Session, address: string): MachineView {
  const cpu = session.machine.cpu;
  const lines: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    lines.push(`${NAMES[i].padEnd(4)} ${hex(cpu.getReg64(i))}   ${NAMES[i + 1].padEnd(4)} ${hex(cpu.getReg64(i + 1))}`);
  }
  lines.push(`rip  ${hex(cpu.rip)}   rflags ${hex(cpu.getRflags())}`);
  lines.push(`cs ${cpu.cs.toString(16)}  ss ${cpu.ss.toString(16)}  cpl ${cpu.cpl}`);
  lines.push(`cr0 ${hex(cpu.cr0)}  cr2 ${hex(cpu.cr2)}`);
  lines.push(`cr3 ${hex(cpu.cr3)}  cr4 ${hex(cpu.cr4)}  efer ${hex(cpu.efer)}`);
  const monitor = kernelMonitor(kernelView(session.kernel), session.machine);
  return {
    instructions: cpu.instructionCount,
    registers: lines.join('\n'),
    code: codeAt(session, cpu.rip),
    processes: monitor('ps') ?? '',
    walk: address.trim() === '' ? '' : monitor(`pt ${address.trim()}`) ?? '',
  };
}

/** The trap frame of `pid` as the monitor's `tf` prints it. */
export function trapFrameText(session: Session, pid: number): string {
  return kernelMonitor(kernelView(session.kernel), session.machine)(`tf ${pid}`) ?? '';
}
