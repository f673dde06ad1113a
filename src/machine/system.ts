// The privileged and system instructions: everything that touches control
// registers, descriptor tables, privilege levels, interrupts and I/O ports.
// The CPU core calls executeSystem() for every form marked in SYSTEM_FORMS,
// after it has advanced RIP past the instruction. Faults are thrown as
// CpuFault before any state changes (the CPU then rolls RIP back).
//
// Privilege checks (Intel SDM Vol. 3, 5.9 and 18.2):
//   cpl0 forms (hlt, lgdt, mov to CRn, wrmsr, ...) need CPL = 0, else #GP(0);
//   io forms (cli, sti, in, out) need CPL <= RFLAGS.IOPL, else #GP(0).
//   (xk has no TSS I/O permission bitmap: at CPL > IOPL every port faults.)

import type { Cpu } from './cpu.js';
import type { Decoded as DecodedInstruction, DecodedOperand } from '../isa/decode.js';
import { FORMS } from '../isa/table.js';
import { CpuFault, GP, NP, SS, UD, gp, idtErrorCode, selectorErrorCode, BP, DB } from './exceptions.js';
import { DR6_BD, DR7_GD } from './debugRegisters.js';
import { CR0_PG, CR0_PE, CR4_DE, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE } from './mmu.js';
import {
  InterruptController, InterruptHost, readGdtDescriptor, readLinearBytes, iopl,
  RFLAGS_IF, RFLAGS_IOPL, RFLAGS_NT, RFLAGS_RF, RFLAGS_VM, RFLAGS_VIF, RFLAGS_VIP,
} from './interrupts.js';
import { PortBus, PortSize } from './ports.js';
import {
  isCodeSegment, isConforming, isWritableData, parseTssDescriptor, TYPE_TSS_AVAILABLE, TYPE_TSS_BUSY,
} from './descriptors.js';
import { isCanonical, toSignedLinear } from './address.js';
import type { DirectExits } from './directExits.js';
import { fastSystemCall, fastSystemReturn, readSystemCallMsr, writeSystemCallMsr } from './systemCall.js';

/** What the system instructions need from the machine. */
export interface SystemHost extends InterruptHost {
  ports: PortBus;
  interrupts: InterruptController;
  /** Strict virtualization (xk vm --strict): the sensitive unprivileged instructions trap at CPL 3. */
  strictVirtualization?: boolean;
  /** The monitor that takes its guest's exits directly (directExits.ts), if one runs here. */
  directExits?: DirectExits | null;
}

/** Sensitive but unprivileged on real x86; with strictVirtualization they raise #GP(0) at CPL 3. */
const STRICT_SENSITIVE = new Set(['pushf', 'popf', 'sgdt', 'sidt', 'smsw', 'str']);

/** MSR numbers. */
export const MSR_EFER = 0xc0000080;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;

const SYSTEM_MNEMONICS = new Set([
  'hlt', 'cli', 'sti', 'lgdt', 'lidt', 'sgdt', 'sidt', 'smsw', 'lmsw', 'ltr', 'str', 'invlpg',
  'in', 'out', 'rdmsr', 'wrmsr', 'swapgs', 'iretq', 'iret', 'int', 'int3', 'int1', 'pushf', 'popf',
  'syscall', 'sysretq', 'sysretl', // systemCall.ts
]);

/** SYSTEM_FORMS[form.id] = 1 when executeSystem implements the form (including mov to/from CRn and segment registers). */
export const SYSTEM_FORMS: Uint8Array = (() => {
  const t = new Uint8Array(FORMS.length);
  for (const f of FORMS) {
    if (SYSTEM_MNEMONICS.has(f.mnemonic) || f.operands.some((o) => o.kind === 'creg' || o.kind === 'dreg' || o.kind === 'sreg')) t[f.id] = 1;
  }
  return t;
})();

/** RFLAGS bits that popf/iret may change at all (status, TF, IF, DF, IOPL, NT, AC, ID). */
const RFLAGS_WRITABLE = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x3000 | 0x4000 | 0x40000 | 0x200000;

