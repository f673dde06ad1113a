// The CPU core: the architectural state of one x86-64 processor and the
// operand plumbing every instruction uses (registers, effective addresses,
// memory through the MMU, the stack). What each instruction DOES lives in the
// execute*.ts files; the fetch-decode-execute loop is runSlice() below.
//
// Registers are 64 bits wide but are never BigInt here: register i keeps its
// low 32 bits in regs[2*i] and its high 32 bits in regs[2*i+1]. A 64-bit value
// travels through the code as two uint32 numbers (lo, hi); functions that
// return one put the high half in `cpu.hi`.

import { isCanonical, toSignedLinear } from './address.js';
import { blockEntries, blockFunction, compileBlock, HOT_ENTRIES, MAX_BLOCKS, selfLoop, type Block } from './blocks.js';
import { compileJit } from './jit/translate.js';
import { jitSettings } from './jit/settings.js';
import { DebugRegisters } from './debugRegisters.js';
import { DecodeCache, type CacheEntry } from './decodeCache.js';
import { HostCallMap } from './hostCalls.js';
import type { Decoded as DecodedInstruction, DecodedOperand, MemOperand } from '../isa/decode.js';
import { BP, CpuFault, GP, SS } from './exceptions.js';
import { DF, Flags, IF, RF, TF } from './flags.js';
import type { PhysicalMemory } from './memory.js';
import type { Mmu } from './mmu.js';

const TWO_32 = 0x100000000;
/** An entry's `hits` when no block is to be made there: counting up from it never reaches a threshold. */
const NEVER = -(2 ** 30);
const SEG_SS = 2, FS = 4, GS = 5;
/** Canonical signed linear addresses lie in [-2^47, 2^47). */
const CANONICAL_LIMIT = 2 ** 47;
/** A host-call filter that lets every address through (for a hostCalls table that is a plain Map). */
const ALL_ADDRESSES = new Uint16Array(4096).fill(1);
/** Instructions a block not yet looked at by the JIT runs at most per call (its loop rounds count as runs). */
const WARM_INSTRUCTIONS = 256;
/**
 * Instructions a translated block (a JIT region) runs at most per call. A region whose loop runs
 * long inside one call is optimized by V8 on-stack (OSR), and OSR code keeps its loop values
 * boxed: V8 types the values it takes over from the interpreter frame as "anything", so the
 * register locals' loop phis stay tagged and every uint32 >= 2^31 becomes a HeapNumber. Returning
 * every so often makes the region a function V8 sees called many times, so it gets ordinary
 * optimized code (loop values typed from the Uint32Array loads at entry) and the next calls run that.
 * Measured (bench, 8 pairs): 4096 gives the fast mode in every run; 16384 still missed once.
 */
const JIT_CALL_INSTRUCTIONS = 4096;
/** Entries in the CPU's data TLB (a power of two). */
const DATA_TLB_SIZE = 64;

export type Access = 'read' | 'write' | 'execute';

export class Cpu {
  readonly memory: PhysicalMemory;
  readonly mmu: Mmu;

  // --- architectural state (names fixed by the machine contract) ---
  regs = new Uint32Array(32);
  /** Signed canonical linear address of the next instruction. */
  rip = 0;
  cs = 0; ss = 0; ds = 0; es = 0; fs = 0; gs = 0;
  cpl = 0;
  fsBase = 0; gsBase = 0; kernelGsBase = 0;
  cr0 = 0; cr2 = 0; cr3 = 0; cr4 = 0; efer = 0;
  /** The syscall MSRs (systemCall.ts): STAR as two halves, LSTAR/CSTAR signed linear, SFMASK's low half. */
  starLo = 0; starHi = 0; lstar = 0; cstar = 0; sfmask = 0;
  gdtrBase = 0; gdtrLimit = 0; idtrBase = 0; idtrLimit = 0;
  trSelector = 0; tssBase = 0; tssLimit = 0;
  halted = false;
  instructionCount = 0;
  /** Host-call gate: at these RIPs (CPL 0) the function runs instead of an instruction; it must set RIP itself. */
  hostCalls: Map<number, (cpu: Cpu) => void> = new HostCallMap();

  /** RFLAGS, with the arithmetic flags computed lazily (flags.ts). */
  readonly flags = new Flags();
  /**
   * Set when the run loop must look at the machine before the next instruction:
   * IF changed, a system instruction ran (it may have raised a device line or
   * halted), or someone asked the machine to stop. Ends the current runSlice().
   */
  interruptCheck = true;

