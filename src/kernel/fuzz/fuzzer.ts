// The system-call fuzzer: random system calls through the real path (a user
// process executing `int $64`), checked against oracles after every call.
//
// The machine runs one tiny user program, the stub `1: int $64; jmp 1b`, as two
// kinds of process:
//   the supervisor (pid 1)   forks a fuzzing process, waits for it, forks the next;
//   the fuzzing process      makes the random calls, LIFE_CALLS of them, then exits.
// The harness stands at the kernel's entry (it wraps the host call at `trap`): when
// a process enters with `int $64`, the harness first writes the next call's user
// memory and registers into it (exactly what user code would have done before
// `int $64`), then the kernel runs as always. Children the fuzzing process forks
// write a few random bytes into their (copy-on-write) memory and make harmless
// calls a few times, then exit, so forks, writes on both sides and exits interleave;
// a fuzzing process stuck for good (every process asleep, e.g. on
// an empty pipe it holds the write end of) is killed, and the supervisor starts
// another. So everything the kernel sees is ordinary user behaviour.
//
// Oracles (any failure is a violation, reported with the seed and a reproducer):
//   host exception      the TypeScript kernel threw
//   kernel stopped      a panic, or the supervisor died
//   bad pointer         a call succeeded with a pointer it must refuse (fuzzRegions.ts)
//   read-only changed   bytes of the process's read-only pages changed
//   partial write       an output buffer running off its mapping was partly written
//                       (copyout is all or nothing)
//   kernel leak         the canary (a kernel page full of CANARY) appears in user memory
//   kernel write        the canary page itself changed
//   file table          a file's refcount differs from the descriptors that hold it,
//                       or an open file no process holds (a leak)
//   isolation           a physical page one process can write is mapped in another, or
//                       a write by one process (parent or child) shows in the other
//   page count          a physical user page's reference count differs from the number
//                       of page-table entries that map it (a leak, or a free to come
//                       twice), or a read-only program page became copy-on-write
//   page leak           after every fuzzing process is gone, pages in use differ
//   double fetch        the strict FetchChecker saw a user byte read twice in one call
//   aio                 an asynchronous I/O request whose buffer was unmapped before it
//                       completed did not fail with -EFAULT, or bytes of a request whose
//                       owner exited showed up in memory that is no longer the owner's;
//                       or the ledger of requests (aioLedger.ts, from the kernel's trace
//                       events) saw a request end twice or never, a completion signal
//                       raised or delivered other than once, a result that disagrees
//   signal stuck        a signal pending and unblocked in the fuzzing process across
//                       SIGNAL_STUCK returns to user mode with no delivery of it
//   leak                when no fuzzing process is left, the machine does not become
//                       quiet (requests in the aio table, disk requests outstanding in
//                       the driver or the device, a transaction not yet on the disk),
//                       or a buffer-cache block stays pinned
//
// Besides random calls, a fuzzing process now and then plays a scripted
// interleaving of asynchronous I/O (fuzzScenarios.ts): enqueue, then unmap the
// buffer (sbrk < 0) before the completion; or enqueue, then exit. The requests
// complete at a later clock tick, in the middle of other random calls.
//
// On the timed disk (--disk timed) reads that miss the cache sleep until the disk
// interrupt, so completions (of blocking reads, of log writes and of asynchronous
// requests) interleave with the fuzzed calls of the fuzzing process and of its
// children. Before each new fuzzing process the supervisor sleeps until the machine
// is quiet, then the ledger and the leak checks run.

import { assemble } from '../../toolchain/assembler/assembler.js';
import { link } from '../../toolchain/linker/link.js';
import { joinAddress } from '../../machine/descriptors.js';
import { fetchRecorder, setFetchRecorder } from '../mem/copyin.js';
import { FetchChecker, describeDoubleFetch } from '../mem/fetchChecker.js';
import { openFileCount } from '../files/file.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, T_SYSCALL, USER_LIMIT, USER_STACK_BOTTOM, v2p } from '../mem/kernelLayout.js';
import type { Proc } from '../proc/proc.js';
import { startSession, type Session } from '../boot/session.js';
import { SYSCALL_BY_NAME } from '../syscall/syscallTable.js';
import { ARGUMENT_REGISTERS, TrapFrame } from '../trap/trapFrame.js';
import { PTE_COW, PTE_W } from '../mem/vm.js';
import { resolveUserFault } from '../mem/pageFault.js';
import { generateCall, Rng, type FuzzCall } from './fuzzGenerate.js';
import { CANARY, mustFail, type FuzzRegions } from './fuzzRegions.js';
import { aioFileReferences, aioRequestPhase, aioStatistics } from '../syscall/sysaio.js';
import { AIO_MARKER, startScenario, type Scenario } from './fuzzScenarios.js';
import { AioLedger } from './aioLedger.js';
import { existingSignalState, NSIG, signalName } from '../signals/signals.js';

