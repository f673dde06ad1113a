// The lecture's VM path as trace events (`xk vm IMAGE --trace`, and `xk trace`
// of a program that runs a VM under the xk kernel).
//
// The monitor reports what it does (monitor.ts VmEvent: exit, emulate,
// deliver, resume); this file turns that stream into the kernel's trace events
// (src/kernel/traceEvents.ts), so that `xk trace`'s renderers (src/trace) show
// a guest application's system call in the same shape as a native one:
//
//   guest   int $64 at 0x40000104 (guest app, virtual CPL 3)              'int'
//   cpu     trap to the host: IDT[13] ... real CPL 3 -> 0                  'gate'
//   vmm     the host's trap handler: the source was inside a VM           'trap'
//   vmm     emulate int $64 on the guest's processor                      'emulate'
//   vmm     deliver vector 64 through the guest's IDT: saved rip/rsp ...  'deliver'
//   guest   guest system call N: the guest kernel's handler runs           'syscall'
//   vmm     (each exit on the way: what the monitor emulated)              'vm-exit'
//   guest   iretq at ... after K guest instructions in the handler        'guest-iretq'
//   cpu     trap to the host ...                                          'gate'
//   vmm     ... source inside a VM                                        'trap'
//   vmm     emulate iretq: restores rip/rsp, virtual CPL 0 -> 3            'emulate'
//   guest   back in the guest app at ..., rax = ...                       'user'
//
// An episode (src/trace/episodes.ts) starts at 'int' or 'interrupted' and ends
// at 'user', as a native system call's does. Everything the guest kernel does
// outside a guest application's trip (booting, its own timer interrupts) is a
// loose 'vm-exit' event (shown with --all). The tracer reads guest memory only
// through a side-effect-free page walk: a traced run is the same run.

import { decodeBytes } from '../isa/decode.js';
import { formatInstruction } from '../toolchain/disassembler/index.js';
import { walkPageTables, EFER_NXE } from '../machine/mmu.js';
import { hex, type TraceEvent, type TraceSink } from '../kernel/traceEvents.js';
import type { VmEvent, VmEventListener, VmState } from './monitor.js';

/** Which host runs the VM: xk vm's VmHost (the guest's traps reach it through the monitor's IDT) or the xk kernel. */
export type VmTraceHost = 'vmhost' | 'kernel';

export interface VmTraceOptions {
  host: VmTraceHost;
  /** The clock the events are stamped with (xk vm: the guest's virtual clock; xk trace: the machine's count). */
  count: (vm: VmState) => number;
  /** The guest's own clock (its retired instructions), for the instructions its handler ran. */
  guestClock: (vm: VmState) => number;
  /** The process the VM is (xk trace: the VM's pid; xk vm: 1). */
  pid: (vm: VmState) => number;
}

const T_SYSCALL = 64;
const TRAP_NAMES: Record<number, string> = { 3: '#BP', 6: '#UD', 8: '#DF', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 32: 'timer IRQ' };
const trapName = (n: number): string => TRAP_NAMES[n] ?? `vector ${n}`;

/** One VM's trip in progress. */
interface Trip {
  /** The guest application left at this guest clock; the handler started at `handlerStart`. */
  handlerStart: number;
  /** Exits the monitor took while the guest kernel ran the handler. */
  nested: number;
  /** The last exit, not yet described (it is, once the monitor emulates or resumes). */
  exit: Extract<VmEvent, { kind: 'exit' }> | null;
  /** The trip's own exits (the one that began it, the iretq): described in full, the others in one line. */
  main: Extract<VmEvent, { kind: 'exit' }> | null;
  /** The handler line was written (the trip went into the guest kernel). */
  inKernel: boolean;
  /**
   * The emulated instruction entered the guest kernel by itself (int n, syscall): the monitor
   * reports a delivery only for exceptions, so the trace describes this one, unless a deliver
   * event follows (the int's own delivery faulted).
   */
  entered: { vector: number | undefined; rip: bigint; rsp: bigint | undefined } | null;
  /** The guest application's rax when it left (a system call's number, in most guest ABIs). */
  rax?: bigint;
}