  // --- debugging (debugRegisters.ts, debugExceptions.ts) ---
  /** DR0-DR3, DR6, DR7 of this CPU. */
  readonly debugRegisters = new DebugRegisters();
  /** An outside debugger's breakpoint registers (the gdb stub), matched by the same rules; null: none. */
  hostDebugRegisters: DebugRegisters | null = null;
  /** The outside debugger wants every instruction looked at (breakpoints or a step pending). */
  hostDebugActive = false;
  /**
   * The run loop's one test (per slice) for debugging: true while DR7 or an
   * outside debugger enables anything. With RFLAGS.TF or RF set as well, the
   * machine runs one instruction at a time through debugExceptions.ts.
   */
  debugEnabled = false;
  /** DR6 B bits of the data breakpoints the current instruction hit (own, and the outside debugger's). */
  dataHits = 0;
  /** The outside debugger's, by what the access was: an outside debugger can tell reads from writes (rwatch). */
  hostReadHits = 0;
  hostWriteHits = 0;
  /** Set by mov to SS: debug traps of the next instruction wait until after it. */
  movSsShadow = false;
  /** DR6 bits of traps that a mov to SS held back, raised after the next instruction. */
  heldDebugTraps = 0;
  /**
   * DR6 B bits of the data breakpoints that the last interrupt or exception
   * delivery hit while pushing its frame (and traps a mov to SS held back over
   * an instruction that delivered one): a #DB trap at the handler's first
   * instruction boundary (interrupts.ts, debugExceptions.ts). The outside
   * debugger's write watchpoints the frame hit, in deliveryHostHits.
   */
  deliveryHits = 0;
  deliveryHostHits = 0;
  /**
   * Set by debugInstruction while it runs one instruction: a repeated string
   * instruction then stops after an iteration that single-steps (repStep) or
   * hits a data breakpoint, with RCX/RSI/RDI describing the completed
   * iterations and RIP still at it (repInterrupted), as the hardware does.
   */
  repDebug = false;
  repStep = false;
  repInterrupted = false;

  /** Executes the privileged/system instructions (system.ts), installed by the Machine. */
  system: (d: DecodedInstruction) => void = (d) => {
    throw new CpuFault(6, undefined, `no system half installed for ${d.form?.mnemonic}`);
  };

  // --- scratch used by the instruction handlers ---
  /** High half of the last 64-bit value returned by readOp/readMem/pop. */
  hi = 0;
  /** Linear address of the last memory operand read by readOp (read-modify-write instructions write it back there). */
  addr = 0;
  /** Effective address of the last eaRaw() as 64-bit halves, before segment base and canonical checks. */
  eaLo = 0;
  eaHi = 0;
  /** Linear address of the instruction being executed (RIP is already past it while it runs). */
  instructionStart = 0;

  readonly decodeCache: DecodeCache;
  /** Run hot straight-line code as generated blocks (blocks.ts); false: one instruction at a time, as before. */
  blocksEnabled = HOT_ENTRIES > 0;
  /** Runs of an entry as a block start before its block is generated (tests use 1: every block at once). */
  blockThreshold = Math.max(HOT_ENTRIES, 1);
  /** Translate hot blocks into JavaScript with registers in locals (jit/translate.ts); false: --no-jit, XK_JIT=0. */
  jitEnabled = jitSettings.enabled;
  /** Runs of a block before the JIT tier translates it (XK_JIT_HOT). */
  jitThreshold = jitSettings.hot;
  /** Most blocks of one page one JIT translation covers (XK_JIT_REGION; 1: one block each). */
  jitRegionBlocks = jitSettings.regionBlocks;
  /** Set by a JIT region's catch: the entry of the instruction that faulted (runSlice's catch reads and clears it). */
  jitFault: CacheEntry | null = null;
  /** The linear address of the last block runBlocks ran. */
  private chainStart = 0;

  // A small data TLB in front of the MMU's: the physical page base of recently
  // read and written linear pages, direct-mapped by the low bits of the page
  // number and tagged with page number and CPL. An entry exists only after the
  // MMU allowed that access (a write entry also means the dirty bit is set). The
  // whole table is dropped when the MMU's generation (every flush and invlpg) or
  // CR0 changes; it is small because the kernel flushes on every process entry.
  // The JIT tier (jit/translate.ts) probes these four tables inline after checkDataTlb().
  readonly readTag = new Float64Array(DATA_TLB_SIZE).fill(NaN);
  readonly readFrame = new Float64Array(DATA_TLB_SIZE);
  readonly writeTag = new Float64Array(DATA_TLB_SIZE).fill(NaN);
  readonly writeFrame = new Float64Array(DATA_TLB_SIZE);
  private tlbGeneration = -1;
  private tlbCr0 = -1;
  /**
   * Bumped whenever something a JIT translation's probe caches depend on may have
   * changed (jit/pieces.ts probeCaches): the data TLB flushed or an entry replaced,
   * a data breakpoint switched, a page getting decoded code (a store to it must take
   * the slow path). A translation keeps its caches across calls only while this
   * (with the CPL) is what it was when it saved them.
   */
  probeEpoch = 0;