export type ViolationKind =
  | 'host exception' | 'kernel stopped' | 'bad pointer' | 'read-only changed' | 'kernel leak'
  | 'file table' | 'isolation' | 'page leak' | 'double fetch' | 'partial write' | 'kernel write' | 'page count' | 'aio'
  | 'signal stuck' | 'leak';

export interface Violation {
  kind: ViolationKind;
  message: string;
  seed: number;
  /** The call during or after which it was seen (its text), if any. */
  call?: string;
  /** The calls of this fuzzing process up to the violation: replay them to reproduce. */
  reproducer: FuzzCall[];
}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many calls ... */
  calls?: number;
  /** ... or this many seconds, whichever comes first. */
  seconds?: number;
  /** Calls per fuzzing process before it exits and the supervisor forks a fresh one. */
  lifeCalls?: number;
  /** Replay these calls (one fuzzing process) instead of generating. */
  script?: FuzzCall[];
  /** Stop after this many violations. */
  maxViolations?: number;
  /**
   * The file system's disk: 'instant' (the default: every call completes in the
   * step that issues it, so a reproducer replays call by call) or 'timed' (disk
   * requests take machine time and complete by interrupt, so asynchronous
   * completions interleave with the fuzzed calls).
   */
  disk?: 'instant' | 'timed';
}

export interface FuzzReport {
  seed: number;
  calls: number;
  seconds: number;
  callsPerSecond: number;
  /** Distinct (call, argument classes, result) outcomes. */
  outcomes: number;
  /** Calls per system-call name. */
  perSyscall: Map<string, number>;
  lives: number;
  /** Fuzzing processes killed because everything was asleep for good. */
  rescues: number;
  /** Scripted asynchronous-I/O interleavings played (fuzzScenarios.ts), and their steps. */
  scenarios: number;
  scenarioSteps: number;
  /** The asynchronous I/O ledger's totals (aioLedger.ts), and the supervisor's waits for a quiet machine. */
  aio: { enqueued: number; completed: number; dropped: number; raised: number; delivered: number; quietWaits: number; diskInterrupts: number };
  violations: Violation[];
}

/** The stub: enter the kernel, forever. Data (writable) and rodata (read-only) for pointers. */
const STUB_SOURCE = `
  .text
  .globl _start
_start:
1: int $64
  jmp 1b
  .section .rodata
  .fill 4096, 1, 0x52
  .bss
  .space 65536
`;
let stubImage: Uint8Array | null = null;
export function fuzzStub(): Uint8Array {
  if (!stubImage) {
    const object = assemble(STUB_SOURCE, { fileName: 'fuzzstub.s' }).object;
    stubImage = link([{ name: 'fuzzstub.o', bytes: object }], {});
  }
  return stubImage;
}

/** The stub's entry point, its `int $64` (e_entry of the ELF header). */
function stubEntry(): number {
  return Number(new DataView(fuzzStub().buffer, fuzzStub().byteOffset).getBigUint64(24, true));
}

const LIFE_CALLS = 2000;
const CANARY_PAGE = new Uint8Array(PAGE_SIZE);
for (let i = 0; i < PAGE_SIZE; i += CANARY.length) CANARY_PAGE.set(CANARY, i);
/** Instructions without a finished fuzz call before the fuzzing process is killed (it ran off somewhere). */
const WATCHDOG_INSTRUCTIONS = 20_000_000;

const SYS = (name: string): number => SYSCALL_BY_NAME.get(name)!.num;
/** Returns to user mode a deliverable signal may stay pending, without being delivered, before it counts as lost. */
const SIGNAL_STUCK = 32;
/** Clock ticks the supervisor waits for a quiet machine before it reports a leak. */
const QUIET_WAITS = 200;
/** The trace events the ledger reads. */
const LEDGER_STEPS = new Set(['aio-enqueue', 'aio-complete', 'aio-drop', 'signal-raise', 'signal-deliver']);