interface VmTrack {
  /** The process the VM is (taken at its first event). */
  pid: number;
  trip: Trip | null;
  /** The exit being handled outside a trip (the guest kernel's own exits). */
  exit: Extract<VmEvent, { kind: 'exit' }> | null;
  /** Exits, by reason. */
  exits: Map<string, number>;
  exitsTotal: number;
  /** Guest system calls delivered, and the iretqs that returned to the guest application. */
  syscalls: number;
}

export class VmPathTracer {
  private readonly tracks = new Map<VmState, VmTrack>();
  readonly listener: VmEventListener = (e, vm) => this.event(e, vm);

  constructor(private readonly sink: TraceSink, private readonly options: VmTraceOptions) {}

  /** The VMs seen so far, with their exits by reason (a reason: the instruction emulated, or what the exit was). */
  summaries(): Array<{ pid: number; exits: number; byReason: Map<string, number>; syscalls: number }> {
    return [...this.tracks.values()].map((t) => ({ pid: t.pid, exits: t.exitsTotal, byReason: t.exits, syscalls: t.syscalls }));
  }

  /**
   * The VM stopped (`message`: why). A trip in progress ends here (the guest powered off in a
   * system call, say): its episode closes with a 'vm-stop' step. `vm` may be given by pid.
   */
  stopped(vm: VmState | number, message: string): void {
    const state = typeof vm === 'number' ? [...this.tracks].find(([, t]) => t.pid === vm)?.[0] : vm;
    const t = state === undefined ? undefined : this.tracks.get(state);
    if (state === undefined || t === undefined) return;
    this.flushPending(state, t);
    if (t.trip !== null) {
      this.emit(state, 'vmm', 'vm-stop', `the VM stopped in the ${state.vcpu.cpl === 3 ? 'guest app' : 'guest kernel'}: ${message}`);
      t.trip = null;
    }
  }

  private track(vm: VmState): VmTrack {
    let t = this.tracks.get(vm);
    if (!t) {
      t = { pid: this.options.pid(vm), trip: null, exit: null, exits: new Map(), exitsTotal: 0, syscalls: 0 };
      this.tracks.set(vm, t);
    }
    return t;
  }

  private emit(vm: VmState, layer: TraceEvent['layer'], step: string, text: string, args?: Record<string, string | number>): void {
    this.sink({ count: this.options.count(vm), pid: this.track(vm).pid, layer, step, text, args });
  }

  private countExit(t: VmTrack, reason: string): void {
    t.exits.set(reason, (t.exits.get(reason) ?? 0) + 1);
  }

  private event(e: VmEvent, vm: VmState): void {
    const t = this.track(vm);
    const entered = t.trip?.entered;
    if (t.trip && entered) {
      t.trip.entered = null;
      if (e.kind !== 'deliver' || e.external) {
        this.onDeliver({ kind: 'deliver', vector: entered.vector ?? -1, rip: entered.rip, cpl: 0, external: false, fromCpl: 3, rsp: entered.rsp }, vm, t);
      }
    }
    switch (e.kind) {
      case 'exit': return this.onExit(e, vm, t);
      case 'emulate': return this.onEmulate(e, vm, t);
      case 'deliver': return this.onDeliver(e, vm, t);
      case 'resume': return this.onResume(e, vm, t);
    }
  }