  constructor(memory: PhysicalMemory, mmu: Mmu) {
    this.memory = memory;
    this.mmu = mmu;
    this.decodeCache = new DecodeCache(memory.size);
    // readMem/writeMem are own properties from the start (the prototype's
    // functions, or debugChanged()'s watching wrappers), so switching a data
    // breakpoint on and off never adds or deletes a property: the object's
    // shape (V8 hidden class) stays the same and the run loop stays fast.
    this.readMem = Cpu.prototype.readMem;
    this.writeMem = Cpu.prototype.writeMem;
  }

  /** Forget the data TLB if anything it depends on changed. */
  checkDataTlb(): void {
    if (this.mmu.generation !== this.tlbGeneration || this.cr0 !== this.tlbCr0) {
      this.readTag.fill(NaN);
      this.writeTag.fill(NaN);
      this.probeEpoch++;
      this.tlbGeneration = this.mmu.generation;
      this.tlbCr0 = this.cr0;
    }
  }

  /** Physical address for a data read of a byte at `addr` (through the data TLB). */
  private translateRead(addr: number): number {
    this.checkDataTlb();
    const hit = this.dataTlbHit(addr, false);
    if (hit >= 0) return hit;
    return this.fillDataTlb(addr, 'read', this.readTag, this.readFrame);
  }

  /** Physical address for a data write of a byte at `addr` (through the data TLB). */
  private translateWrite(addr: number): number {
    this.checkDataTlb();
    const hit = this.dataTlbHit(addr, true);
    if (hit >= 0) return hit;
    return this.fillDataTlb(addr, 'write', this.writeTag, this.writeFrame);
  }

  /**
   * The physical address of linear `addr` if the data TLB holds its page for
   * reads (or for writes), else -1. Fills, walks and faults nothing; call it
   * after checkDataTlb() (rep movs/stos page runs use it: executeStrings.ts).
   */
  dataTlbHit(addr: number, write: boolean): number {
    const page = Math.floor(addr / 4096);
    const slot = page & (DATA_TLB_SIZE - 1);
    const tag = page * 4 + this.cpl;
    if (write) return this.writeTag[slot] === tag ? this.writeFrame[slot] + (addr & 0xfff) : -1;
    return this.readTag[slot] === tag ? this.readFrame[slot] + (addr & 0xfff) : -1;
  }

  /** A data TLB miss: the MMU's walk (it may fault), then the entry. */
  private fillDataTlb(addr: number, access: 'read' | 'write', tags: Float64Array, frames: Float64Array): number {
    const page = Math.floor(addr / 4096);
    const slot = page & (DATA_TLB_SIZE - 1);
    const p = this.mmu.translate(addr, access, this.cpl);
    // Another page's entry replaced: a probe cache may hold it. (An empty slot's fill takes nothing away.)
    if (!Number.isNaN(tags[slot])) this.probeEpoch++;
    tags[slot] = page * 4 + this.cpl;
    frames[slot] = p - (p & 0xfff);
    return p;
  }

  // ---------------------------------------------------------------- flags

  getRflags(): number {
    return this.flags.get() >>> 0;
  }
  setRflags(v: number): void {
    const old = this.flags.bits;
    this.flags.op = 0;
    this.flags.bits = (v | 2) >>> 0;
    if (((old ^ v) & (IF | TF | RF)) !== 0) this.interruptCheck = true;
  }
  /** +1 or -1: the direction string instructions step in (DF). */
  direction(): number {
    return (this.flags.bits & DF) !== 0 ? -1 : 1;
  }

  // ------------------------------------------------------------ debugging