export class SyscallFuzzer {
  private rng: Rng;
  private session!: Session;
  private k!: Kernel;
  private checker = new FetchChecker((d) => this.violation('double fetch', describeDoubleFetch(d)), false);
  private supervisor!: Proc;
  private fuzz: Proc | null = null;
  private regions!: FuzzRegions;
  private readonlySnapshot: Uint8Array = new Uint8Array(0);
  /** Writes left for each child of the fuzzing process before it exits. */
  private childSteps = new WeakMap<Proc, number>();
  private canaryPhys = 0;
  private pageBaseline = -1;
  private supervisorForked = false;
  private life: FuzzCall[] = [];
  private lifeCount = 0;
  /** The call sent to the fuzzing process whose result is not in yet. */
  private inflight: FuzzCall | null = null;
  /** The result of the last call the fuzzing process finished (scripted steps use it). */
  private lastResult: number | 'died' = 0;
  /** Its output buffers that run off their mapping, as they were before the call: [address, bytes]. */
  private outBefore: Array<[number, Uint8Array]> = [];
  private justIssued = false;
  private lastProgress = 0;
  private scriptAt = 0;
  private scriptDone = false;
  private outcomes = new Set<string>();
  private perSyscall = new Map<string, number>();
  private calls = 0;
  private rescues = 0;
  private scenarios = 0;
  private scenarioSteps = 0;
  private violations: Violation[] = [];
  private sessionBroken = false;
  private maxViolations = Infinity;
  private target = Infinity;
  /** The scripted interleaving the fuzzing process is playing, if any. */
  private scenario: Scenario | null = null;
  /** Ids the fuzzing process's asynchronous I/O requests got (the generator reuses them). */
  private aioIds: number[] = [];
  /** Completions that had copied bytes out when the call in flight was issued. */
  private copyoutsAtIssue = 0;
  /** Physical pages that held the buffers of requests whose owner exited: never the marker again. */
  private deadBuffers: Array<{ pa: number; until: number }> = [];
  /** Asynchronous I/O as the kernel's trace events tell it (over all machines of the run). */
  private ledger = new AioLedger((m) => this.violation('aio', m));
  private ledgerTotals = { enqueued: 0, completed: 0, dropped: 0, raised: 0, delivered: 0 };
  /** Signals of the fuzzing process pending and deliverable, and for how many returns; those delivered since. */
  private signalAge = new Map<number, number>();
  private deliveredSince = new Set<number>();
  private quietWaits = 0;
  /** Processes whose system call waits for the disk and will start again (their next trap is that call). */
  private restarting = new Set<number>();
  private quietWaitsTotal = 0;
  /** Disk interrupts of the machines before this one. */
  private diskInterrupts = 0;

  constructor(private readonly options: FuzzOptions) {
    this.rng = new Rng(options.seed);
  }

  async run(): Promise<FuzzReport> {
    const start = Date.now();
    const target = (this.target = this.options.script ? Infinity : this.options.calls ?? Infinity);
    const deadline = this.options.seconds !== undefined ? start + this.options.seconds * 1000 : Infinity;
    const maxViolations = this.options.maxViolations ?? 5;
    const previousRecorder = fetchRecorder();
    setFetchRecorder(this.checker);
    try {
      await this.startMachine();
      this.maxViolations = maxViolations;
      while (this.calls < target && Date.now() < deadline && !this.scriptDone && this.violations.length < maxViolations) {
        let finished: boolean;
        try {
          finished = this.session.run(200_000);
        } catch (e) {
          this.violation('host exception', (e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e));
          finished = true;
          this.sessionBroken = true;
        }
        if (this.scriptDone || this.violations.length >= maxViolations) break;
        if (finished) {
          if (!this.sessionBroken) this.violation('kernel stopped', this.session.stopMessage() || 'the machine stopped');
          if (this.options.script) break;
          await this.startMachine();
          continue;
        }
        if (this.fuzz && this.k.cpu.instructionCount - this.lastProgress > WATCHDOG_INSTRUCTIONS) {
          this.kill(this.fuzz);
          this.lastProgress = this.k.cpu.instructionCount;
        }
      }
    } finally {
      this.session?.close();
      setFetchRecorder(previousRecorder);
    }
    const seconds = (Date.now() - start) / 1000;
    return {
      seed: this.options.seed,
      calls: this.calls,
      seconds,
      callsPerSecond: Math.round(this.calls / Math.max(seconds, 0.001)),
      outcomes: this.outcomes.size,
      perSyscall: this.perSyscall,
      lives: this.lifeCount,
      rescues: this.rescues,
      scenarios: this.scenarios,
      scenarioSteps: this.scenarioSteps,
      aio: { ...this.totals(), quietWaits: this.quietWaitsTotal, diskInterrupts: this.diskInterrupts + (this.k?.disk?.interrupts ?? 0) },
      violations: this.violations,
    };
  }

  // -------------------------------------------------------------------------
  // The machine.

  private totals() {
    const l = this.ledger;
    const t = this.ledgerTotals;
    return { enqueued: t.enqueued + l.enqueued, completed: t.completed + l.completed, dropped: t.dropped + l.dropped, raised: t.raised + l.raised, delivered: t.delivered + l.delivered };
  }

