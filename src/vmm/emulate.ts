// Emulating one sensitive instruction of the guest against the vCPU.
//
// The monitor gets here from a real #GP (or #NP) raised by an instruction the
// guest ran at real CPL 3. `emulate` performs what the instruction would have
// done at the guest's virtual CPL, on the vCPU, the virtual devices and guest
// memory, and advances RIP. An instruction that the guest's own processor
// would also refuse (hlt at virtual CPL 3...) is reflected to the guest.

import type { Decoded, DecodedOperand, MemOperand } from '../isa/decode.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_SS } from '../isa/decode.js';
import { parseSegmentDescriptor, TYPE_TSS_AVAILABLE, TYPE_TSS_BUSY } from '../machine/descriptors.js';
import { GuestException, type GuestMemory } from './guestMemory.js';
import type { ShadowPaging } from './shadowPaging.js';
import { REGISTER_FIELDS, signed, u64, type VmTrapFrame } from './trapFrame.js';
import { guestRflags, setGuestRflags } from './virtualInterrupts.js';
import type { Vcpu } from './vcpu.js';
import type { VirtualDevices } from './virtualDevices.js';

/** What an emulated instruction asks of the monitor afterwards. */
export type EmulationResult =
  | { kind: 'done' }
  | { kind: 'halt' }            // hlt at virtual CPL 0
  | { kind: 'shutdown'; status: number };

export interface EmulationContext {
  vcpu: Vcpu;
  tf: VmTrapFrame;
  mem: GuestMemory;
  shadow: ShadowPaging;
  devices: VirtualDevices;
  /** Called when the guest's translation changed (flush the real TLB, reload CR3). */
  translationChanged(): void;
}

const MSR_EFER = 0xc0000080, MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102;
/** The sensitive mnemonics the monitor emulates. */
export const EMULATED = new Set([
  'mov', 'cli', 'sti', 'hlt', 'lgdt', 'lidt', 'sgdt', 'sidt', 'ltr', 'str', 'lmsw', 'smsw', 'invlpg', 'in', 'out',
  'iretq', 'swapgs', 'rdmsr', 'wrmsr', 'pushf', 'popf',
]);

const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

function readReg(tf: VmTrapFrame, op: { reg: number; size: number; high8: boolean }): bigint {
  const v = tf[REGISTER_FIELDS[op.reg]];
  return op.high8 ? (v >> 8n) & 0xffn : v & mask(op.size);
}

function writeReg(tf: VmTrapFrame, op: { reg: number; size: number; high8: boolean }, value: bigint): void {
  const f = REGISTER_FIELDS[op.reg];
  if (op.high8) tf[f] = (tf[f] & ~0xff00n) | ((value & 0xffn) << 8n);
  else if (op.size === 32) tf[f] = value & mask(32);              // 32-bit writes zero-extend
  else if (op.size === 64) tf[f] = BigInt.asUintN(64, value);
  else tf[f] = (tf[f] & ~mask(op.size)) | (value & mask(op.size));
}

/** The effective (linear) address of a memory operand. */
export function effectiveAddress(tf: VmTrapFrame, d: Decoded, m: MemOperand, vcpu: Vcpu): number {
  let a = BigInt(m.disp);
  if (m.base === 16) a += tf.rip + BigInt(d.length);
  else if (m.base >= 0) a += tf[REGISTER_FIELDS[m.base]];
  if (m.index >= 0) a += tf[REGISTER_FIELDS[m.index]] * BigInt(m.scale);
  if (d.prefixes.addrsize32) a &= mask(32);
  const seg = d.prefixes.segment;
  if (seg === 4) a += u64(vcpu.fsBase);
  if (seg === 5) a += u64(vcpu.gsBase);
  return signed(BigInt.asUintN(64, a));
}

function readOperand(c: EmulationContext, d: Decoded, op: DecodedOperand, size: number): bigint {
  if (op.type === 'reg') return readReg(c.tf, op);
  if (op.type === 'imm') return ((BigInt(op.hi >>> 0) << 32n) | BigInt(op.lo >>> 0)) & mask(size);
  if (op.type === 'mem') {
    const b = c.mem.read(effectiveAddress(c.tf, d, op, c.vcpu), size / 8, c.vcpu.cpl);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  }
  throw new GuestException(6, undefined);
}