  /**
   * DR7 or the outside debugger's registers changed: recompute debugEnabled,
   * and look at every data access while a data breakpoint is enabled. Then
   * readMem and writeMem are this instance's watching wrappers; otherwise they
   * are the prototype's plain functions and memory accesses carry no check.
   * Only the values of the own properties change, never the set of them.
   */
  debugChanged(): void {
    const own = this.debugRegisters, host = this.hostDebugRegisters;
    this.debugEnabled = own.enabled || this.hostDebugActive || (host !== null && host.enabled);
    const watch = own.watchesData || (host !== null && host.watchesData);
    this.interruptCheck = true;
    this.probeEpoch++; // a watching readMem/writeMem: no probe cache may hit

    const read = Cpu.prototype.readMem, write = Cpu.prototype.writeMem;
    // (Looked at, not remembered: a restored VM state has the plain functions whatever it saved.)
    if (watch === (this.readMem !== read)) return;
    if (!watch) {
      this.readMem = read;
      this.writeMem = write;
      return;
    }
    this.readMem = function (this: Cpu, addr: number, size: number, access: Access = 'read'): number {
      const v = read.call(this, addr, size, access);
      if (access !== 'execute') this.noteAccess(addr, size >>> 3, false);
      return v;
    };
    this.writeMem = function (this: Cpu, addr: number, size: number, lo: number, hi: number): void {
      write.call(this, addr, size, lo, hi);
      this.noteAccess(addr, size >>> 3, true);
    };
  }

  /** An interrupt delivery wrote its frame at linear [addr, addr + bytes): note the data breakpoints it hit. */
  noteDeliveryWrite(addr: number, bytes: number): void {
    this.deliveryHits |= this.debugRegisters.dataHits(addr, bytes, true);
    const host = this.hostDebugRegisters;
    if (host !== null) this.deliveryHostHits |= host.dataHits(addr, bytes, true);
  }

  private noteAccess(addr: number, bytes: number, write: boolean): void {
    this.dataHits |= this.debugRegisters.dataHits(addr, bytes, write);
    const host = this.hostDebugRegisters;
    if (host === null) return;
    if (write) this.hostWriteHits |= host.dataHits(addr, bytes, true);
    else this.hostReadHits |= host.dataHits(addr, bytes, false);
  }

  // ------------------------------------------------------------ registers

  getReg64(i: number): bigint {
    return (BigInt(this.regs[2 * i + 1]) << 32n) | BigInt(this.regs[2 * i]);
  }
  setReg64(i: number, v: bigint): void {
    v = BigInt.asUintN(64, v);
    this.regs[2 * i] = Number(v & 0xffffffffn);
    this.regs[2 * i + 1] = Number(v >> 32n);
  }

  /** Read a register of `size` bits (high8: ah ch dh bh). 64-bit: returns lo, high half in this.hi. */
  getReg(reg: number, size: number, high8: boolean): number {
    const lo = this.regs[2 * reg];
    switch (size) {
      case 8: return high8 ? (lo >>> 8) & 0xff : lo & 0xff;
      case 16: return lo & 0xffff;
      case 32: return lo;
      default: this.hi = this.regs[2 * reg + 1]; return lo;
    }
  }

  /** Write a register: 8/16-bit writes merge, 32-bit writes zero the upper half, 64-bit writes both. */
  setReg(reg: number, size: number, high8: boolean, lo: number, hi: number): void {
    const regs = this.regs;
    const i = 2 * reg;
    switch (size) {
      case 8:
        if (high8) regs[i] = (regs[i] & 0xffff00ff) | ((lo & 0xff) << 8);
        else regs[i] = (regs[i] & 0xffffff00) | (lo & 0xff);
        return;
      case 16: regs[i] = (regs[i] & 0xffff0000) | (lo & 0xffff); return;
      case 32: regs[i] = lo; regs[i + 1] = 0; return;
      default: regs[i] = lo; regs[i + 1] = hi;
    }
  }

  /** RSP as a signed linear number (the stack pointer must be canonical: #SS(0) otherwise). */
  private stackAddress(deltaLo: number): number {
    const regs = this.regs;
    const sum = regs[8] + deltaLo;
    const lo = sum >>> 0;
    const hi = (regs[9] + Math.floor(sum / TWO_32)) >>> 0;
    if (!isCanonical(lo, hi)) throw new CpuFault(SS, 0, 'non-canonical stack address');
    return toSignedLinear(lo, hi);
  }

  /** Add a signed amount to RSP. */
  adjustRsp(delta: number): void {
    const regs = this.regs;
    const sum = regs[8] + delta;
    regs[8] = sum >>> 0;
    regs[9] = (regs[9] + Math.floor(sum / TWO_32)) >>> 0;
  }