  private async startMachine(): Promise<void> {
    this.session?.close();
    // A new kernel numbers its requests from 1 again: a new ledger.
    this.ledgerTotals = this.totals();
    this.diskInterrupts += this.k?.disk?.interrupts ?? 0;
    this.ledger = new AioLedger((m) => this.violation('aio', m));
    this.session = await startSession({
      program: { path: 'fuzzstub', image: fuzzStub(), argv: ['fuzzstub'] },
      output: () => {},
      memoryBytes: 32 * 1024 * 1024,
      disk: this.options.disk ?? 'instant',
    });
    this.sessionBroken = false;
    const k = (this.k = this.session.kernel);
    this.restarting.clear();
    k.observe = (e) => {
      // A call that waits for the disk starts again when it wakes (syscall.ts restartAfterDisk):
      // its next `int $64` is the same call, not the next one.
      if (e.step === 'disk-wait') this.restarting.add(e.pid);
      if (!LEDGER_STEPS.has(e.step)) return;
      this.ledger.event(e);
      if (e.step === 'signal-deliver' && this.fuzz && e.pid === this.fuzz.pid && e.args) this.deliveredSince.add(Number(e.args.sig));
    };
    k.files.consoleInputEnd(); // console reads see end of file instead of waiting forever
    this.supervisor = k.initProc!;
    this.fuzz = null;
    this.inflight = null;
    this.justIssued = false;
    this.pageBaseline = -1;
    this.supervisorForked = false;
    this.checker.reset();
    // The canary: a kernel page nobody uses, full of a pattern user memory must never see.
    this.canaryPhys = k.allocator.alloc();
    // The fuzzer watches from outside the kernel: it holds the machine itself (memory, CPU).
    const { memory, cpu: processor } = this.session.machine;
    memory.bytes.set(CANARY_PAGE, this.canaryPhys);
    const original = processor.hostCalls.get(k.entry.trap)!;
    processor.hostCalls.set(k.entry.trap, (cpu) => {
      const tf = new TrapFrame(memory, v2p(joinAddress(cpu.regs[14], cpu.regs[15]))); // %rdi = the trap frame
      this.beforeTrap(tf);
      original(cpu);
      this.afterTrap();
    });
  }

  /** A process entered the kernel: give it its next system call. */
  private beforeTrap(tf: TrapFrame): void {
    if (tf.lo('trapno') !== T_SYSCALL || (tf.lo('cs') & 3) !== 3) return;
    const p = this.k.current;
    if (!p) return;
    if (this.restarting.delete(p.pid)) return; // the same call again, after the disk: leave it alone
    if (p === this.supervisor) return this.directSupervisor(tf);
    if (p !== this.fuzz) return this.directChild(p, tf); // a child of the fuzzing process
    if (this.inflight) this.finish(tf.signed('rax'));
    if (this.calls >= this.target) {
      this.scriptDone = true; // enough calls: stop here, exactly
      this.k.hw.stop('done');
      return this.setCall(tf, SYS('getpid'), []);
    }
    if (this.options.script) {
      if (this.scriptAt >= this.options.script.length) return this.setCall(tf, SYS('exit'), [0]);
      return this.issue(p, tf, this.options.script[this.scriptAt++]);
    }
    if (this.life.length >= (this.options.lifeCalls ?? LIFE_CALLS)) return this.setCall(tf, SYS('exit'), [0]);
    if (!this.scenario && this.rng.chance(0.004)) {
      this.scenario = startScenario(this.rng, this.regions, stubEntry());
      if (this.scenario) this.scenarios++;
      this.deadBuffers = []; // the new scenario writes the marker itself, perhaps into a page watched so far
    }
    if (this.scenario) {
      const next = this.scenario.next(this.lastResult, (va) => this.physical(p, va), (id) => aioRequestPhase(this.k, id));
      if (next) {
        this.scenarioSteps++;
        return this.issue(p, tf, next);
      }
      this.scenario = null;
    }
    this.issue(p, tf, generateCall(this.rng, this.context(p)));
  }

  private afterTrap(): void {
    const k = this.k;
    if (this.justIssued && this.fuzz && this.inflight) {
      this.justIssued = false;
      const p = this.fuzz;
      if (!this.isLive(p) || p.state === 'zombie') this.finish('died');
      else if (!p.pending && !this.restarting.has(p.pid)) this.finish(p.tf.signed('rax'));
    }
    if (this.supervisorForked) {
      this.supervisorForked = false;
      const pid = this.supervisor.tf.signed('rax');
      const child = pid > 0 ? k.procs.byPid(pid) : undefined;
      if (child) this.startLife(child);
    }
    if (k.cpu.rip === k.entry.idle) this.rescue();
  }

  private setCall(tf: TrapFrame, num: number, args: number[]): void {
    tf.set('rax', num);
    args.forEach((v, i) => tf.set(ARGUMENT_REGISTERS[i], v));
  }