/** CR4 bits xk accepts (VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE); others #GP. */
const CR4_SUPPORTED = 0x7ff | (1 << 16) | (1 << 18);

// ---------------------------------------------------------------------------
// Operand helpers (system instructions are rare, so clarity wins over speed).

function readReg(cpu: Cpu, reg: number, size: number): [number, number] {
  const lo = cpu.regs[2 * reg], hi = cpu.regs[2 * reg + 1];
  if (size === 64) return [lo, hi];
  if (size === 32) return [lo, 0];
  if (size === 16) return [lo & 0xffff, 0];
  return [lo & 0xff, 0];
}

function writeReg(cpu: Cpu, reg: number, size: number, lo: number, hi = 0): void {
  const r = cpu.regs;
  if (size === 64) { r[2 * reg] = lo; r[2 * reg + 1] = hi; }
  else if (size === 32) { r[2 * reg] = lo; r[2 * reg + 1] = 0; } // 32-bit writes zero the upper half
  else if (size === 16) r[2 * reg] = (r[2 * reg] & 0xffff0000) | (lo & 0xffff);
  else r[2 * reg] = (r[2 * reg] & 0xffffff00) | (lo & 0xff);
}

function memoryOf(cpu: Cpu, d: DecodedInstruction, op: DecodedOperand): number {
  if (op.type !== 'mem') throw new CpuFault(UD, undefined, 'memory operand required');
  return cpu.ea(op, d);
}

function read16(cpu: Cpu, d: DecodedInstruction, op: DecodedOperand): number {
  if (op.type === 'reg') return cpu.regs[2 * op.reg] & 0xffff;
  return cpu.readLinear(memoryOf(cpu, d, op), 2, 'read') as number;
}

/** Write a 16-bit value (selectors, MSW) to r/m: registers take the operand size, zero-extended; memory takes 16 bits. */
function writeSelectorLike(cpu: Cpu, d: DecodedInstruction, op: DecodedOperand, value: number): void {
  if (op.type === 'reg') writeReg(cpu, op.reg, op.size, value, 0);
  else cpu.writeLinear(memoryOf(cpu, d, op), 2, value & 0xffff);
}

function rspValue(cpu: Cpu): number {
  const lo = cpu.regs[8], hi = cpu.regs[9];
  if (!isCanonical(lo, hi)) throw new CpuFault(SS, 0, 'RSP is not canonical');
  return toSignedLinear(lo, hi);
}

function setRsp(cpu: Cpu, v: number): void {
  cpu.regs[8] = v >>> 0;
  cpu.regs[9] = Math.floor(v / 0x100000000) >>> 0;
}

function splitLinear(n: number): [number, number] {
  return [n >>> 0, Math.floor(n / 0x100000000) >>> 0];
}

// ---------------------------------------------------------------------------