  /** Push `size` bits (16 or 64). The write happens before RSP changes, so a fault leaves RSP intact. */
  push(size: number, lo: number, hi: number): void {
    const bytes = size >>> 3;
    const regs = this.regs;
    const addr = (regs[9] | 0) * TWO_32 + regs[8] - bytes; // exact near the canonical range, as in ea()
    if (addr < -CANONICAL_LIMIT || addr >= CANONICAL_LIMIT) throw new CpuFault(SS, 0, 'non-canonical stack address');
    this.writeMem(addr, size, lo, hi);
    this.adjustRsp(-bytes);
  }
  push64(lo: number, hi: number): void {
    this.push(64, lo, hi);
  }
  /** Read the top of the stack without popping (value; high half in this.hi). */
  peek(size: number, offset = 0): number {
    return this.readMem(this.stackAddress(offset), size);
  }
  pop(size: number): number {
    const regs = this.regs;
    const addr = (regs[9] | 0) * TWO_32 + regs[8];
    if (addr < -CANONICAL_LIMIT || addr >= CANONICAL_LIMIT) throw new CpuFault(SS, 0, 'non-canonical stack address');
    const v = this.readMem(addr, size);
    this.adjustRsp(size >>> 3);
    return v;
  }
  pop64(): [number, number] {
    const lo = this.pop(64);
    return [lo, this.hi];
  }

  // ----------------------------------------------------- effective addresses

  /** Compute base + index*scale + disp into eaLo/eaHi (64-bit wraparound; 32-bit with an address-size prefix). */
  eaRaw(m: MemOperand, addrsize32: boolean): void {
    const regs = this.regs;
    let lo: number, hi: number;
    if (m.base === 16) {
      // RIP-relative: relative to the next instruction, which is this.rip while executing.
      const r = this.rip;
      lo = r >>> 0;
      hi = Math.floor(r / TWO_32);
    } else if (m.base >= 0) {
      lo = regs[2 * m.base];
      hi = regs[2 * m.base + 1];
    } else {
      lo = 0; hi = 0;
    }
    if (m.index >= 0) {
      lo += regs[2 * m.index] * m.scale;
      hi += regs[2 * m.index + 1] * m.scale;
    }
    lo += m.disp; // a signed number: a negative displacement borrows through the carry below
    const carry = Math.floor(lo / TWO_32);
    this.eaLo = lo >>> 0;
    this.eaHi = addrsize32 ? 0 : (hi + carry) >>> 0;
  }

  /** The signed linear address of a memory operand: segment base (fs/gs) added, canonical checked. */
  ea(m: MemOperand, d: DecodedInstruction): number {
    const seg = m.segment;
    if (m.index < 0 && seg !== FS && seg !== GS && !d.prefixes.addrsize32) {
      // The common shape, base + displacement, in one double sum. It is exact: a base
      // register that is not a canonical address is at least 2^47 away from zero, so
      // adding a 32-bit displacement (rounded or not, with or without 64-bit
      // wraparound) can only land in the canonical range when the true sum does.
      const b = m.base;
      let a: number;
      if (b === 16) a = this.rip + m.disp;
      else if (b >= 0) a = (this.regs[2 * b + 1] | 0) * TWO_32 + this.regs[2 * b] + m.disp;
      else a = m.disp;
      if (a < -CANONICAL_LIMIT || a >= CANONICAL_LIMIT) {
        throw new CpuFault(seg === SEG_SS ? SS : GP, 0, 'non-canonical address');
      }
      return a;
    }
    this.eaRaw(m, d.prefixes.addrsize32);
    let lo = this.eaLo, hi = this.eaHi;
    if (seg === FS || seg === GS) {
      const base = seg === FS ? this.fsBase : this.gsBase;
      const sum = lo + (base >>> 0);
      lo = sum >>> 0;
      hi = (hi + Math.floor(base / TWO_32) + Math.floor(sum / TWO_32)) >>> 0;
    }
    if (!isCanonical(lo, hi)) {
      // References through SS (an rsp/rbp base without override) raise #SS, all others #GP.
      throw new CpuFault(m.segment === SEG_SS ? SS : GP, 0, 'non-canonical address');
    }
    return toSignedLinear(lo, hi);
  }

  // ------------------------------------------------------------- operands

  /** Read an operand (register, memory, immediate). 64-bit values: lo returned, hi in this.hi. Memory sets this.addr. */
  readOp(op: DecodedOperand, d: DecodedInstruction): number {
    switch (op.type) {
      case 'reg': return this.getReg(op.reg, op.size, op.high8);
      case 'mem': {
        const a = this.ea(op, d);
        this.addr = a;
        return this.readMem(a, op.size);
      }
      case 'imm': this.hi = op.hi; return op.lo;
      default: throw new Error(`cpu: cannot read a ${op.type} operand in ${d.form?.mnemonic}`);
    }
  }