  /** The supervisor: wait while it has children, else fork the next fuzzing process. */
  private directSupervisor(tf: TrapFrame): void {
    const k = this.k;
    if (this.fuzz && (!this.isLive(this.fuzz) || this.fuzz.state === 'zombie')) this.endLife();
    const children = k.procs.live().filter((c) => c.parent === this.supervisor);
    if (children.length > 0) return this.setCall(tf, SYS('wait'), [0]);
    // No fuzzing process: wait until the machine is quiet, then check that nothing was left behind.
    const busy = this.busy();
    if (busy && this.quietWaits < QUIET_WAITS) {
      this.quietWaits++;
      this.quietWaitsTotal++;
      return this.setCall(tf, SYS('sleep'), [1]);
    }
    if (busy) this.violation('leak', `with no fuzzing process left, after ${this.quietWaits} clock ticks: ${busy}`, null);
    this.quietWaits = 0;
    this.checkQuiet();
    if (this.options.script && this.lifeCount > 0) {
      this.scriptDone = true;
      k.hw.stop('replay done');
      return this.setCall(tf, SYS('sleep'), [1]);
    }
    if (this.pageBaseline < 0) this.pageBaseline = k.allocator.usedPages;
    else if (k.allocator.usedPages !== this.pageBaseline) {
      this.violation('page leak', `${k.allocator.usedPages} pages in use with no fuzzing process; ${this.pageBaseline} before`);
      this.pageBaseline = k.allocator.usedPages;
    }
    this.supervisorForked = true;
    this.setCall(tf, SYS('fork'), []);
  }

  /** A child of the fuzzing process: a few writes into its memory and harmless calls, then exit. */
  private directChild(p: Proc, tf: TrapFrame): void {
    const steps = this.childSteps.get(p) ?? this.rng.below(4);
    if (steps === 0 || this.regions.dataEnd <= this.regions.dataStart) return this.setCall(tf, SYS('exit'), []);
    this.childSteps.set(p, steps - 1);
    const at = this.regions.dataStart + this.rng.below(this.regions.dataEnd - this.regions.dataStart - 8);
    this.writeUser(p, at, Uint8Array.from({ length: 8 }, () => this.rng.below(256)));
    this.setCall(tf, SYS('getpid'), []);
  }

  /** What keeps the machine from being quiet, in words; '' when it is quiet. */
  private busy(): string {
    const k = this.k;
    const parts: string[] = [];
    const aio = aioStatistics(k);
    if (aio.requests > 0) parts.push(`${aio.requests} asynchronous I/O requests in the table (${aio.inFlight} in flight)`);
    if (k.disk && k.disk.outstanding > 0) parts.push(`${k.disk.outstanding} requests outstanding in the disk driver`);
    const device = this.session.machine.devices.disk;
    if (device && device.outstanding > 0) parts.push(`${device.outstanding} commands outstanding in the disk`);
    const t = k.files.transactions();
    if (t.durable < t.begun) parts.push(`transactions ${t.durable + 1}..${t.begun} not yet on the disk`);
    return parts.join('; ');
  }

  /** The machine is quiet with no fuzzing process: every request ended, and no block is pinned. */
  private checkQuiet(): void {
    this.ledger.quiescent();
    const pinned = this.session.disk.fs.cache.pinnedCount;
    if (pinned > 0) this.violation('leak', `${pinned} buffer-cache blocks pinned with the log idle`, null);
  }

  /** After a return to user mode: a deliverable signal must not stay pending for good. */
  private checkSignals(p: Proc, call: FuzzCall): void {
    const s = existingSignalState(p);
    const ready = s ? (s.pending & ~s.mask) >>> 0 : 0;
    for (let sig = 1; sig < NSIG; sig++) {
      const bit = (ready >>> (sig - 1)) & 1;
      if (!bit || this.deliveredSince.has(sig)) {
        this.signalAge.delete(sig);
        continue;
      }
      const age = (this.signalAge.get(sig) ?? 0) + 1;
      this.signalAge.set(sig, age);
      if (age === SIGNAL_STUCK) this.violation('signal stuck', `${signalName(sig)} pending and unblocked in pid ${p.pid} across ${age} returns to user mode, never delivered`, call);
    }
    this.deliveredSince.clear();
  }