/** Execute one system instruction. RIP already points at the next instruction. */
export function executeSystem(machine: SystemHost, d: DecodedInstruction): void {
  const cpu = machine.cpu;
  const form = d.form;
  if (!form) throw new CpuFault(UD);
  const exits = cpu.cpl === 3 ? machine.directExits ?? null : null;
  if (form.cpl0 && cpu.cpl !== 0) {
    if (exits?.take(cpu, GP, 0, false)) return;
    throw gp(0, `${form.mnemonic} at CPL ${cpu.cpl}`);
  }
  if (form.io && cpu.cpl > iopl(cpu.getRflags())) {
    if (exits?.take(cpu, GP, 0, false)) return;
    throw gp(0, `${form.mnemonic} at CPL ${cpu.cpl} > IOPL`);
  }
  const ops = d.operands;
  if (machine.strictVirtualization && cpu.cpl === 3 &&
      (STRICT_SENSITIVE.has(form.mnemonic) || (form.mnemonic === 'mov' && ops[1]?.type === 'sreg'))) {
    if (exits?.take(cpu, GP, 0, false)) return;
    throw gp(0, `${form.mnemonic} at CPL 3 (strict virtualization)`);
  }
  // Under a monitor (directExits.ts) these end in an exit, whatever the guest's operands.
  if (exits !== null) {
    const m = form.mnemonic;
    if ((m === 'iretq' || m === 'iret') && exits.takeReturn(cpu)) return;
    if (m === 'int' && ops[0].type === 'imm' && exits.take(cpu, GP, idtErrorCode(ops[0].lo & 0xff), true)) return;
    if (m === 'int3' && exits.take(cpu, GP, idtErrorCode(BP), true)) return;
  }

  switch (form.mnemonic) {
    case 'hlt':
      cpu.halted = true;
      return;
    case 'cli':
      cpu.setRflags(cpu.getRflags() & ~RFLAGS_IF);
      return;
    case 'sti': {
      const f = cpu.getRflags();
      if ((f & RFLAGS_IF) === 0) {
        cpu.setRflags(f | RFLAGS_IF);
        machine.interrupts.inhibitOneInstruction(); // interrupts are recognized after the NEXT instruction
      }
      return;
    }
    case 'lgdt': case 'lidt': {
      const at = memoryOf(cpu, d, ops[0]);
      const limit = cpu.readLinear(at, 2, 'read') as number;
      const [lo, hi] = cpu.readLinear(at + 2, 8, 'read') as [number, number];
      if (!isCanonical(lo, hi)) throw gp(0, `${form.mnemonic}: base is not canonical`);
      const base = toSignedLinear(lo, hi);
      if (form.mnemonic === 'lgdt') { cpu.gdtrBase = base; cpu.gdtrLimit = limit; }
      else { cpu.idtrBase = base; cpu.idtrLimit = limit; }
      return;
    }
    case 'sgdt': case 'sidt': {
      const at = memoryOf(cpu, d, ops[0]);
      const gdt = form.mnemonic === 'sgdt';
      const [lo, hi] = splitLinear(gdt ? cpu.gdtrBase : cpu.idtrBase);
      // Check both ends first so that a fault leaves memory untouched.
      machine.mmu.translate(at, 'write', cpu.cpl);
      machine.mmu.translate(at + 9, 'write', cpu.cpl);
      cpu.writeLinear(at, 2, gdt ? cpu.gdtrLimit : cpu.idtrLimit);
      cpu.writeLinear(at + 2, 8, [lo, hi]);
      return;
    }
    case 'smsw': {
      const op = ops[0];
      if (op.type === 'reg') {
        if (op.size === 64) writeReg(cpu, op.reg, 64, cpu.cr0 >>> 0, 0);
        else writeReg(cpu, op.reg, op.size, cpu.cr0 >>> 0, 0);
      } else cpu.writeLinear(memoryOf(cpu, d, op), 2, cpu.cr0 & 0xffff);
      return;
    }
    case 'lmsw': {
      // Loads PE, MP, EM, TS; cannot clear PE.
      const v = read16(cpu, d, ops[0]);
      cpu.cr0 = ((cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE)) >>> 0;
      return;
    }
    case 'ltr': return loadTaskRegister(machine, read16(cpu, d, ops[0]));
    case 'str': return writeSelectorLike(cpu, d, ops[0], cpu.trSelector);
    case 'invlpg': {
      // The decoded-instruction cache is keyed by physical address and every
      // fetch is translated, so only the TLB needs flushing (see decodeCache.ts).
      machine.mmu.flushPage(memoryOf(cpu, d, ops[0]));
      return;
    }
    case 'in': {
      const dst = ops[0] as { reg: number; size: number };
      const port = portOf(cpu, ops[1]);
      const value = machine.ports.in(port, (dst.size / 8) as PortSize);
      writeReg(cpu, 0, dst.size, value, 0);
      ioBreakpoints(cpu, port, dst.size / 8);
      return;
    }
    case 'out': {
      const src = ops[1] as { reg: number; size: number };
      const port = portOf(cpu, ops[0]);
      machine.ports.out(port, (src.size / 8) as PortSize, readReg(cpu, 0, src.size)[0]);
      ioBreakpoints(cpu, port, src.size / 8);
      return;
    }
    case 'rdmsr': return readMsr(machine);
    case 'wrmsr': return writeMsr(machine);
    case 'swapgs': {
      const t = cpu.gsBase;
      cpu.gsBase = cpu.kernelGsBase;
      cpu.kernelGsBase = t;
      return;
    }
    case 'syscall': return fastSystemCall(machine);
    case 'sysretq': return fastSystemReturn(machine, 64);
    case 'sysretl': return fastSystemReturn(machine, 32);
    case 'iretq': return interruptReturn(machine, 8);
    case 'iret': return interruptReturn(machine, d.prefixes.opsize16 ? 2 : 4);
    case 'int': {
      // Delivered here, as part of the instruction: RIP (already past it) is what the handler's iretq returns to.
      const imm = ops[0];
      machine.interrupts.deliver(imm.type === 'imm' ? imm.lo & 0xff : 0, undefined, true);
      return;
    }
    case 'int3':
      machine.interrupts.deliver(BP, undefined, true);
      return;
    case 'int1':
      // icebp: #DB as a trap, delivered like a hardware exception (no gate DPL check), DR6 unchanged.
      machine.interrupts.deliver(DB, undefined, false);
      return;
    case 'pushf': return pushFlags(cpu, d.prefixes.opsize16 ? 2 : 8);
    case 'popf': return popFlags(cpu, d.prefixes.opsize16 ? 2 : 8);
    case 'mov': return moveSystemRegister(machine, d);
  }
  throw new CpuFault(UD, undefined, `executeSystem: ${form.mnemonic} is not a system instruction`);
}