  private onExit(e: Extract<VmEvent, { kind: 'exit' }>, vm: VmState, t: VmTrack): void {
    t.exitsTotal++;
    const code = instructionAt(vm, e.rip);
    if (t.trip === null && e.cpl === 3) {
      // The guest application leaves the real CPU: a trip begins.
      t.trip = { handlerStart: this.options.guestClock(vm), nested: 0, exit: e, main: e, inKernel: false, entered: null, rax: e.rax };
      const regs = `rax = ${e.rax ?? '?'}, rsp = ${e.rsp === undefined ? '?' : hex(e.rsp)}`;
      if (code?.text.startsWith('int ') && !code.text.startsWith('int3')) {
        this.emit(vm, 'guest', 'int', `guest app: ${code.text} at ${hex(e.rip)} (virtual CPL 3; ${regs})`, { rip: hex(e.rip), rsp: e.rsp === undefined ? '' : hex(e.rsp), rax: Number(e.rax ?? -1n) });
      } else {
        this.emit(vm, 'guest', 'interrupted', `guest app at ${hex(e.rip)}${code ? ` (${code.text})` : ''} leaves the CPU (virtual CPL 3; ${regs})`, { rip: hex(e.rip) });
      }
      this.hostSide(e, vm);
      return;
    }
    if (t.trip !== null && t.trip.inKernel && e.cpl === 0 && code?.text === 'iretq') {
      // The guest kernel returns: the slide's second trap.
      const ran = this.options.guestClock(vm) - t.trip.handlerStart;
      this.emit(vm, 'guest', 'guest-iretq', `guest kernel: iretq at ${hex(e.rip)}, after ${ran} guest instructions in the handler (${t.trip.nested} exit${t.trip.nested === 1 ? '' : 's'} on the way)`, {
        rip: hex(e.rip), instructions: ran, exits: t.trip.nested,
      });
      t.trip.exit = e;
      t.trip.main = e;
      this.hostSide(e, vm);
      return;
    }
    if (t.trip !== null) {
      t.trip.nested++;
      t.trip.exit = e;
    } else {
      t.exit = e;
    }
  }

  /** The real CPU's trap into the host, and the host finding that it came from the VM. */
  private hostSide(e: Extract<VmEvent, { kind: 'exit' }>, vm: VmState): void {
    const err = e.err !== 0 ? `, error ${hex(e.err)}` : '';
    let why = '';
    if (this.options.host === 'vmhost' && e.trapno === 13 && (e.err & 2) !== 0) why = ` (the guest's int $${e.err >> 3} met the monitor's DPL 0 gate IDT[${e.err >> 3}])`;
    else if (this.options.host === 'vmhost' && e.trapno === 13) why = ' (the real CPU refuses the instruction at real CPL 3)';
    else if (e.trapno === T_SYSCALL) why = ' (the host kernel\'s DPL 3 system-call gate)';
    const idt = this.options.host === 'vmhost' ? 'the monitor\'s IDT' : 'the host kernel\'s IDT';
    this.emit(vm, 'cpu', 'gate', `trap to the host: ${idt}[${e.trapno}] ${trapName(e.trapno)}${err}${why}: real CPL 3 -> 0, %rsp = the host's TSS.rsp0; push ss, rsp, rflags, cs, rip`, {
      vector: e.trapno, err: e.err,
    });
    const who = this.options.host === 'vmhost'
      ? 'the monitor\'s trap handler (VmHost.onTrap): the frame\'s CS has RPL 3, the VM\'s segment: the source was inside the VM'
      : `trap(): trapno ${e.trapno} from pid ${this.track(vm).pid}, a VM process: the source was inside a VM -> the monitor (handleTrap)`;
    this.emit(vm, 'vmm', 'trap', who, { trapno: e.trapno });
  }

