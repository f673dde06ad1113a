// Interrupt and exception delivery in 64-bit mode (Intel SDM Vol. 3, 6.14),
// and the polling of device interrupt requests at instruction boundaries.
//
// Delivering vector v:
//   1. Read the 16-byte gate at IDTR.base + 16*v (beyond IDTR.limit: #GP(v*8+2+EXT)).
//      It must be an interrupt gate (type 0xE) or a trap gate (0xF), else #GP;
//      not present: #NP(v*8+2+EXT). For `int n`/`int3` the gate's DPL must be
//      >= CPL, else #GP(v*8+2); hardware interrupts and exceptions ignore DPL.
//   2. Read the gate's code segment from the GDT: a present 64-bit code segment
//      with DPL <= CPL. The handler runs at that DPL (the new CPL).
//   3. If the new CPL is lower (user -> kernel), switch stacks: RSP comes from
//      the TSS (rsp0 at offset 4), SS becomes the null selector. A gate's IST
//      index (1..7) selects TSS.ist[n] instead, always.
//   4. Align RSP down to 16 bytes, then push SS, RSP, RFLAGS, CS, RIP and, for
//      vectors 8, 10-14 and 17, the error code.
//   5. Load CS:RIP from the gate; clear TF, NT and RF; an interrupt gate also clears IF.
//   6. The pushes are data writes: a data breakpoint they touch raises #DB as a trap
//      once the delivery is done, before the handler's first instruction
//      (debugExceptions.ts); a #DB's own pushes are not checked (no endless #DB).
// Everything that can fault is checked before any state changes, so a fault
// during delivery leaves the interrupted state intact for the next attempt:
// a contributory fault while delivering a contributory exception, or any fault
// while delivering #PF, becomes a double fault (#DF); a fault while delivering
// #DF is a triple fault and the machine stops.
//
// EXT (bit 0 of the error code) is 1 when the fault happened while delivering
// an event from outside the program (an exception or a device interrupt).

import type { Cpu } from './cpu.js';
import {
  CpuFault, DB, DF, GP, NP, PF, SS, TS, idtErrorCode, isContributory, pushesErrorCode, selectorErrorCode,
} from './exceptions.js';
import { Mmu, Access } from './mmu.js';
import { PhysicalMemory } from './memory.js';
import {
  isCodeSegment, isConforming, parseGate, parseSegmentDescriptor, SegmentDescriptor,
  TSS_IST1, TSS_RSP0, TYPE_INTERRUPT_GATE, TYPE_TRAP_GATE,
} from './descriptors.js';
import { isCanonical, toSignedLinear } from './address.js';
import { Pic } from './devices/pic.js';
import { Timer } from './devices/timer.js';

/** RFLAGS bits. */
export const RFLAGS_CF = 1 << 0;
export const RFLAGS_FIXED = 1 << 1; // always 1
export const RFLAGS_TF = 1 << 8;
export const RFLAGS_IF = 1 << 9;
export const RFLAGS_DF = 1 << 10;
export const RFLAGS_IOPL = 3 << 12;
export const RFLAGS_NT = 1 << 14;
export const RFLAGS_RF = 1 << 16;
export const RFLAGS_VM = 1 << 17;
export const RFLAGS_AC = 1 << 18;
export const RFLAGS_VIF = 1 << 19;
export const RFLAGS_VIP = 1 << 20;
export const RFLAGS_ID = 1 << 21;
/** The IOPL field of an RFLAGS value. */
export const iopl = (rflags: number): number => (rflags >>> 12) & 3;

/** What interrupt delivery needs from the machine (the Machine class has all of it). */
export interface InterruptHost {
  cpu: Cpu;
  mmu: Mmu;
  memory: PhysicalMemory;
  stop(reason: 'triple-fault' | 'stopped' | string, message?: string): void;
}

const TWO_47 = 2 ** 47;