function portOf(cpu: Cpu, op: DecodedOperand): number {
  if (op.type === 'imm') return op.lo & 0xff;
  return cpu.regs[4] & 0xffff; // DX (register 2, low half)
}

// ---------------------------------------------------------------------------
// mov to/from control and segment registers

function moveSystemRegister(machine: SystemHost, d: DecodedInstruction): void {
  const cpu = machine.cpu;
  const [dst, src] = d.operands;
  if (src.type === 'dreg' || dst.type === 'dreg') return moveDebugRegister(cpu, d);
  if (src.type === 'creg' && dst.type === 'reg') {
    let v: number;
    switch (src.reg) {
      case 0: v = cpu.cr0; break;
      case 2: v = cpu.cr2; break;
      case 3: v = cpu.cr3; break;
      case 4: v = cpu.cr4; break;
      case 8: v = 0; break; // CR8 (task priority): xk has no APIC, it reads 0
      default: throw new CpuFault(UD);
    }
    const [lo, hi] = splitLinear(v);
    writeReg(cpu, dst.reg, 64, lo, hi);
    return;
  }
  if (dst.type === 'creg' && src.type === 'reg') {
    const [lo, hi] = readReg(cpu, src.reg, 64);
    writeControlRegister(machine, dst.reg, lo, hi);
    return;
  }
  if (src.type === 'sreg') {
    writeSelectorLike(cpu, d, dst, segmentSelector(cpu, src.reg));
    return;
  }
  if (dst.type === 'sreg') {
    loadSegment(machine, dst.reg, read16(cpu, d, src));
    return;
  }
  throw new CpuFault(UD);
}

/** An in/out touched `bytes` ports from `port`: note the I/O breakpoints it fires (R/W = 10 in DR7, with CR4.DE set; a trap after the instruction). */
function ioBreakpoints(cpu: Cpu, port: number, bytes: number): void {
  const regs = cpu.debugRegisters;
  if (regs.ioMask !== 0 && (cpu.cr4 & CR4_DE) !== 0) cpu.dataHits |= regs.ioHits(port, bytes);
}

/**
 * mov to/from DR0-DR7 (SDM, MOV—Move to/from Debug Registers). CPL 0 only
 * (checked by the caller: the form is cpl0). With DR7.GD set, any access is
 * a #DB fault first (DR6.BD, GD cleared). DR4/DR5 are DR6/DR7 when CR4.DE = 0
 * and #UD when CR4.DE = 1. Writing a 1 to bits 63..32 of DR6 or DR7 is #GP(0).
 */