function writeOperand(c: EmulationContext, d: Decoded, op: DecodedOperand, size: number, value: bigint): void {
  if (op.type === 'reg') return writeReg(c.tf, { ...op, size: op.size || size }, value);
  if (op.type === 'mem') {
    const b = new Uint8Array(size / 8);
    for (let i = 0; i < b.length; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return c.mem.write(effectiveAddress(c.tf, d, op, c.vcpu), b, c.vcpu.cpl);
  }
  throw new GuestException(6, undefined);
}

function readCr(vcpu: Vcpu, n: number): number {
  switch (n) {
    case 0: return vcpu.cr0;
    case 2: return vcpu.cr2;
    case 3: return vcpu.cr3;
    case 4: return vcpu.cr4;
    default: throw new GuestException(6, undefined);
  }
}

function push64(c: EmulationContext, value: bigint): void {
  const rsp = signed(c.tf.rsp) - 8;
  c.mem.write64s(rsp, [value], c.vcpu.cpl);
  c.tf.rsp = u64(rsp);
}

function pop64(c: EmulationContext): bigint {
  const v = c.mem.read64(signed(c.tf.rsp), c.vcpu.cpl);
  c.tf.rsp = u64(signed(c.tf.rsp) + 8);
  return v;
}

/**
 * Emulate `d`, the instruction at tf.rip. Throws GuestException to reflect a
 * fault to the guest (RIP unchanged) or GuestEscape to stop the VM.
 */
export function emulate(c: EmulationContext, d: Decoded): EmulationResult {
  const { vcpu, tf } = c;
  const form = d.form;
  if (form === null || !EMULATED.has(form.mnemonic)) throw new GuestException(13, 0);
  const ops = d.operands;
  // At virtual CPL 3 the guest's processor itself would refuse the privileged ones.
  if (vcpu.cpl !== 0 && (form.cpl0 || form.io)) throw new GuestException(13, 0);
  const next = tf.rip + BigInt(d.length);
  let result: EmulationResult = { kind: 'done' };
  switch (form.mnemonic) {
    case 'cli': vcpu.vif = false; break;
    case 'sti': if (!vcpu.vif) vcpu.interruptShadow = true; vcpu.vif = true; break;
    case 'hlt': result = { kind: 'halt' }; break;
    case 'mov': {
      const [dst, src] = ops;
      if (dst.type === 'creg') {
        const v = signed(readReg(tf, { ...(src as { reg: number; high8: boolean }), size: 64 }));
        if (dst.reg === 0) vcpu.cr0 = v >>> 0;
        else if (dst.reg === 2) vcpu.cr2 = v;
        else if (dst.reg === 3) vcpu.cr3 = v;
        else if (dst.reg === 4) vcpu.cr4 = v >>> 0;
        else throw new GuestException(6, undefined);
        if (dst.reg !== 2) { c.shadow.flush(); c.translationChanged(); }
      } else if (src.type === 'creg') {
        writeReg(tf, { ...(dst as { reg: number; high8: boolean }), size: 64 }, u64(readCr(vcpu, src.reg)));
      } else if (dst.type === 'sreg') {
        const sel = Number(readOperand(c, d, src, 16) & 0xffffn);
        if (dst.reg === SEG_CS) throw new GuestException(6, undefined);
        if (dst.reg === SEG_SS) vcpu.ss = sel;
        else if (dst.reg === SEG_DS) vcpu.ds = sel;
        else if (dst.reg === SEG_ES) vcpu.es = sel;
      } else if (src.type === 'sreg') {
        const sel = [vcpu.es, vcpu.cs, vcpu.ss, vcpu.ds, 0, 0][src.reg];
        writeOperand(c, d, dst, dst.type === 'reg' ? dst.size : 16, BigInt(sel));
      } else throw new GuestException(13, 0);
      break;
    }
    case 'lgdt': case 'lidt': {
      const ea = effectiveAddress(tf, d, ops[0] as MemOperand, vcpu);
      const b = c.mem.read(ea, 10, vcpu.cpl);
      const v = new DataView(b.buffer);
      const limit = v.getUint16(0, true);
      const base = signed(v.getBigUint64(2, true));
      if (form.mnemonic === 'lgdt') { vcpu.gdtrBase = base; vcpu.gdtrLimit = limit; }
      else { vcpu.idtrBase = base; vcpu.idtrLimit = limit; }
      break;
    }
    case 'sgdt': case 'sidt': {
      const ea = effectiveAddress(tf, d, ops[0] as MemOperand, vcpu);
      const b = new Uint8Array(10);
      const v = new DataView(b.buffer);
      const gdt = form.mnemonic === 'sgdt';
      v.setUint16(0, gdt ? vcpu.gdtrLimit : vcpu.idtrLimit, true);
      v.setBigUint64(2, u64(gdt ? vcpu.gdtrBase : vcpu.idtrBase), true);
      c.mem.write(ea, b, vcpu.cpl);
      break;
    }
    case 'smsw': writeOperand(c, d, ops[0], ops[0].type === 'reg' ? ops[0].size : 16, BigInt(vcpu.cr0 & 0xffff)); break;
    case 'lmsw': {
      const v = Number(readOperand(c, d, ops[0], 16));
      vcpu.cr0 = ((vcpu.cr0 & ~0xe) | (v & 0xf) | (vcpu.cr0 & 1)) >>> 0; // PE cannot be cleared
      break;
    }
    case 'str': writeOperand(c, d, ops[0], ops[0].type === 'reg' ? ops[0].size : 16, BigInt(vcpu.tr)); break;
    case 'ltr': {
      const sel = Number(readOperand(c, d, ops[0], 16));
      const index = sel & 0xfff8;
      if (index === 0 || index + 15 > vcpu.gdtrLimit) throw new GuestException(13, index);
      const bytes = c.mem.read(vcpu.gdtrBase + index, 16, 0);
      const desc = parseSegmentDescriptor(bytes);
      if (desc.codeOrData || desc.type !== TYPE_TSS_AVAILABLE) throw new GuestException(13, index);
      if (!desc.present) throw new GuestException(11, index);
      c.mem.write(vcpu.gdtrBase + index + 5, Uint8Array.of((bytes[5] & 0xf0) | TYPE_TSS_BUSY), 0);
      const hi = new DataView(bytes.buffer).getUint32(8, true);
      vcpu.tr = sel;
      vcpu.tssBase = signed((BigInt(hi) << 32n) | BigInt(desc.base >>> 0));
      break;
    }
    case 'invlpg': {
      c.shadow.flushPage(effectiveAddress(tf, d, ops[0] as MemOperand, vcpu));
      c.translationChanged();
      break;
    }
    case 'in': case 'out': {
      const acc = (form.mnemonic === 'in' ? ops[0] : ops[1]) as { reg: number; size: number; high8: boolean };
      const portOp = form.mnemonic === 'in' ? ops[1] : ops[0];
      const port = portOp.type === 'imm' ? portOp.lo & 0xff : Number(tf.rdx & 0xffffn);
      const size = (acc.size / 8) as 1 | 2 | 4;
      if (form.mnemonic === 'in') writeReg(tf, acc, BigInt(c.devices.in(port, size) >>> 0));
      else {
        c.devices.out(port, size, Number(readReg(tf, acc)));
        if (c.devices.shutdownStatus !== undefined) result = { kind: 'shutdown', status: c.devices.shutdownStatus };
      }
      break;
    }
    case 'iretq': {
      const sp = signed(tf.rsp);
      const f = c.mem.read(sp, 40, vcpu.cpl);
      const v = new DataView(f.buffer);
      const rip = v.getBigUint64(0, true), cs = Number(v.getBigUint64(8, true) & 0xffffn);
      const rflags = v.getBigUint64(16, true), rsp = v.getBigUint64(24, true), ss = Number(v.getBigUint64(32, true) & 0xffffn);
      const newCpl = cs & 3;
      if (newCpl < vcpu.cpl || (cs & 0xfff8) === 0) throw new GuestException(13, cs & 0xfffc);
      const oldCpl = vcpu.cpl;
      setGuestRflags(tf, vcpu, rflags, oldCpl === 0);
      vcpu.cpl = newCpl;
      vcpu.cs = cs;
      vcpu.ss = ss;
      tf.rsp = rsp;
      tf.rip = rip;
      if (newCpl !== oldCpl) c.translationChanged();
      return result; // RIP is the popped one
    }
    case 'swapgs': [vcpu.gsBase, vcpu.kernelGsBase] = [vcpu.kernelGsBase, vcpu.gsBase]; break;
    case 'rdmsr': case 'wrmsr': {
      const msr = Number(tf.rcx & 0xffffffffn);
      const names: Record<number, 'efer' | 'fsBase' | 'gsBase' | 'kernelGsBase' | undefined> = {
        [MSR_EFER]: 'efer', [MSR_FS_BASE]: 'fsBase', [MSR_GS_BASE]: 'gsBase', [MSR_KERNEL_GS_BASE]: 'kernelGsBase',
      };
      const name = names[msr];
      if (name === undefined) throw new GuestException(13, 0);
      if (form.mnemonic === 'rdmsr') {
        const value = u64(vcpu[name]);
        tf.rax = value & mask(32);
        tf.rdx = value >> 32n;
      } else {
        vcpu[name] = signed(((tf.rdx & mask(32)) << 32n) | (tf.rax & mask(32)));
        if (name === 'efer') { c.shadow.flush(); c.translationChanged(); }
      }
      break;
    }
    case 'pushf': push64(c, guestRflags(tf, vcpu)); break;
    case 'popf': setGuestRflags(tf, vcpu, pop64(c), vcpu.cpl === 0); break;
    default: throw new GuestException(13, 0);
  }
  tf.rip = next;
  return result;
}