  private startLife(p: Proc): void {
    this.signalAge.clear();
    this.deliveredSince.clear();
    this.fuzz = p;
    this.life = [];
    this.lifeCount++;
    this.lastProgress = this.k.cpu.instructionCount;
    // Its memory: read-only pages (text, rodata) and the largest writable run below the stack.
    const pages = p.vm.userPages().filter(([va]) => va < USER_STACK_BOTTOM - PAGE_SIZE);
    const ro = pages.filter(([, , f]) => !(f & (PTE_W | PTE_COW)));
    const rw = pages.filter(([, , f]) => f & (PTE_W | PTE_COW)); // shared copy-on-write with the supervisor
    const mapped = new Set(pages.map(([va]) => va));
    let best: [number, number] = [0, 0];
    for (const [va] of rw) {
      if (mapped.has(va - PAGE_SIZE) && rw.some(([v]) => v === va - PAGE_SIZE)) continue;
      let end = va;
      while (rw.some(([v]) => v === end)) end += PAGE_SIZE;
      if (end - va > best[1] - best[0]) best = [va, end];
    }
    this.regions = {
      dataStart: best[0],
      dataEnd: best[1],
      roStart: ro[0][0],
      roEnd: ro[ro.length - 1][0] + PAGE_SIZE,
      canaryPhys: this.canaryPhys,
      kstackPhys: p.kstack,
    };
    this.readonlySnapshot = this.readUser(p, this.regions.roStart, this.regions.roEnd - this.regions.roStart);
  }

  private endLife(): void {
    if (this.inflight) this.finish('died');
    this.fuzz = null;
    this.scenario = null;
    this.aioIds = [];
  }

  private context(p: Proc) {
    return {
      regions: this.regions,
      liveFds: p.ofile.flatMap((f, i) => (f ? [i] : [])),
      selfPid: p.pid,
      childPids: this.k.procs.live().filter((c) => c.parent === p).map((c) => c.pid),
      aioIds: this.aioIds,
      isMapped: (va: number) => p.vm.lookup(Math.floor(va / PAGE_SIZE) * PAGE_SIZE) !== undefined,
    };
  }

  /** Write the call's memory and registers into the process; the kernel takes it from there. */
  private issue(p: Proc, tf: TrapFrame, call: FuzzCall): void {
    for (const [va, bytes] of call.writes) this.writeUser(p, va, bytes);
    if (call.deadBuffer) {
      // Watch only pages the marker has not reached yet (a request may have completed before the exit).
      const memory = this.session.machine.memory.bytes;
      call.deadBuffer = call.deadBuffer.filter((pa) => Buffer.from(memory.buffer, memory.byteOffset + pa, PAGE_SIZE).indexOf(AIO_MARKER) < 0);
    }
    this.setCall(tf, call.num, call.regs);
    this.outBefore = [];
    for (const q of call.pointers) {
      if (!q.out || (q.cls !== 'edge' && q.cls !== 'straddle')) continue;
      const end = q.cls === 'edge' ? this.regions.dataEnd : USER_LIMIT;
      if (q.len > end - q.addr) this.outBefore.push([q.addr, this.readUser(p, q.addr, end - q.addr)]);
    }
    this.inflight = call;
    this.copyoutsAtIssue = aioStatistics(this.k).copyouts;
    this.justIssued = true;
    this.life.push(call);
    this.calls++;
    this.perSyscall.set(call.name, (this.perSyscall.get(call.name) ?? 0) + 1);
  }

  /** The result of the call in flight is in: check it. */
  private finish(result: number | 'died'): void {
    const call = this.inflight!;
    this.inflight = null;
    this.lastResult = result;
    this.lastProgress = this.k.cpu.instructionCount;
    if ((call.name === 'aio_read' || call.name === 'aio_write') && typeof result === 'number' && result > 0) {
      this.aioIds.push(result);
      if (this.aioIds.length > 32) this.aioIds.shift();
    }
    const expected = call.expect;
    if (expected !== undefined && result !== expected && result !== 'died') {
      this.violation('aio', `sys_${call.name} returned ${result}, expected ${expected} (${call.why ?? ''})`, call);
    }
    if (call.deadBuffer) for (const pa of call.deadBuffer) this.deadBuffers.push({ pa, until: this.calls + 400 });
    if ((call.name === 'aio_status' || call.name === 'aio_return') && typeof result === 'number' && this.fuzz) {
      this.ledger.checkResult(call.name, this.fuzz.pid, Number(BigInt.asIntN(32, BigInt(call.regs[0]))), result);
    }
    if (this.fuzz && this.isLive(this.fuzz) && this.fuzz.state !== 'zombie' && result !== 'died') this.checkSignals(this.fuzz, call);
    const bucket = result === 'died' ? 'died' : result < 0 ? String(result) : result === 0 ? '0' : '>0';
    this.outcomes.add(`${call.name}(${call.pointers.map((q) => q.cls).join(',')}) -> ${bucket}`);
    if (typeof result === 'number' && result >= 0) {
      // XK's rule: read at the end of a file returns 0 and copies nothing, so a read-only buffer is fine.
      const readAtEnd = call.name === 'read' && result === 0;
      for (const q of call.pointers) {
        if (readAtEnd && q.cls === 'readonly') continue;
        if (mustFail(q.cls, q.addr, q.len, q.out, this.regions)) {
          this.violation('bad pointer', `sys_${call.name} returned ${result} with a ${q.cls} pointer 0x${q.addr.toString(16)} in argument ${q.arg} (${q.len} bytes${q.out ? ', written' : ''})`, call);
          break;
        }
      }
    }
    const p = this.fuzz;
    // A completion during the call may write the process's own buffers: that is not this call's partial write.
    const completed = aioStatistics(this.k).copyouts !== this.copyoutsAtIssue;
    if (p && this.isLive(p) && p.state !== 'zombie' && !completed) {
      for (const [va, before] of this.outBefore) {
        if (Buffer.compare(this.readUser(p, va, before.length), before) !== 0) {
          this.violation('partial write', `sys_${call.name} wrote part of an output buffer at 0x${va.toString(16)} that runs off its mapping`, call);
        }
      }
    }
    this.checkInvariants(call);
  }