function moveDebugRegister(cpu: Cpu, d: DecodedInstruction): void {
  const [dst, src] = d.operands;
  const regs = cpu.debugRegisters;
  const n = src.type === 'dreg' ? src.reg : (dst as { reg: number }).reg;
  if ((regs.dr7 & DR7_GD) !== 0) {
    regs.dr6 = regs.dr6 | DR6_BD;
    regs.dr7 = regs.dr7 & ~DR7_GD;
    throw new CpuFault(DB, undefined, 'mov to or from a debug register with DR7.GD set');
  }
  if ((n === 4 || n === 5) && (cpu.cr4 & CR4_DE) !== 0) throw new CpuFault(UD, undefined, `DR${n} with CR4.DE set`);
  const which = n === 4 ? 6 : n === 5 ? 7 : n;
  if (src.type === 'dreg' && dst.type === 'reg') {
    const [lo, hi] = which < 4 ? regs.address(which) : [which === 6 ? regs.dr6 : regs.dr7, 0];
    writeReg(cpu, dst.reg, 64, lo, hi);
    return;
  }
  if (dst.type !== 'dreg' || src.type !== 'reg') throw new CpuFault(UD);
  const [lo, hi] = readReg(cpu, src.reg, 64);
  if (which < 4) regs.setAddress(which, lo, hi);
  else if (hi !== 0) throw gp(0, `DR${which} bits 63..32 must be 0`);
  else if (which === 6) regs.dr6 = lo;
  else regs.dr7 = lo;
  cpu.debugChanged();
}

function writeControlRegister(machine: SystemHost, n: number, lo: number, hi: number): void {
  const { cpu, mmu } = machine;
  switch (n) {
    case 0: {
      if (hi !== 0) throw gp(0, 'CR0 bits 63..32 are reserved');
      if ((lo & CR0_PG) !== 0 && (lo & CR0_PE) === 0) throw gp(0, 'CR0.PG without CR0.PE');
      if ((lo & (1 << 29)) !== 0 && (lo & (1 << 30)) === 0) throw gp(0, 'CR0.NW without CR0.CD');
      cpu.cr0 = lo >>> 0;
      break;
    }
    case 2: cpu.cr2 = toSignedLinear(lo, hi); return; // stores the value; non-canonical values wrap to 48 bits
    case 3:
      // A new address space: flush the TLB. Decoded instructions are keyed by
      // physical address and stay valid (decodeCache.ts), so a context switch
      // does not throw away the decoded kernel.
      if ((hi & 0xfff00000) !== 0) throw gp(0, 'CR3 bits above 51 are reserved');
      cpu.cr3 = lo + hi * 0x100000000;
      mmu.flush();
      return;
    case 4:
      if (hi !== 0 || (lo & ~CR4_SUPPORTED) !== 0) throw gp(0, 'CR4: reserved or unsupported bit');
      if ((cpu.cr0 & CR0_PG) !== 0 && (cpu.efer & EFER_LME) !== 0 && (lo & CR4_PAE) === 0) throw gp(0, 'cannot clear CR4.PAE in long mode');
      cpu.cr4 = lo >>> 0;
      break;
    case 8: return; // task priority: ignored
    default: throw new CpuFault(UD);
  }
  // CR0 and CR4 writes may change how translation works: flush the TLB and decoded code.
  mmu.flush();
  cpu.invalidateDecodeCache();
}

function segmentSelector(cpu: Cpu, reg: number): number {
  switch (reg) {
    case 0: return cpu.es;
    case 1: return cpu.cs;
    case 2: return cpu.ss;
    case 3: return cpu.ds;
    case 4: return cpu.fs;
    default: return cpu.gs;
  }
}

/**
 * mov to a segment register (SDM, MOV: protected-mode checks). In 64-bit mode
 * segment bases are 0 except FS and GS, whose base a selector load sets from
 * the descriptor (the upper 32 bits become 0; wrmsr sets the full base).
 */