  private onEmulate(e: Extract<VmEvent, { kind: 'emulate' }>, vm: VmState, t: VmTrack): void {
    const code = instructionAt(vm, e.rip);
    const text = code?.text ?? e.mnemonic;
    const cpl = e.cpl !== e.nextCpl ? `virtual CPL ${e.cpl} -> ${e.nextCpl}` : `virtual CPL ${e.cpl}`;
    const exit = t.trip?.exit ?? t.exit;
    this.countExit(t, e.mnemonic);
    if (t.trip !== null && exit !== null && exit === t.trip.main) {
      // The trip's own trap: the int (or whatever the app did), or the iretq.
      let how = '';
      if (e.mnemonic === 'iretq') how = `: pop rip ${hex(e.nextRip)}, cs, rflags, rsp ${e.nextRsp === undefined ? '?' : hex(e.nextRsp)}, ss from the guest kernel stack at ${e.rsp === undefined ? '?' : hex(e.rsp)}`;
      this.emit(vm, 'vmm', 'emulate', `monitor: emulate ${text} at ${hex(e.rip)} on the guest's processor${how}; ${cpl}`, {
        rip: hex(e.rip), next: hex(e.nextRip), nextRsp: e.nextRsp === undefined ? '' : hex(e.nextRsp), cpl: e.cpl, nextCpl: e.nextCpl, mnemonic: e.mnemonic,
      });
      t.trip.exit = null;
      t.trip.main = null;
      if (e.cpl === 3 && e.nextCpl === 0 && !t.trip.inKernel) t.trip.entered = { vector: softwareVector(text), rip: e.nextRip, rsp: e.nextRsp };
      return;
    }
    const where = e.cpl === 3 ? 'guest app' : 'guest kernel';
    const trap = exit !== null ? `${trapName(exit.trapno)} ` : '';
    this.emit(vm, 'vmm', 'vm-exit', `exit: ${where} ${trap}at ${hex(e.rip)}: monitor emulates ${text}${exit ? portDetail(text, exit) : ''} (${cpl}, next ${hex(e.nextRip)})`, { rip: hex(e.rip), mnemonic: e.mnemonic });
    if (t.trip !== null) t.trip.exit = null;
    t.exit = null;
  }

  private onDeliver(e: Extract<VmEvent, { kind: 'deliver' }>, vm: VmState, t: VmTrack): void {
    this.flushPending(vm, t);
    const from = e.fromCpl ?? e.cpl;
    if (e.external && t.trip === null && from === 3) {
      // A virtual interrupt injected at an instruction boundary (no exit): the guest app is interrupted.
      const interrupted = pushedFrame(vm, e.rsp, false);
      t.trip = { handlerStart: this.options.guestClock(vm), nested: 0, exit: null, main: null, inKernel: false, entered: null };
      this.emit(vm, 'guest', 'interrupted', `guest app interrupted at ${interrupted ? hex(interrupted.rip) : '?'}: virtual interrupt (vector ${e.vector}) due at this instruction boundary`, { rip: interrupted ? hex(interrupted.rip) : '' });
    }
    const frame = pushedFrame(vm, e.rsp, hasErrorCode(e.vector, e.external));
    const gate = idtGate(vm, e.vector);
    let stack = '';
    if (from === 3 && e.cpl === 0) {
      const rsp0 = readU64(vm, vm.vcpu.tssBase + 4);
      stack = `%rsp = the guest TSS.rsp0 ${rsp0 === undefined ? '?' : hex(rsp0)} (TSS at ${hex(vm.vcpu.tssBase)}); `;
    }
    const saved = frame ? `pushed the ${from === 3 ? 'guest app\'s' : 'guest kernel\'s'} rip ${hex(frame.rip)}, rsp ${hex(frame.rsp)} (and ss, rflags, cs${frame.err !== undefined ? ', error code' : ''}) at ${hex(e.rsp ?? 0n)}; ` : '';
    const text = e.vector < 0
      ? `monitor: the emulated instruction entered the guest kernel by itself (no IDT): virtual CPL ${from} -> ${e.cpl}; rip = ${hex(e.rip)}, rsp = ${hex(e.rsp ?? 0n)}`
      : `monitor: deliver ${e.external ? 'virtual interrupt' : 'vector'} ${e.vector} as the hardware would: ${stack}${saved}virtual CPL ${from} -> ${e.cpl}; rip = the guest IDT[${e.vector}] handler ${hex(e.rip)}${gate !== undefined && gate !== e.rip ? ` (gate says ${hex(gate)})` : ''} (IDT at ${hex(vm.vcpu.idtrBase)})`;
    if (t.trip !== null && !t.trip.inKernel && e.cpl === 0) {
      this.emit(vm, 'vmm', 'deliver', text, {
        vector: e.vector, handler: hex(e.rip), rsp: hex(e.rsp ?? 0n), savedRip: frame ? hex(frame.rip) : '', savedRsp: frame ? hex(frame.rsp) : '',
        rsp0: from === 3 && e.cpl === 0 ? hex(readU64(vm, vm.vcpu.tssBase + 4) ?? 0n) : '',
      });
      t.trip.inKernel = true;
      t.trip.handlerStart = this.options.guestClock(vm);
      if (e.vector === T_SYSCALL && !e.external) {
        t.syscalls++;
        const rax = t.trip.rax;
        this.emit(vm, 'guest', 'syscall', `guest system call${rax !== undefined ? ` ${rax}` : ''}: the guest kernel's handler at ${hex(e.rip)}`, { vector: e.vector, handler: hex(e.rip) });
      } else {
        this.emit(vm, 'guest', 'handler', `guest kernel: its handler for vector ${e.vector} runs at ${hex(e.rip)}`, { vector: e.vector, handler: hex(e.rip) });
      }
      return;
    }
    this.emit(vm, 'vmm', 'vm-deliver', text, { vector: e.vector, handler: hex(e.rip) });
  }