/** Read `n` bytes at a linear address through the MMU (throws #PF like any access). */
export function readLinearBytes(mmu: Mmu, linear: number, n: number, cpl: number, access: Access = 'read'): Uint8Array {
  const out = new Uint8Array(n);
  let phys = mmu.translate(linear, access, cpl);
  for (let i = 0; i < n; i++) {
    if (i > 0 && ((linear + i) & 0xfff) === 0) phys = mmu.translate(linear + i, access, cpl) - i;
    out[i] = mmu.memory.read8(phys + i);
  }
  return out;
}

/** Scratch of deliverOnce: the physical address of each slot of the frame it pushes, and the frame's words. */
const frameSlots = new Float64Array(6);
const frameWords = new Uint32Array(12);

/** The words readLinearWords read last (valid until its next call). */
const words = new Uint32Array(4);

/**
 * Read `count` 32-bit little-endian words at a linear address through the MMU,
 * with exactly readLinearBytes's translations (so the same faults and accessed
 * bits), into `words`. A descriptor or gate inside one page is one translation
 * and two or four reads: no bytes are copied on the way.
 */
function readLinearWords(mmu: Mmu, linear: number, count: 2 | 4, cpl: number): Uint32Array {
  if ((linear & 0xfff) + 4 * count > 4096) {
    const b = readLinearBytes(mmu, linear, 4 * count, cpl);
    for (let i = 0; i < count; i++) words[i] = (b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24)) >>> 0;
    return words;
  }
  const phys = mmu.translate(linear, 'read', cpl);
  for (let i = 0; i < count; i++) words[i] = mmu.memory.read32(phys + 4 * i);
  return words;
}

// The descriptors and gates parsed lately, by their raw words. A parsed
// descriptor is a function of its bytes alone, and every trap goes through the
// same few gates and segments: a delivery reads the bytes again (through the
// MMU, so a table the program changed is seen at once) and takes the parse
// from here when they are the same. The parsed objects are shared: read-only.
const PARSED = 64; // direct-mapped, by a hash of the words
const segmentWords = new Uint32Array(2 * PARSED);
const segmentParsed: (SegmentDescriptor | undefined)[] = new Array(PARSED).fill(undefined);
const gateWords = new Uint32Array(3 * PARSED);
const gateParsed: (ReturnType<typeof parseGate> | undefined)[] = new Array(PARSED).fill(undefined);
const parsedSlot = (lo: number, hi: number): number => (lo ^ (lo >>> 16) ^ hi ^ (hi >>> 8) ^ (hi >>> 16)) & (PARSED - 1);

/** The segment descriptor whose 8 bytes are the words lo, hi. */
function segmentDescriptorOf(lo: number, hi: number): SegmentDescriptor {
  const slot = parsedSlot(lo, hi);
  const known = segmentParsed[slot];
  if (known !== undefined && segmentWords[2 * slot] === lo && segmentWords[2 * slot + 1] === hi) return known;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, lo, true);
  new DataView(b.buffer).setUint32(4, hi, true);
  const d = parseSegmentDescriptor(b);
  segmentWords[2 * slot] = lo;
  segmentWords[2 * slot + 1] = hi;
  segmentParsed[slot] = d;
  return d;
}

/** The IDT gate whose first 12 bytes are the words w0, w1, w2 (the last 4 are reserved, not looked at). */
function gateOf(w0: number, w1: number, w2: number): ReturnType<typeof parseGate> {
  const slot = parsedSlot(w0 ^ w2, w1);
  const known = gateParsed[slot];
  if (known !== undefined && gateWords[3 * slot] === w0 && gateWords[3 * slot + 1] === w1 && gateWords[3 * slot + 2] === w2) return known;
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, w0, true);
  v.setUint32(4, w1, true);
  v.setUint32(8, w2, true);
  const g = parseGate(b);
  gateWords[3 * slot] = w0;
  gateWords[3 * slot + 1] = w1;
  gateWords[3 * slot + 2] = w2;
  gateParsed[slot] = g;
  return g;
}

/**
 * Read the descriptor for `sel` from the GDT as the CPU does when loading a
 * segment (supervisor access). Throws #GP(sel) beyond the GDT limit or for an
 * LDT selector (xk has no LDT).
 */