export function loadSegment(machine: SystemHost, reg: number, sel: number): void {
  const { cpu, mmu } = machine;
  const rpl = sel & 3;
  if (reg === 1) throw new CpuFault(UD, undefined, 'mov to CS');
  if ((sel & 0xfffc) === 0) {
    // Null selector: allowed for DS/ES/FS/GS; for SS only at CPL < 3 with RPL = CPL.
    if (reg === 2 && (cpu.cpl === 3 || rpl !== cpu.cpl)) throw gp(0, 'null SS');
    setSegment(cpu, reg, sel);
    if (reg === 2) { machine.interrupts.inhibitOneInstruction(); cpu.movSsShadow = true; }
    return;
  }
  const desc = readGdtDescriptor(cpu, mmu, sel);
  const err = selectorErrorCode(sel);
  if (reg === 2) {
    if (rpl !== cpu.cpl || desc.dpl !== cpu.cpl || !isWritableData(desc)) throw new CpuFault(GP, err, 'bad SS selector');
    if (!desc.present) throw new CpuFault(SS, err, 'SS segment not present');
    setSegment(cpu, reg, sel);
    machine.interrupts.inhibitOneInstruction(); // mov ss blocks interrupts for one instruction
    cpu.movSsShadow = true; // and debug traps (debugExceptions.ts)
    return;
  }
  const readable = desc.codeOrData && (!isCodeSegment(desc) || (desc.type & 2) !== 0);
  if (!readable) throw new CpuFault(GP, err, 'segment is not readable');
  if (!isConforming(desc) && (rpl > desc.dpl || cpu.cpl > desc.dpl)) throw new CpuFault(GP, err, 'segment privilege');
  if (!desc.present) throw new CpuFault(NP, err, 'segment not present');
  setSegment(cpu, reg, sel);
  if (reg === 4) cpu.fsBase = desc.base;
  if (reg === 5) cpu.gsBase = desc.base;
}

function setSegment(cpu: Cpu, reg: number, sel: number): void {
  switch (reg) {
    case 0: cpu.es = sel; break;
    case 2: cpu.ss = sel; break;
    case 3: cpu.ds = sel; break;
    case 4: cpu.fs = sel; break;
    case 5: cpu.gs = sel; break;
  }
}

// ---------------------------------------------------------------------------
// ltr

function loadTaskRegister(machine: SystemHost, sel: number): void {
  const { cpu, mmu, memory } = machine;
  if ((sel & 0xfffc) === 0) throw gp(0, 'ltr with a null selector');
  const index = sel & 0xfff8;
  const err = selectorErrorCode(sel);
  if ((sel & 4) !== 0 || index + 15 > cpu.gdtrLimit) throw new CpuFault(GP, err, 'TSS selector beyond the GDT');
  const bytes = readLinearBytes(mmu, cpu.gdtrBase + index, 16, 0);
  const desc = parseTssDescriptor(bytes);
  if (desc.codeOrData || desc.type !== TYPE_TSS_AVAILABLE) throw new CpuFault(GP, err, 'not an available 64-bit TSS');
  if (!desc.present) throw new CpuFault(NP, err, 'TSS not present');
  const hi = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  if (!isCanonical(desc.base, hi)) throw new CpuFault(GP, err, 'TSS base is not canonical');
  // Mark the descriptor busy (type 9 -> 0xB), as the processor does.
  const typeByte = mmu.translate(cpu.gdtrBase + index + 5, 'write', 0);
  memory.write8(typeByte, (bytes[5] & 0xf0) | TYPE_TSS_BUSY);
  cpu.trSelector = sel;
  cpu.tssBase = desc.base64;
  cpu.tssLimit = desc.granularity ? desc.limit * 4096 + 0xfff : desc.limit;
}

// ---------------------------------------------------------------------------
// MSRs