  /** Write an operand; memory goes to this.addr when `sameAddress` (read-modify-write), else the address is computed. */
  writeOp(op: DecodedOperand, d: DecodedInstruction, lo: number, hi: number, sameAddress: boolean): void {
    if (op.type === 'reg') this.setReg(op.reg, op.size, op.high8, lo, hi);
    else if (op.type === 'mem') this.writeMem(sameAddress ? this.addr : this.ea(op, d), op.size, lo, hi);
    else throw new Error(`cpu: cannot write a ${op.type} operand in ${d.form?.mnemonic}`);
  }

  // --------------------------------------------------------------- memory

  /** Read `size` bits at a linear address through the MMU at the current CPL (64: lo returned, hi in this.hi). */
  readMem(addr: number, size: number, access: Access = 'read'): number {
    const bytes = size >>> 3;
    if ((addr & 0xfff) + bytes <= 4096) {
      const p = access === 'read' ? this.translateRead(addr) : this.mmu.translate(addr, access, this.cpl);
      const m = this.memory;
      switch (size) {
        case 8: return m.read8(p);
        case 16: return m.read16(p);
        case 32: return m.read32(p);
        default: this.hi = m.read32(p + 4); return m.read32(p);
      }
    }
    // The access crosses a page boundary: translate both pages first, then read byte by byte.
    const first = 4096 - (addr & 0xfff);
    const p1 = this.mmu.translate(addr, access, this.cpl);
    const p2 = this.mmu.translate(addr + first, access, this.cpl);
    let lo = 0, hi = 0;
    for (let i = 0; i < bytes; i++) {
      const b = this.memory.read8(i < first ? p1 + i : p2 + i - first);
      if (i < 4) lo |= b << (8 * i);
      else hi |= b << (8 * (i - 4));
    }
    this.hi = hi >>> 0;
    return bytes === 4 || bytes === 8 ? lo >>> 0 : lo;
  }

  /** Write `size` bits at a linear address. All translation happens before any byte is stored. */
  writeMem(addr: number, size: number, lo: number, hi: number): void {
    const bytes = size >>> 3;
    const m = this.memory;
    const code = this.decodeCache.codePages;
    if ((addr & 0xfff) + bytes <= 4096) {
      const p = this.translateWrite(addr);
      if (code[p >>> 12]) this.codeWritten(p >>> 12);
      switch (size) {
        case 8: m.write8(p, lo); return;
        case 16: m.write16(p, lo); return;
        case 32: m.write32(p, lo); return;
        default: m.write32(p, lo); m.write32(p + 4, hi); return;
      }
    }
    const first = 4096 - (addr & 0xfff);
    const p1 = this.mmu.translate(addr, 'write', this.cpl);
    const p2 = this.mmu.translate(addr + first, 'write', this.cpl);
    if (code[p1 >>> 12]) this.codeWritten(p1 >>> 12);
    if (code[p2 >>> 12]) this.codeWritten(p2 >>> 12);
    for (let i = 0; i < bytes; i++) {
      const b = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      m.write8(i < first ? p1 + i : p2 + i - first, b);
    }
  }

  /**
   * A store hit physical page `n`, which holds decoded instructions: drop them,
   * and end the slice (a block running now must not run stale code after this
   * instruction; blocks.ts).
   */
  private codeWritten(n: number): void {
    this.decodeCache.invalidatePage(n);
    this.interruptCheck = true;
  }

  /** Contract helper: read 1, 2, 4 or 8 bytes (8: [lo, hi]). */
  readLinear(addr: number, size: 1 | 2 | 4 | 8, access: Access = 'read'): number | [number, number] {
    const lo = this.readMem(addr, size * 8, access);
    return size === 8 ? [lo, this.hi] : lo;
  }
  /** Contract helper: write 1, 2, 4 or 8 bytes (8: [lo, hi]). */
  writeLinear(addr: number, size: 1 | 2 | 4 | 8, value: number | [number, number]): void {
    if (typeof value === 'number') this.writeMem(addr, size * 8, value, 0);
    else this.writeMem(addr, size * 8, value[0], value[1]);
  }

  /** Forget decoded instructions: of one physical page (number = address / 4096), or all. */
  invalidateDecodeCache(physPage?: number): void {
    if (physPage === undefined) this.decodeCache.flush();
    else this.decodeCache.invalidatePage(physPage);
  }

  // ---------------------------------------------------------- control flow

  /** Jump to the 64-bit target hi:lo; #GP(0) if not canonical. */
  jumpTo64(lo: number, hi: number): void {
    if (!isCanonical(lo, hi)) throw new CpuFault(GP, 0, 'non-canonical branch target');
    this.rip = toSignedLinear(lo, hi);
  }