export function readGdtDescriptor(cpu: Cpu, mmu: Mmu, sel: number, extBit = 0): SegmentDescriptor {
  const index = sel & 0xfff8;
  if ((sel & 4) !== 0 || index + 7 > cpu.gdtrLimit) throw new CpuFault(GP, selectorErrorCode(sel) | extBit, 'selector beyond the GDT');
  const w = readLinearWords(mmu, cpu.gdtrBase + index, 2, 0);
  return segmentDescriptorOf(w[0], w[1]);
}

/** Is this fault class a "benign" one for double-fault purposes (SDM table 6-4)? */
function classOf(vector: number, software: boolean): 'benign' | 'contributory' | 'pf' | 'df' {
  if (software) return 'benign';
  if (vector === DF) return 'df';
  if (vector === PF) return 'pf';
  return isContributory(vector) ? 'contributory' : 'benign';
}

/** A device that does something at a moment of machine time (the timer, the disk). */
export interface ClockedDevice {
  /** Machine time of its next event (Infinity: none). */
  readonly deadline: number;
  /** Called at an instruction boundary once the clock has reached `deadline`. */
  tick(now: number): void;
}

export class InterruptController {
  readonly pic = new Pic();
  readonly timer: Timer;
  /** Devices other than the timer with timed events (the disk). */
  private readonly clocked: ClockedDevice[] = [];
  /** Instructions of time skipped while halted (the timer's clock counts them). */
  idleTicks = 0;
  /** Set by sti (and mov/pop ss): no device interrupt at the next boundary. */
  private shadow = false;
  /** Number of interrupts and exceptions delivered (statistics). */
  delivered = 0;
  /** Optional observer for tracing: called after each successful delivery. */
  onDeliver?: (vector: number, errorCode: number | undefined, software: boolean) => void;

  constructor(private readonly host: InterruptHost) {
    this.timer = new Timer(() => this.clock(), (irq) => this.pic.raise(irq));
  }

  /** The deterministic time base: retired instructions plus time skipped in hlt. */
  clock(): number {
    return this.host.cpu.instructionCount + this.idleTicks;
  }

  /** Device interrupt line `irq` (0..15) was raised. */
  raiseIrq(irq: number): void {
    this.pic.raise(irq);
    this.host.cpu.interruptCheck = true;
  }

  /** A device with timed events takes part in polling and idle time. */
  attachClocked(device: ClockedDevice): void {
    this.clocked.push(device);
  }

  /** Machine time of the next timed event of any device (the run loop slices at it). */
  nextDeadline(): number {
    let d = this.timer.deadline;
    for (const dev of this.clocked) if (dev.deadline < d) d = dev.deadline;
    return d;
  }

  /** sti with IF = 0, mov to SS: block device interrupts until after the next instruction. */
  inhibitOneInstruction(): void {
    this.shadow = true;
    this.host.cpu.interruptCheck = true; // make the run loop poll at the next boundary, which ends the shadow
  }

  /**
   * Called by the CPU at every instruction boundary (after an instruction
   * retires). Advances the timer and delivers one pending device interrupt if
   * RFLAGS.IF = 1. Returns true if an interrupt was delivered.
   */
  poll(): boolean {
    const cpu = this.host.cpu;
    const now = cpu.instructionCount + this.idleTicks;
    if (now >= this.timer.deadline) this.timer.tick(now);
    for (const dev of this.clocked) if (now >= dev.deadline) dev.tick(now);
    if (this.shadow) { this.shadow = false; return false; }
    if (this.pic.irr === 0 || (cpu.getRflags() & RFLAGS_IF) === 0) return false;
    const line = this.pic.pendingLine();
    if (line < 0) return false;
    this.deliver(this.pic.acknowledge(line), undefined, false);
    return true;
  }

  /**
   * Called by the CPU while it is halted. Skips time forward to the next timed
   * event (timer or disk) and delivers the interrupt it raises. Returns false if no interrupt can ever arrive
   * (IF = 0, or nothing pending or programmed): the machine stays halted.
   */
  idle(): boolean {
    const cpu = this.host.cpu;
    if ((cpu.getRflags() & RFLAGS_IF) === 0) return false;
    this.shadow = false;
    if (this.poll()) return true;
    const now = this.clock();
    const deadline = this.nextDeadline();
    if (deadline === Infinity) return false;
    if (deadline > now) this.idleTicks += deadline - now;
    return this.poll();
  }

