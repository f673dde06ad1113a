// Running host-oracle cases (test/hostOracleCases.ts) on a "host" and on xk, and
// comparing the two. Shared by test/hostOracle.test.ts (the real host CPU) and
// test/hostOracleProfile.test.ts (a simulated host: xk with its undefined flags
// changed, standing in for a CPU of another model).
//
// While xk runs a case it tracks, instruction by instruction, which flags (and
// registers) hold a value the manuals leave UNDEFINED (src/isa/table.ts,
// flagEffect): an instruction's undefined flags are added, its defined ones
// removed. If an instruction of the snippet READS a flag that is undefined at
// that point (adc, jcc, setcc, cmovcc, lahf, rcl...), or runs after an
// instruction whose result is undefined, the rest of the case depends on the
// host's model: the case is "dependent" and is not compared at all. The
// generator avoids such sequences, so the tests assert there are none.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBytes, type Decoded } from '../src/isa/decode.js';
import { flagEffect, type FlagEffect, type Form, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from '../src/isa/table.js';
import { Machine } from '../src/machine/machine.js';
import { CpuFault } from '../src/machine/exceptions.js';
import type { Cpu } from '../src/machine/cpu.js';
import { CODE, CODE_SLOT, EPILOGUE_AT, SAVE, SAVE_RETURN, SCRATCH, SCRATCH_SIZE, batchSource, type OracleCase } from './hostOracleCases.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// dist/test -> test/oracle in the source tree
const ORACLE_DIR = path.resolve(HERE, '../../test/oracle');

/** The flags compared: the six arithmetic flags and DF. */
export const COMPARED_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF | FLAG_DF;
const FLAG_NAMES: [number, string][] = [[FLAG_CF, 'CF'], [FLAG_PF, 'PF'], [FLAG_AF, 'AF'], [FLAG_ZF, 'ZF'], [FLAG_SF, 'SF'], [FLAG_OF, 'OF'], [FLAG_DF, 'DF']];
export const flagNames = (m: number): string => FLAG_NAMES.filter(([b]) => m & b).map(([, n]) => n).join(' ') || '-';

export const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const h = (v: bigint | number) => '0x' + v.toString(16);

/** What a host reports for one case. status: 0, or the signal that stopped the snippet. */
export interface HostResult { status: number; regs: bigint[]; rflags: number; scratch: Uint8Array }

/** A host runs a batch: the assembled slots (CODE_SLOT bytes per case) and the cases' inputs. */
export type Host = (code: Uint8Array, cases: OracleCase[]) => HostResult[];

/** xk's run of one case, with what is undefined at its end. */
export interface Outcome extends HostResult {
  /** Form ids executed in the snippet (for coverage). */
  forms: number[];
  /** Flags holding an undefined value at the end. */
  undefinedFlags: number;
  /** Registers holding an undefined value at the end. */
  undefinedRegs: number[];
  /** Why the case depends on undefined values (not comparable), or null. */
  dependent: string | null;
}

/** Called after each snippet instruction: lets a simulated host change what the manuals leave undefined. */
export type Perturb = (cpu: Cpu, effect: FlagEffect, d: Decoded) => void;

/** Signals a Linux process gets for the exception vectors xk raises. */
export const SIGNAL_VECTORS: Record<number, number[]> = { 8: [0], 4: [6], 11: [13, 12, 14], 7: [13, 12, 14], 5: [3, 1] };
const VECTOR_SIGNAL: Record<number, number> = { 0: 8, 6: 4, 13: 11, 12: 11, 14: 11, 3: 5, 1: 5 };

/**
 * A machine whose address space is exactly the harness's: 4 KiB pages at
 * SCRATCH, CODE and SAVE, identity-mapped with 4-level paging, so that an
 * access the host would answer with SIGSEGV is a #PF here too.
 */
export function oracleMachine(): Machine {
  const machine = new Machine({ memoryBytes: 4 << 20 });
  const { cpu, memory } = machine;
  const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT = 0x103000;
  const present = 0x7; // P, R/W, U/S
  memory.write32(PML4, PDPT | present);
  memory.write32(PDPT, PD | present);
  memory.write32(PD + 8, PT | present); // 0x200000..0x3fffff
  for (const page of [SCRATCH, CODE, SAVE]) memory.write32(PT + ((page - 0x200000) >>> 12) * 8, page | present);
  cpu.cr3 = PML4;
  cpu.cr4 = 1 << 5; // PAE
  cpu.efer = (1 << 8) | (1 << 10); // LME, LMA
  cpu.cr0 = 0x80000001; // PG, PE
  machine.mmu.flush();
  return machine;
}

/** The count operand of a shift/rotate as it will be used (imm, CL or 1); undefined for other forms. */
function countOf(cpu: Cpu, form: Form, d: Decoded): number | undefined {
  if (!/^(shl|shr|sar|rol|ror|rcl|rcr|shld|shrd)$/.test(form.family)) return undefined;
  const last = form.operands[form.operands.length - 1];
  if (last.kind === 'cl') return cpu.regs[2] & 0xff;
  if (last.kind === 'one') return 1;
  const imm = d.operands.find((o) => o.type === 'imm');
  return imm && imm.type === 'imm' ? imm.lo & 0xff : undefined;
}

/** Load a case into `machine`: its code slot, scratch memory, registers and flags; the epilogue returns to a hlt at SAVE + 0x200. */
function prepare(machine: Machine, slot: Uint8Array, c: OracleCase): void {
  const { cpu, memory } = machine;
  machine.loadPhysical(CODE, slot);
  machine.loadPhysical(SCRATCH, c.scratch);
  memory.bytes.fill(0, SAVE, SAVE + 0x1000);
  memory.write32(SAVE_RETURN, SAVE + 0x200);
  memory.write32(SAVE_RETURN + 4, 0);
  memory.write8(SAVE + 0x200, 0xf4);
  for (let k = 0; k < 16; k++) cpu.setReg64(k, c.regs[k]);
  cpu.setRflags(c.rflags);
  cpu.rip = CODE;
  cpu.halted = false;
}

/** The registers and flags the epilogue saved, and the scratch memory. */
function saved(machine: Machine, status: number): HostResult {
  const { memory } = machine;
  const regs: bigint[] = [];
  const view = memory.view;
  for (let k = 0; k < 16; k++) regs.push(view.getBigUint64(SAVE + 8 * k, true));
  return { status, regs, rflags: view.getUint32(SAVE + 0x80, true), scratch: memory.bytes.slice(SCRATCH, SCRATCH + SCRATCH_SIZE) };
}

/**
 * Run one case on xk through the JIT: no stepping, every block built and
 * translated at its first run (thresholds 1), until the hlt after the epilogue.
 */
export function runJitted(machine: Machine, slot: Uint8Array, c: OracleCase): HostResult {
  const { cpu } = machine;
  prepare(machine, slot, c);
  cpu.jitEnabled = true; cpu.blocksEnabled = true;
  cpu.blockThreshold = 1; cpu.jitThreshold = 1;
  let status = -1;
  try {
    for (let i = 0; i < 100 && !cpu.halted; i++) {
      cpu.runSlice(cpu.instructionCount + 20000);
      cpu.interruptCheck = false;
    }
    if (cpu.halted) status = 0;
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    status = 1000 + e.vector;
  }
  return saved(machine, status);
}

/** Run one case on xk (`machine` is reused between cases), tracking undefined values. */
export function runEmulated(machine: Machine, slot: Uint8Array, c: OracleCase, perturb?: Perturb): Outcome {
  const { cpu } = machine;
  prepare(machine, slot, c);
  const forms: number[] = [];
  let status = 0;
  let undefinedFlags = 0;
  const undefinedRegs = new Set<number>();
  let undefinedResult = false;
  let dependent: string | null = null;
  for (let steps = 0; cpu.rip !== SAVE + 0x200; steps++) {
    if (steps > 20000) { status = -1; break; }
    const off = cpu.rip - CODE;
    const inSnippet = off >= 0 && off < EPILOGUE_AT;
    const d = inSnippet ? decodeBytes(slot, off) : null;
    const form = d?.form ?? null;
    let effect: FlagEffect | null = null;
    if (d && form) {
      forms.push(form.id);
      const count = countOf(cpu, form, d);
      const rcx = d.prefixes.addrsize32 ? cpu.regs[2] : cpu.regs[2] + cpu.regs[3];
      const repeatCount = d.prefixes.rep !== 0 ? rcx : undefined;
      effect = flagEffect(form, { count, repeatCount });
      // A direct jmp (the one to the epilogue ends every snippet) reads no register.
      const direct = form.family === 'jmp' && form.operands[0].kind === 'rel';
      if (dependent === null && undefinedResult && !direct) dependent = `${form.mnemonic} runs after an instruction whose result is undefined`;
      if (dependent === null && (effect.reads & undefinedFlags)) dependent = `${form.mnemonic} reads undefined ${flagNames(effect.reads & undefinedFlags)}`;
    }
    try {
      cpu.step();
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      status = 1000 + e.vector;
      break;
    }
    if (d && form && effect) {
      // bsf/bsr: ZF (defined) tells whether the source was 0.
      if (form.family === 'bsf' || form.family === 'bsr') effect = flagEffect(form, { sourceZero: (cpu.getRflags() & FLAG_ZF) !== 0 });
      undefinedFlags = (undefinedFlags & ~effect.defined) | effect.undefined;
      if (effect.resultUndefined) {
        const dst = d.operands[0];
        if (dst.type === 'reg') undefinedRegs.add(dst.reg);
        else if (dependent === null) dependent = `${form.mnemonic} leaves memory undefined`;
        undefinedResult = true;
      }
      perturb?.(cpu, effect, d);
    }
  }
  return { ...saved(machine, status), forms, undefinedFlags, undefinedRegs: [...undefinedRegs], dependent };
}

/** The differences between a host's result and xk's, split into defined and undefined parts. */
export interface Comparison {
  /** The case faulted on the host or on xk (only the fault is compared). */
  faulted: boolean;
  /** The case depends on undefined values (see Outcome.dependent): nothing compared. */
  dependent: boolean;
  /** Differences in what the manuals define: always a bug in xk. */
  defined: string[];
  /** Differences in what the manuals leave undefined: xk's profile is not this host's. */
  undefined: string[];
}

export function compare(host: HostResult, emu: Outcome): Comparison {
  const out: Comparison = { faulted: false, dependent: false, defined: [], undefined: [] };
  if (host.status !== 0 || emu.status !== 0) {
    out.faulted = true;
    const ok = host.status !== 0 && emu.status >= 1000 && (SIGNAL_VECTORS[host.status] ?? []).includes(emu.status - 1000);
    if (!ok) out.defined.push(`host: ${host.status ? 'signal ' + host.status : 'no fault'}; xk: ${emu.status >= 1000 ? 'vector ' + (emu.status - 1000) : emu.status ? 'did not finish' : 'no fault'}`);
    return out;
  }
  if (emu.dependent !== null) { out.dependent = true; return out; }
  for (let k = 0; k < 16; k++) {
    if (host.regs[k] === emu.regs[k]) continue;
    const line = `${REG_NAMES[k]}: host ${h(host.regs[k])} xk ${h(emu.regs[k])}`;
    (emu.undefinedRegs.includes(k) ? out.undefined : out.defined).push(line);
  }
  const definedMask = COMPARED_FLAGS & ~emu.undefinedFlags;
  const undefinedMask = COMPARED_FLAGS & emu.undefinedFlags;
  if ((host.rflags & definedMask) !== (emu.rflags & definedMask)) {
    out.defined.push(`rflags: host ${h(host.rflags & definedMask)} xk ${h(emu.rflags & definedMask)} (defined: ${flagNames(definedMask)})`);
  }
  if ((host.rflags & undefinedMask) !== (emu.rflags & undefinedMask)) {
    out.undefined.push(`undefined ${flagNames((host.rflags ^ emu.rflags) & undefinedMask)}: host ${h(host.rflags & undefinedMask)} xk ${h(emu.rflags & undefinedMask)}`);
  }
  for (let b = 0; b < SCRATCH_SIZE; b++) {
    if (host.scratch[b] !== emu.scratch[b]) { out.defined.push(`memory ${h(SCRATCH + b)}: host ${h(host.scratch[b])} xk ${h(emu.scratch[b])}`); break; }
  }
  return out;
}

export function describeCase(c: OracleCase, label: string): string {
  return `${label}:\n  ${c.text}\n  inputs: ${c.regs.map((v, k) => `${REG_NAMES[k]}=${h(v)}`).join(' ')} rflags=${h(c.rflags)}`;
}

/** Assemble a batch with GNU as: one CODE_SLOT-byte slot per case. */
export function assembleBatch(dir: string, cases: OracleCase[]): Uint8Array {
  const src = path.join(dir, 'batch.s');
  fs.writeFileSync(src, batchSource(cases));
  execFileSync('as', ['-o', path.join(dir, 'batch.o'), src]);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', path.join(dir, 'batch.o'), path.join(dir, 'code.bin')]);
  const code = new Uint8Array(fs.readFileSync(path.join(dir, 'code.bin')));
  if (code.length !== cases.length * CODE_SLOT) throw new Error(`assembled batch is ${code.length} bytes, expected ${cases.length * CODE_SLOT}`);
  return code;
}

/** The real host CPU: the gcc-built harness (test/oracle/harness.c + runCase.S), built in `dir`. */
export function nativeHost(dir: string): Host {
  const harness = path.join(dir, 'harness');
  execFileSync('gcc', ['-O1', '-o', harness, path.join(ORACLE_DIR, 'harness.c'), path.join(ORACLE_DIR, 'runCase.S'), '-I', ORACLE_DIR]);
  return (code, cases) => {
    const n = cases.length;
    const record = 17 * 8 + SCRATCH_SIZE;
    const input = new Uint8Array(n * record);
    const iv = new DataView(input.buffer);
    cases.forEach((c, i) => {
      for (let k = 0; k < 16; k++) iv.setBigUint64(i * record + 8 * k, c.regs[k], true);
      iv.setBigUint64(i * record + 128, BigInt(c.rflags), true);
      input.set(c.scratch, i * record + 136);
    });
    fs.writeFileSync(path.join(dir, 'code.bin'), code);
    fs.writeFileSync(path.join(dir, 'cases.bin'), input);
    const out = execFileSync(harness, [path.join(dir, 'code.bin'), path.join(dir, 'cases.bin')], { maxBuffer: 1 << 30 });
    const outRecord = 8 + record;
    if (out.length !== n * outRecord) throw new Error(`harness wrote ${out.length} bytes for ${n} cases`);
    const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const results: HostResult[] = [];
    for (let i = 0; i < n; i++) {
      const base = i * outRecord;
      const regs: bigint[] = [];
      for (let k = 0; k < 16; k++) regs.push(ov.getBigUint64(base + 8 + 8 * k, true));
      results.push({
        status: Number(ov.getBigUint64(base, true)), regs,
        rflags: Number(ov.getBigUint64(base + 8 + 128, true)),
        scratch: new Uint8Array(out.subarray(base + 8 + 136, base + 8 + 136 + SCRATCH_SIZE)),
      });
    }
    return results;
  };
}

/** A host simulated by xk itself, with `perturb` applied after every snippet instruction (another CPU model). */
export function simulatedHost(perturb?: Perturb): Host {
  const machine = oracleMachine();
  return (code, cases) => cases.map((c, i) => {
    const r = runEmulated(machine, code.subarray(i * CODE_SLOT, (i + 1) * CODE_SLOT), c, perturb);
    const status = r.status === 0 ? 0 : r.status >= 1000 ? (VECTOR_SIGNAL[r.status - 1000] ?? 99) : 99;
    return { status, regs: r.regs, rflags: r.rflags, scratch: r.scratch };
  });
}

/** Totals of one oracle run. */
export interface OracleReport {
  cases: number;
  compared: number;
  faulted: number;
  dependent: string[];
  covered: Set<number>;
  /** Cases whose DEFINED results differ (descriptions). */
  definedMismatches: string[];
  /** Cases whose UNDEFINED results differ (descriptions). */
  undefinedMismatches: string[];
}

/** Run `batches` of cases on `host` and on xk and compare. */
export function runOracle(dir: string, host: Host, batches: OracleCase[][]): OracleReport {
  const machine = oracleMachine();
  const report: OracleReport = { cases: 0, compared: 0, faulted: 0, dependent: [], covered: new Set(), definedMismatches: [], undefinedMismatches: [] };
  for (const cases of batches) {
    const code = assembleBatch(dir, cases);
    const results = host(code, cases);
    cases.forEach((c, i) => {
      const emu = runEmulated(machine, code.subarray(i * CODE_SLOT, (i + 1) * CODE_SLOT), c);
      for (const id of emu.forms) report.covered.add(id);
      const cmp = compare(results[i], emu);
      const label = describeCase(c, `case ${report.cases}`);
      report.cases++;
      if (cmp.faulted) report.faulted++;
      else if (cmp.dependent) report.dependent.push(`${label}\n  ${emu.dependent}`);
      else report.compared++;
      if (cmp.defined.length) report.definedMismatches.push(`${label}\n  ${cmp.defined.join('\n  ')}`);
      if (cmp.undefined.length) report.undefinedMismatches.push(`${label}\n  ${cmp.undefined.join('\n  ')}`);
    });
  }
  return report;
}