function readMsr(machine: SystemHost): void {
  const cpu = machine.cpu;
  const ecx = cpu.regs[2];
  let v: number;
  switch (ecx) {
    case MSR_EFER: v = cpu.efer; break;
    case MSR_FS_BASE: v = cpu.fsBase; break;
    case MSR_GS_BASE: v = cpu.gsBase; break;
    case MSR_KERNEL_GS_BASE: v = cpu.kernelGsBase; break;
    default: {
      const star = readSystemCallMsr(machine, ecx);
      if (star) { writeReg(cpu, 0, 32, star[0]); writeReg(cpu, 2, 32, star[1]); return; }
      throw gp(0, `rdmsr: unknown MSR 0x${ecx.toString(16)}`);
    }
  }
  const [lo, hi] = splitLinear(v);
  writeReg(cpu, 0, 32, lo); // EDX:EAX, upper halves of RAX and RDX cleared
  writeReg(cpu, 2, 32, hi);
}

function writeMsr(machine: SystemHost): void {
  const cpu = machine.cpu;
  const ecx = cpu.regs[2];
  const lo = cpu.regs[0], hi = cpu.regs[4];
  switch (ecx) {
    case MSR_EFER: {
      const allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
      if (hi !== 0 || (lo & ~allowed) !== 0) throw gp(0, 'EFER: reserved bit');
      cpu.efer = ((lo & (EFER_SCE | EFER_LME | EFER_NXE)) | (cpu.efer & EFER_LMA)) >>> 0; // LMA is read-only
      machine.mmu.flush();
      cpu.invalidateDecodeCache();
      return;
    }
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE: {
      if (!isCanonical(lo, hi)) throw gp(0, 'segment base is not canonical');
      const v = toSignedLinear(lo, hi);
      if (ecx === MSR_FS_BASE) cpu.fsBase = v;
      else if (ecx === MSR_GS_BASE) cpu.gsBase = v;
      else cpu.kernelGsBase = v;
      return;
    }
  }
  if (writeSystemCallMsr(machine, ecx, lo, hi)) return;
  throw gp(0, `wrmsr: unknown MSR 0x${ecx.toString(16)}`);
}

// ---------------------------------------------------------------------------
// pushf / popf

function pushFlags(cpu: Cpu, size: 2 | 8): void {
  const image = cpu.getRflags() & ~(RFLAGS_VM | RFLAGS_RF); // the pushed image has VM and RF clear
  const at = rspValue(cpu) - size;
  if (size === 8) cpu.writeLinear(at, 8, [image >>> 0, 0]);
  else cpu.writeLinear(at, 2, image & 0xffff);
  setRsp(cpu, at);
}

/**
 * popf (SDM, POPF, protected mode with VM = 0): at CPL 0 every flag but
 * VM/VIF/VIP/RF may change; at CPL > 0 IOPL is kept; and IF changes only if
 * CPL <= IOPL. RF is cleared. A 16-bit popf changes only bits 15..0.
 */
function popFlags(cpu: Cpu, size: 2 | 8): void {
  const at = rspValue(cpu);
  const popped = size === 8 ? (cpu.readLinear(at, 8, 'read') as [number, number])[0] : (cpu.readLinear(at, 2, 'read') as number);
  const old = cpu.getRflags();
  let writable = RFLAGS_WRITABLE;
  if (cpu.cpl > 0) writable &= ~RFLAGS_IOPL;
  if (cpu.cpl > iopl(old)) writable &= ~RFLAGS_IF;
  if (size === 2) writable &= 0xffff;
  cpu.setRflags(((old & ~writable & ~RFLAGS_RF) | (popped & writable)) >>> 0);
  setRsp(cpu, at + size);
}

// ---------------------------------------------------------------------------
// iret

/**
 * iretq (and 32/16-bit iret) in 64-bit mode (SDM, IRET: IA-32e mode). Pops
 * RIP, CS, RFLAGS, RSP, SS — always all five in 64-bit mode — checks them,
 * then loads them. Only returns to 64-bit code segments are supported.
 */