  private checkInvariants(call: FuzzCall): void {
    const k = this.k;
    const p = this.fuzz;
    if (p && this.isLive(p) && p.state !== 'zombie') {
      const ro = this.readUser(p, this.regions.roStart, this.readonlySnapshot.length);
      if (Buffer.compare(ro, this.readonlySnapshot) !== 0) {
        this.violation('read-only changed', `a read-only page of pid ${p.pid} changed`, call);
        this.readonlySnapshot = ro;
      }
    }
    // File table: each open file's refcount is the number of descriptors holding it.
    const holders = new Map<object, number>();
    for (const q of k.procs.live()) for (const f of q.ofile) if (f) holders.set(f, (holders.get(f) ?? 0) + 1);
    for (const f of aioFileReferences(k)) holders.set(f, (holders.get(f) ?? 0) + 1); // a request in flight holds its file
    for (const [f, n] of holders) {
      const ref = (f as { ref: number }).ref;
      if (ref !== n) this.violation('file table', `an open file has ref ${ref} but ${n} descriptors`, call);
    }
    if (openFileCount() !== holders.size) {
      this.violation('file table', `${openFileCount()} open files but processes hold ${holders.size}`, call);
    }
    // The canary page: any change is a kernel write through a user pointer.
    const canary = this.session.machine.memory.bytes.subarray(this.canaryPhys, this.canaryPhys + PAGE_SIZE);
    if (Buffer.compare(canary, CANARY_PAGE) !== 0) {
      this.violation('kernel write', 'the kernel canary page changed', call);
      canary.set(CANARY_PAGE);
    }
    if (this.calls % 16 === 0) this.checkMemory(call);
  }

  /**
   * No canary bytes in any user page. Every physical user page is held by exactly
   * the page-table entries that map it (its reference count), a page one of them
   * can write has only that one, and read-only program pages are never copy-on-write.
   */
  private checkMemory(call: FuzzCall): void {
    const mappings = new Map<number, { count: number; writers: number[] }>();
    for (const q of this.k.procs.live()) {
      for (const [va, pa, flags] of q.vm.userPages()) {
        const m = mappings.get(pa) ?? { count: 0, writers: [] };
        m.count++;
        if (flags & PTE_W) m.writers.push(q.pid);
        mappings.set(pa, m);
        if (q === this.fuzz && va >= this.regions.roStart && va < this.regions.roEnd && (flags & (PTE_W | PTE_COW))) {
          this.violation('page count', `read-only page 0x${va.toString(16)} of pid ${q.pid} is writable or copy-on-write`, call);
        }
        if (q.state === 'zombie' || m.count > 1) continue;
        const page = this.session.machine.memory.bytes.subarray(pa, pa + PAGE_SIZE);
        if (Buffer.from(page.buffer, page.byteOffset, PAGE_SIZE).indexOf(CANARY.subarray(0, 7)) >= 0) {
          this.violation('kernel leak', `kernel canary bytes in user memory of pid ${q.pid} at page 0x${va.toString(16)}`, call);
        }
      }
    }
    const memory = this.session.machine.memory.bytes;
    this.deadBuffers = this.deadBuffers.filter((d) => d.until > this.calls);
    for (const d of this.deadBuffers) {
      if (Buffer.from(memory.buffer, memory.byteOffset + d.pa, PAGE_SIZE).indexOf(AIO_MARKER) >= 0) {
        this.violation('aio', `file bytes of a request whose owner exited reached physical page 0x${d.pa.toString(16)}, no longer its own`, call);
        this.deadBuffers = [];
        break;
      }
    }
    for (const [pa, m] of mappings) {
      const refs = this.k.allocator.refCount(pa);
      if (refs !== m.count) {
        this.violation('page count', `physical page 0x${pa.toString(16)} is mapped ${m.count} times but has ${refs} references`, call);
      }
      if (m.writers.length > 0 && m.count > 1) {
        this.violation('isolation', `physical page 0x${pa.toString(16)} is writable by pid ${m.writers[0]} and mapped ${m.count} times`, call);
      }
    }
  }