  // ------------------------------------------------------------- the loop

  /**
   * Execute one instruction (or one host call). Faults are thrown as CpuFault
   * with RIP rolled back to the faulting instruction; traps (int3, int n)
   * leave RIP after it. The caller (Machine) delivers them.
   */
  step(): void {
    this.runSlice(this.instructionCount + 1);
  }

  /**
   * Execute instructions until the instruction count reaches `limit`, or the
   * CPU halts, or something sets `interruptCheck` (an IF change, a system
   * instruction, a stop request): the run loop then looks at the machine
   * before the next instruction. Faults are thrown as in step().
   */
  runSlice(limit: number): void {
    const cache = this.decodeCache;
    const hostCalls = this.hostCalls;
    // Someone may have replaced the table with a plain Map: then every address is looked up, and no block runs.
    const hostMap = hostCalls instanceof HostCallMap ? hostCalls : null;
    const filter = hostMap !== null ? hostMap.filter : ALL_ADDRESSES;
    const useBlocks = this.blocksEnabled && hostMap !== null;
    let start = this.rip;
    let entry: CacheEntry | null = null;
    // The previous instruction of this slice, where it ended and its linear page:
    // when execution falls through, or branches within the page to the target it
    // took last time, its links replace the cache lookup. Nothing that could
    // change the translation of the code page (CR3, invlpg, CPL, a host call) runs
    // inside a slice without ending it or resetting `prev`.
    let prev: CacheEntry | null = null;
    let prevEnd = NaN;
    let prevPage = NaN;
    try {
      while (this.instructionCount < limit) {
        start = this.rip;
        entry = null;
        if (this.cpl === 0 && filter[start & 0xfff] !== 0 && hostCalls.size !== 0) {
          const call = hostCalls.get(start);
          if (call) {
            prev = null;
            call(this);
            if (this.interruptCheck || this.halted) return;
            continue;
          }
        }
        this.instructionStart = start;
        if (prev === null) {
          entry = cache.fetch(this, start);
        } else if (start === prevEnd) {
          entry = prev.next;
          if (entry === null) {
            entry = cache.fetch(this, start);
            if (prev.linkable && entry.cached) prev.next = entry;
          }
        } else if (start - (start & 0xfff) === prevPage && prev.cached) {
          // A branch within the page: remember the last target taken from here.
          const offset = start & 0xfff;
          if (prev.jumpOffset === offset) entry = prev.jump as CacheEntry;
          else {
            entry = cache.fetch(this, start);
            if (entry.cached) { prev.jump = entry; prev.jumpOffset = offset; }
          }
        } else {
          entry = cache.fetch(this, start);
        }
        prevPage = start - (start & 0xfff);
        if (useBlocks) {
          // The block tier (blocks.ts): the whole block runs only if it fits before the limit.
          let b: Block | null = entry.block;
          if ((b === null && ++entry.hits === this.blockThreshold) || (b !== null && b.hostVersion !== (hostMap as HostCallMap).version)) {
            b = this.makeBlock(entry, start, filter, (hostMap as HostCallMap).version);
            if (b === null) prev = null; // the decode cache was flushed
          }
          if (b !== null && this.instructionCount + b.entries.length <= limit) {
            const last = this.runBlocks(b, start, limit, prevPage, filter, (hostMap as HostCallMap).version);
            if (last === null) return;
            const i: number = last.entries.length - 1;
            prev = last.entries[i];
            prevEnd = this.chainStart + last.offsets[i] + prev.length;
            continue;
          }
        }
        prevEnd = start + entry.length;
        this.rip = prevEnd;
        entry.exec(this, entry.d);
        this.instructionCount++;
        if (this.interruptCheck || this.halted) return;
        prev = entry;
      }
    } catch (e) {
      // A fault inside a block (runBlocks): the entry of the faulting instruction, counted.
      const j = this.jitFault;
      if (j !== null) {
        this.jitFault = null;
        entry = j;
        start = this.instructionStart;
      }
      if (entry !== null && e instanceof CpuFault && isTrap(entry.d, e)) {
        this.instructionCount++;
        throw e;
      }
      this.rip = start;
      throw e;
    }
  }