function interruptReturn(machine: SystemHost, size: 2 | 4 | 8): void {
  const { cpu, mmu } = machine;
  const oldFlags = cpu.getRflags();
  if ((oldFlags & RFLAGS_NT) !== 0) throw gp(0, 'iret with NT = 1 (task return) in long mode');
  const sp = rspValue(cpu);
  // Read the five slots (at the current CPL) before changing anything.
  const slot = (i: number): [number, number] => {
    const at = sp + size * i;
    if (size === 8) return cpu.readLinear(at, 8, 'read') as [number, number];
    return [cpu.readLinear(at, size, 'read') as number, 0];
  };
  const [ripLo, ripHi0] = slot(0);
  const cs = slot(1)[0] & 0xffff;
  const flags = slot(2)[0];
  const [rspLo, rspHi0] = slot(3);
  const ss = slot(4)[0] & 0xffff;
  // A 32/16-bit iret zero-extends RIP and RSP.
  const ripHi = size === 8 ? ripHi0 : 0;
  const rspHi = size === 8 ? rspHi0 : 0;

  // The code segment.
  const csRpl = cs & 3;
  if ((cs & 0xfffc) === 0) throw gp(0, 'iret to a null CS');
  const csErr = selectorErrorCode(cs);
  if (csRpl < cpu.cpl) throw new CpuFault(GP, csErr, 'iret: CS.RPL < CPL');
  const code = readGdtDescriptor(cpu, mmu, cs);
  if (!isCodeSegment(code)) throw new CpuFault(GP, csErr, 'iret: CS is not a code segment');
  if (isConforming(code) ? code.dpl > csRpl : code.dpl !== csRpl) throw new CpuFault(GP, csErr, 'iret: CS.DPL does not match CS.RPL');
  if (!code.long) throw new CpuFault(GP, csErr, 'iret: xk supports returns to 64-bit code only');
  if (!code.present) throw new CpuFault(NP, csErr, 'iret: CS not present');
  const newCpl = csRpl;

  // The stack segment (always popped in 64-bit mode).
  const ssErr = selectorErrorCode(ss);
  if ((ss & 0xfffc) === 0) {
    if (newCpl === 3 || (ss & 3) !== newCpl) throw new CpuFault(GP, ssErr, 'iret: null SS returning to CPL 3');
  } else {
    if ((ss & 3) !== newCpl) throw new CpuFault(GP, ssErr, 'iret: SS.RPL differs from the new CPL');
    const stack = readGdtDescriptor(cpu, mmu, ss);
    if (!isWritableData(stack) || stack.dpl !== newCpl) throw new CpuFault(GP, ssErr, 'iret: SS is not a writable data segment at the new CPL');
    if (!stack.present) throw new CpuFault(SS, ssErr, 'iret: SS not present');
  }
  if (!isCanonical(ripLo, ripHi)) throw gp(0, 'iret: return RIP is not canonical');

  // RFLAGS: IOPL only at CPL 0, IF only at CPL <= IOPL (checked against the CPL before the return).
  let writable = RFLAGS_WRITABLE | RFLAGS_RF;
  if (cpu.cpl === 0) writable |= RFLAGS_VIF | RFLAGS_VIP;
  else writable &= ~RFLAGS_IOPL;
  if (cpu.cpl > iopl(oldFlags)) writable &= ~RFLAGS_IF;
  if (size === 2) writable &= 0xffff;
  const newFlags = ((oldFlags & ~writable) | (flags & writable)) & ~RFLAGS_VM;

  // Commit.
  cpu.rip = toSignedLinear(ripLo, ripHi);
  cpu.cs = cs;
  cpu.ss = ss;
  cpu.regs[8] = rspLo;
  cpu.regs[9] = rspHi;
  cpu.setRflags(newFlags >>> 0);
  if (newCpl > cpu.cpl) {
    // Returning outward: data segment registers the outer level may not use become null.
    for (const reg of [0, 3, 4, 5]) {
      const sel = segmentSelector(cpu, reg);
      if ((sel & 0xfffc) === 0) continue;
      let keep = false;
      try {
        const desc = readGdtDescriptor(cpu, mmu, sel);
        keep = desc.codeOrData && (isConforming(desc) || desc.dpl >= newCpl);
      } catch {
        keep = false;
      }
      if (!keep) setSegment(cpu, reg, 0);
    }
  }
  cpu.cpl = newCpl;
}