  /** Every process asleep for good: kill the fuzzing process (and its children) so the supervisor goes on. */
  private rescue(): void {
    if (aioStatistics(this.k).inFlight > 0) return; // the next clock tick completes them and wakes their waiters
    if (this.k.disk && this.k.disk.outstanding > 0) return; // the timed disk is busy: its interrupt wakes the sleepers
    for (const q of this.k.procs.live()) {
      if (q === this.supervisor || q.state !== 'sleeping' || q.chan === this.k.ticksChannel) continue;
      this.kill(q);
      this.rescues++;
    }
  }

  private kill(q: Proc): void {
    q.killed = true;
    if (q.state === 'sleeping') {
      q.state = 'runnable';
      q.chan = null;
    }
  }

  private isLive(p: Proc): boolean {
    return this.k.procs.slots.includes(p);
  }

  private violation(kind: ViolationKind, message: string, call: FuzzCall | null = this.inflight): void {
    if (this.violations.length >= this.maxViolations) return;
    if (this.violations.length + 1 >= this.maxViolations) this.k.hw.stop('enough violations');
    this.violations.push({
      kind,
      message,
      seed: this.options.seed,
      call: call?.text,
      reproducer: this.life.slice(0, call ? this.life.lastIndexOf(call) + 1 || this.life.length : this.life.length),
    });
  }

  // Harness access to a process's memory (not the kernel's door: the harness plays the user program).
  private physical(p: Proc, va: number): number {
    const e = p.vm.lookup(Math.floor(va / PAGE_SIZE) * PAGE_SIZE);
    return e ? e.addr + (va % PAGE_SIZE) : -1;
  }
  /**
   * The program's own store: a copy-on-write page is copied first, as the CPU's
   * write fault would make the kernel do (pageFault.ts). Checks that no other
   * process sees the bytes change.
   */
  private writeUser(p: Proc, va: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const n = Math.min(bytes.length - i, PAGE_SIZE - ((va + i) % PAGE_SIZE));
      resolveUserFault(p.vm, va + i, true);
      const pa = this.physical(p, va + i);
      const e = p.vm.lookup(Math.floor((va + i) / PAGE_SIZE) * PAGE_SIZE);
      if (pa >= 0 && e && (e.flags & PTE_W)) {
        const others = this.k.procs.live().filter((q) => q !== p && q.state !== 'zombie');
        const before = others.map((q) => this.readUser(q, va + i, n));
        this.session.machine.memory.bytes.set(bytes.subarray(i, i + n), pa);
        others.forEach((q, j) => {
          if (Buffer.compare(this.readUser(q, va + i, n), before[j]) !== 0) {
            this.violation('isolation', `a write by pid ${p.pid} at 0x${(va + i).toString(16)} changed the memory of pid ${q.pid}`);
          }
        });
      }
      i += n;
    }
  }
  private readUser(p: Proc, va: number, len: number): Uint8Array {
    // (a fresh copy, so snapshots stay put)
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const pa = this.physical(p, va + i);
      const n = Math.min(len - i, PAGE_SIZE - ((va + i) % PAGE_SIZE));
      if (pa >= 0) out.set(this.session.machine.memory.bytes.subarray(pa, pa + n), i);
      i += n;
    }
    return out;
  }
}

/** Run the fuzzer. */
export function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  return new SyscallFuzzer(options).run();
}

/**
 * Shrink a violation's reproducer: drop chunks of calls while a replay still shows
 * a violation of the same kind. At most `maxReplays` replays.
 */
export async function minimize(v: Violation, maxReplays = 60, disk: FuzzOptions['disk'] = 'instant'): Promise<{ calls: FuzzCall[]; reproduced: boolean }> {
  let replays = 0;
  const fails = async (calls: FuzzCall[]): Promise<boolean> => {
    replays++;
    const r = await fuzz({ seed: v.seed, script: calls, maxViolations: 1, disk });
    return r.violations.some((x) => x.kind === v.kind);
  };
  let calls = v.reproducer;
  if (!(await fails(calls))) return { calls, reproduced: false };
  for (let chunk = Math.ceil(calls.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i < calls.length && replays < maxReplays; ) {
      const candidate = [...calls.slice(0, i), ...calls.slice(i + chunk)];
      if (candidate.length > 0 && (await fails(candidate))) calls = candidate;
      else i += chunk;
    }
    if (replays >= maxReplays) break;
  }
  return { calls, reproduced: true };
}