  /** An exit the monitor handled without running an instruction for the guest (a shadow fill, a host interrupt). */
  private flushPending(vm: VmState, t: VmTrack): void {
    const pending = t.trip?.exit ?? t.exit;
    if (pending === null) return;
    const reason = pending.trapno === 14 ? 'shadow-fill' : pending.trapno >= 32 && pending.trapno < 48 ? `host-interrupt-${pending.trapno}` : `trap-${pending.trapno}`;
    this.countExit(t, reason);
    const what = pending.trapno === 14 ? 'the monitor fills a shadow page-table entry (invisible to the guest)'
      : pending.trapno >= 32 && pending.trapno < 48 ? 'a host device interrupt: the host\'s, handled by the host kernel' : 'handled by the monitor';
    const where = pending.cpl === 3 ? 'guest app' : 'guest kernel';
    this.emit(vm, 'vmm', 'vm-exit', `exit: ${where} ${trapName(pending.trapno)} at ${hex(pending.rip)}: ${what}`, { rip: hex(pending.rip), trapno: pending.trapno });
    if (t.trip) { t.trip.exit = null; t.trip.main = null; }
    t.exit = null;
  }

  private onResume(e: Extract<VmEvent, { kind: 'resume' }>, vm: VmState, t: VmTrack): void {
    this.flushPending(vm, t);
    if (t.trip !== null && e.cpl === 3) {
      this.emit(vm, 'guest', 'user', `back in the guest app at ${hex(e.rip)}, rax = ${e.rax === undefined ? '?' : BigInt.asIntN(64, e.rax)}, rsp = ${e.rsp === undefined ? '?' : hex(e.rsp)} (virtual CPL 3)`, {
        rip: hex(e.rip), rax: e.rax === undefined ? '' : Number(BigInt.asIntN(64, e.rax)),
      });
      t.trip = null;
    }
  }
}

/** For in/out with the port in %dx: which port (and, for out %al, the byte written), from the registers at the exit. */
function portDetail(text: string, exit: Extract<VmEvent, { kind: 'exit' }>): string {
  if (exit.rdx === undefined || !/^(in|out)[bwl]? .*\(%dx\)/.test(text)) return '';
  const port = Number(exit.rdx & 0xffffn);
  if (text.startsWith('out') && text.includes('%al') && exit.rax !== undefined) {
    const b = Number(exit.rax & 0xffn);
    const ch = b >= 0x20 && b < 0x7f ? ` '${String.fromCharCode(b)}'` : '';
    return `: port ${hex(port)} <- ${hex(b)}${ch}`;
  }
  return `: port ${hex(port)}`;
}