  /**
   * Run block `b` at linear `start`, then the blocks its links lead to in this
   * page (`page`, the linear page of `start`), while each whole block fits
   * before `limit`. Returns the last block run (its address in chainStart), or
   * null when the slice must end (interruptCheck or a halt). A fault inside a
   * block leaves with jitFault naming the faulting instruction and the ones
   * before it counted. Its own method, so that V8 optimizes this loop apart
   * from runSlice's.
   */
  private runBlocks(b: Block, start: number, limit: number, page: number, filter: Uint16Array, version: number): Block | null {
    let block: Block | null = null;
    try {
      for (;;) {
        if (this.jitEnabled && !b.jitDone && ++b.runs >= this.jitThreshold) {
          b.jitDone = true;
          // Replaces the run of b (and of its region's blocks); if it cannot, b gets its generated function.
          if (compileJit(this, b, start, filter, this.jitRegionBlocks) === null && !b.translated) b.run = blockFunction(b.entries);
        }
        block = b;
        // A block the JIT has not looked at yet returns at least every WARM_INSTRUCTIONS, so
        // that a loop inside one block counts its rounds as runs toward the JIT's threshold; a
        // translated one every JIT_CALL_INSTRUCTIONS (so that V8 does not leave it in OSR code).
        const n: number = b.run(this, start, !this.jitEnabled ? limit
          : Math.min(limit, this.instructionCount + (b.jitDone ? JIT_CALL_INSTRUCTIONS : WARM_INSTRUCTIONS)));
        block = null;
        this.instructionCount += n;
        if (this.interruptCheck || this.halted) return null;
        const next = this.rip;
        const offset = next & 0xfff;
        let nb: Block | null = null;
        // Here the block ran to its end (it returns early only with interruptCheck set). Its two
        // links lead only to blocks of this page and host-call table (linkExit), so they need no check.
        if (next - offset === page) {
          if (b.fallOffset === offset) nb = b.fall;
          else if (b.jumpOffset === offset) nb = b.jump;
          else nb = this.linkExit(b, next, filter, version);
        }
        if (nb === null || this.instructionCount + nb.entries.length > limit) {
          this.chainStart = start;
          return b;
        }
        b = nb;
        start = next;
      }
    } catch (e) {
      if (block !== null && this.jitFault === null) {
        // The instructions before the faulting one retired; the block counted the others itself
        // before its last instruction. (A JIT region sets the count itself and names the instruction.)
        const k = block.offsets.indexOf(this.instructionStart - start);
        this.jitFault = block.entries[k];
        if (k !== block.entries.length - 1) this.instructionCount += k;
      }
      throw e;
    }
  }

  /**
   * Execution left block `b` for linear `next` in the same page (a JIT region
   * leaves from any of its blocks): if a block of the current host-call table
   * starts there, and no host call can be there at any CPL, remember it as one
   * of b's two ways out (the first free, else the second) and return it. The
   * decode cache is only looked at (nothing decoded or translated: no fault).
   */
  private linkExit(b: Block, next: number, filter: Uint16Array, version: number): Block | null {
    const offset = next & 0xfff;
    if (filter[offset] !== 0) return null;
    const nb = this.decodeCache.cachedEntry(this, next)?.block ?? null;
    if (nb === null || nb.hostVersion !== version) return null;
    if (b.fallOffset === -1) { b.fallOffset = offset; b.fall = nb; } else { b.jumpOffset = offset; b.jump = nb; }
    return nb;
  }

  /**
   * Generate the block starting with `entry` (blocks.ts) and hang it there. Null
   * when the block would be a single instruction that is no loop (the entry is then never tried
   * again), or when too many blocks exist: the decode cache is flushed instead.
   */
  private makeBlock(entry: CacheEntry, start: number, filter: Uint16Array, hostVersion: number): Block | null {
    const cache = this.decodeCache;
    if (entry.block === null && cache.blocks >= MAX_BLOCKS) {
      cache.flush();
      return null;
    }
    const entries = blockEntries(this, entry, start, filter);
    if (entries.length === 1 && !selfLoop(entries)) {
      entry.hits = NEVER; // a small integer (a double here would change the shape of every entry)
      if (entry.block !== null) { entry.block = null; cache.blocks--; }
      return null;
    }
    if (entry.block === null) cache.blocks++;
    entry.block = compileBlock(entries, hostVersion, this.jitEnabled);
    return entry.block;
  }
}

/** int3 and int n raise their vector as a trap: RIP stays after the instruction. */
export function isTrap(d: DecodedInstruction, fault: CpuFault): boolean {
  const mnemonic = d.form?.mnemonic;
  if (mnemonic === 'int3') return fault.vector === BP;
  if (mnemonic === 'int') {
    const imm = d.operands[0];
    return imm.type === 'imm' && fault.vector === (imm.lo & 0xff);
  }
  return false;
}