  /**
   * Deliver an interrupt or exception through the IDT. A fault during
   * delivery is handled here: for exceptions and device interrupts by the
   * double/triple-fault rules; for software interrupts (`int n`, `int3`;
   * `software` = true, RIP past the instruction) the fault is delivered as a
   * fault of the int instruction, with RIP back at its start.
   */
  deliver(vector: number, errorCode: number | undefined, software: boolean): void {
    try {
      this.deliverOnce(vector, errorCode, software);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      if (software) {
        // int n / int3 failed (gate DPL, not present, stack fault...): that is a
        // fault of the instruction itself, reported at its address.
        this.host.cpu.rip = this.host.cpu.instructionStart;
        this.deliver(e.vector, e.errorCode, false);
        return;
      }
      const first = classOf(vector, false);
      const second = classOf(e.vector, false);
      if (first === 'df') {
        this.host.stop('triple-fault', `triple fault: ${e.message} while delivering a double fault`);
        return;
      }
      const escalate = (first === 'contributory' && second === 'contributory') ||
        (first === 'pf' && (second === 'contributory' || second === 'pf'));
      if (escalate) this.deliver(DF, 0, false);
      else this.deliver(e.vector, e.errorCode, false);
    }
  }

  private deliverOnce(vector: number, errorCode: number | undefined, software: boolean): void {
    const { cpu, mmu, memory } = this.host;
    const ext = software ? 0 : 1;
    const gateError = idtErrorCode(vector) | ext;

    // 1. The gate.
    if (vector * 16 + 15 > cpu.idtrLimit) throw new CpuFault(GP, gateError, `vector ${vector} is beyond the IDT limit`);
    const w = readLinearWords(mmu, cpu.idtrBase + vector * 16, 4, 0);
    const gate = gateOf(w[0], w[1], w[2]);
    if (gate.type !== TYPE_INTERRUPT_GATE && gate.type !== TYPE_TRAP_GATE) {
      throw new CpuFault(GP, gateError, `IDT entry ${vector} is not an interrupt or trap gate`);
    }
    if (software && gate.dpl < cpu.cpl) throw new CpuFault(GP, idtErrorCode(vector), `IDT gate ${vector} has DPL ${gate.dpl} < CPL ${cpu.cpl}`);
    if (!gate.present) throw new CpuFault(NP, gateError, `IDT gate ${vector} is not present`);

    // 2. The handler's code segment.
    if ((gate.selector & 0xfffc) === 0) throw new CpuFault(GP, ext, `IDT gate ${vector} has a null code selector`);
    const code = readGdtDescriptor(cpu, mmu, gate.selector, ext);
    const selError = selectorErrorCode(gate.selector) | ext;
    if (!isCodeSegment(code) || !code.long || code.dpl > cpu.cpl) {
      throw new CpuFault(GP, selError, `IDT gate ${vector}: selector 0x${gate.selector.toString(16)} is not a 64-bit code segment usable at CPL ${cpu.cpl}`);
    }
    if (!code.present) throw new CpuFault(NP, selError, 'handler code segment not present');
    const newCpl = isConforming(code) ? cpu.cpl : code.dpl;
    if (!isCanonical(gate.offsetLow, gate.offsetHigh)) throw new CpuFault(GP, ext, 'handler address is not canonical');

    // 3. The stack.
    const regs = cpu.regs;
    let rsp: number;
    const oldRspLo = regs[8], oldRspHi = regs[9];
    if (gate.ist !== 0 || newCpl < cpu.cpl) {
      const offset = gate.ist !== 0 ? TSS_IST1 + 8 * (gate.ist - 1) : TSS_RSP0 + 8 * newCpl;
      if (offset + 7 > cpu.tssLimit) throw new CpuFault(TS, selectorErrorCode(cpu.trSelector) | ext, 'TSS too small for the stack pointer');
      const w = readLinearWords(mmu, cpu.tssBase + offset, 2, 0);
      const lo = w[0], hi = w[1];
      if (!isCanonical(lo, hi)) throw new CpuFault(SS, ext, 'TSS stack pointer is not canonical');
      rsp = toSignedLinear(lo, hi);
    } else {
      if (!isCanonical(oldRspLo, oldRspHi)) throw new CpuFault(SS, ext, 'RSP is not canonical');
      rsp = toSignedLinear(oldRspLo, oldRspHi);
    }
    const withError = !software && pushesErrorCode(vector);
    const count = withError ? 6 : 5;
    const top = Math.floor(rsp / 16) * 16;
    const newRsp = top - 8 * count;
    if (newRsp < -TWO_47) throw new CpuFault(SS, ext, 'interrupt frame would leave the canonical range');
    // Translate every slot before writing any, in push order (SS first, at the top).
    const slots = frameSlots;
    for (let i = count - 1; i >= 0; i--) slots[i] = mmu.translate(newRsp + 8 * i, 'write', newCpl);

    // 4. Commit: push the frame, then load the new state.
    const rflags = cpu.getRflags();
    const frame = frameWords; // [error code], rip, cs, rflags, rsp, ss: low and high halves
    let n = 0;
    if (withError) { frame[n++] = (errorCode ?? 0) >>> 0; frame[n++] = 0; }
    frame[n++] = cpu.rip >>> 0; frame[n++] = Math.floor(cpu.rip / 0x100000000) >>> 0;
    frame[n++] = cpu.cs; frame[n++] = 0;
    frame[n++] = rflags; frame[n++] = 0;
    frame[n++] = oldRspLo; frame[n++] = oldRspHi;
    frame[n++] = cpu.ss; frame[n++] = 0;
    for (let i = 0; i < count; i++) {
      memory.write32(slots[i], frame[2 * i]);
      memory.write32(slots[i] + 4, frame[2 * i + 1]);
    }
    for (let i = 0; i < count; i++) if (i === 0 || Math.floor(slots[i] / 4096) !== Math.floor(slots[i - 1] / 4096)) this.codeWritten(slots[i]);
    // The frame's stores are data writes: a data breakpoint on them is a #DB trap at the handler's
    // first instruction (debugExceptions.ts). Not for a #DB's own frame, which would loop forever.
    if (cpu.debugEnabled && vector !== DB) cpu.noteDeliveryWrite(newRsp, 8 * count);
    if (newCpl !== cpu.cpl) cpu.ss = newCpl; // null selector, RPL = new CPL
    cpu.cs = (gate.selector & 0xfffc) | newCpl;
    cpu.cpl = newCpl;
    regs[8] = newRsp >>> 0;
    regs[9] = Math.floor(newRsp / 0x100000000) >>> 0;
    cpu.rip = toSignedLinear(gate.offsetLow, gate.offsetHigh);
    let flags = rflags & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (gate.type === TYPE_INTERRUPT_GATE) flags &= ~RFLAGS_IF;
    cpu.setRflags(flags);
    cpu.halted = false;
    this.delivered++;
    this.onDeliver?.(vector, withError ? errorCode : undefined, software);
  }

  /** The frame was written to physical memory directly: let the CPU drop decoded code there. */
  private codeWritten(phys: number): void {
    this.host.cpu.invalidateDecodeCache(Math.floor(phys / 4096));
  }
}

/**
 * Set TSS.rsp0, the stack the CPU switches to when an interrupt arrives at
 * CPL 3 (a kernel does this on every switch to a process, as xv6's switchuvm
 * does). Writes through the MMU at linear cpu.tssBase + 4, as supervisor.
 */
export function setKernelStack(host: InterruptHost, rsp0: number): void {
  const { cpu, mmu, memory } = host;
  const lo = rsp0 >>> 0;
  const hi = Math.floor(rsp0 / 0x100000000) >>> 0;
  for (let i = 0; i < 8; i++) {
    const phys = mmu.translate(cpu.tssBase + TSS_RSP0 + i, 'write', 0);
    memory.write8(phys, ((i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff));
  }
}