/** The vector of a software interrupt instruction (int $n, int3, into); undefined for syscall and others. */
function softwareVector(text: string): number | undefined {
  const m = /^int \$(0x[0-9a-f]+|\d+)$/.exec(text);
  if (m) return Number(m[1]);
  return text === 'int3' ? 3 : text === 'into' ? 4 : undefined;
}

/** Exceptions that push an error code (an external interrupt never does). */
function hasErrorCode(vector: number, external: boolean): boolean {
  return !external && [8, 10, 11, 12, 13, 14, 17, 21].includes(vector);
}

/** Guest-physical address of guest-linear `linear` in the guest's current address space, read without side effects. */
function guestPhysical(vm: VmState, linear: number): number | undefined {
  const { vcpu, shadow } = vm;
  if (!vcpu.paging) return linear >= 0 && linear < shadow.guestBytes ? linear : undefined;
  try {
    const walk = walkPageTables(shadow.guest, vcpu.cr3, (vcpu.efer & EFER_NXE) !== 0, linear);
    return walk.ok && walk.phys < shadow.guestBytes ? walk.phys : undefined;
  } catch {
    return undefined;
  }
}

function readBytes(vm: VmState, linear: number, n: number): Uint8Array | undefined {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = guestPhysical(vm, linear + i);
    if (p === undefined) return i === 0 ? undefined : out.subarray(0, i);
    out[i] = vm.shadow.guest.bytes[p];
  }
  return out;
}

function readU64(vm: VmState, linear: number): bigint | undefined {
  const b = readBytes(vm, linear, 8);
  return b?.length === 8 ? new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) : undefined;
}

/** The instruction at guest rip, disassembled (AT&T, as objdump prints it). */
function instructionAt(vm: VmState, rip: bigint): { text: string } | undefined {
  const at = Number(BigInt.asIntN(64, rip));
  const bytes = readBytes(vm, at, 15);
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const d = decodeBytes(bytes, 0);
    return { text: formatInstruction(d, at).replace(/\s+/g, ' ').trim() };
  } catch {
    return undefined;
  }
}

/** The interrupt frame the delivery pushed at `rsp`: [error code], rip, cs, rflags, rsp, ss. */
function pushedFrame(vm: VmState, rsp: bigint | undefined, errorCode: boolean): { rip: bigint; rsp: bigint; err?: bigint } | undefined {
  if (rsp === undefined) return undefined;
  let at = Number(BigInt.asIntN(64, rsp));
  let err: bigint | undefined;
  if (errorCode) { err = readU64(vm, at); at += 8; }
  const rip = readU64(vm, at), sp = readU64(vm, at + 24);
  return rip === undefined || sp === undefined ? undefined : { rip, rsp: sp, err };
}

/** The handler offset in the guest's IDT gate for `vector`. */
function idtGate(vm: VmState, vector: number): bigint | undefined {
  const g = readBytes(vm, vm.vcpu.idtrBase + 16 * vector, 16);
  if (!g || g.length !== 16) return undefined;
  const d = new DataView(g.buffer, g.byteOffset, 16);
  const lo = d.getUint16(0, true), mid = d.getUint16(6, true), hi = d.getUint32(8, true);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | (BigInt(mid) << 16n) | BigInt(lo));
}

/** The exit counts of a trace, as text (the end of `xk vm --trace`). */
export function exitSummaryText(summaries: ReturnType<VmPathTracer['summaries']>): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push('', `vm${summaries.length > 1 ? ` (pid ${s.pid})` : ''}: ${s.exits} exits, ${s.syscalls} guest system calls; exits by reason:`);
    for (const [reason, n] of [...s.byReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`  ${reason.padEnd(20)} ${n}`);
  }
  return lines.join('\n').replace(/^\n/, '') + '\n';
}
