// The differential monitor fuzzer's runner and comparison: one guest
// (guestGenerator.ts) on the bare machine (src/machine) and under the monitor
// (src/vmm/host.ts, as `xk vm` runs it: strict, and patched when the guest's
// code can be swept), then every observable compared: the stop reason, the
// shutdown status, the guest's clock (instructions retired), the general
// registers and RIP, every byte of guest memory and the serial output. The
// monitor must never throw, nor touch host memory beyond its own working
// structures (monitorPages.ts): either is a disagreement too.

import { Machine } from '../../machine/machine.js';
import { ShutdownPort, SHUTDOWN_PORT } from '../../machine/devices/shutdownPort.js';
import { VmHost } from '../host.js';
import { patchSensitiveInstructions } from '../patcher.js';
import { GraphSnapshot } from './snapshot.js';
import { firstDifference, WrittenPages } from './writtenPages.js';
import { MonitorPagesCheck } from './monitorPages.js';
import { GUEST_BYTES, HARNESS, PROGRAM, guestRegions, patchable, type FuzzGuest } from './guestGenerator.js';

/**
 * Guest instructions each run may take (a guest normally ends in a few hundred; of the first
 * 4,000 seeds none that ends by itself takes 5,000): the rest loop, and only cost time.
 */
export const FUZZ_MAX_INSTRUCTIONS = 5_000;

/** Guests between two comparisons of all of guest memory (the others compare the pages the runs wrote). */
const FULL_CHECK_EVERY = 64;

/** What a run ended with: everything the comparison looks at. */
export interface Observation {
  reason: string;
  status: number | undefined;
  clock: number;
  registers: bigint[];
  rip: number;
  /** Guest memory as the guest wrote it (a view of the machine's memory: valid until the machine's next run). */
  memory: Uint8Array;
  /** The pages of `memory` the run (or its loader) wrote, all others as after reset; null: unknown (compare all). */
  written?: Uint8Array | null;
  serial: string;
  message: string;
  /** A monitor run only: what is wrong with the host's memory outside the guest's (monitorPages.ts), or null. */
  hostMemory?: string | null;
}

/** Serial output collected by a machine whose output callback outlives one run. */
class SerialSink {
  text = '';
  readonly out = (b: Uint8Array): void => { this.text += Buffer.from(b).toString('latin1'); };
}

/** Fields that are wiring, not state: never changed by a run (the port bus and its devices). */
const WIRING = new Set(['ports']);

/** The bare machine of the comparison, reset to its fresh state before each guest. */
export class BareRunner {
  private readonly serial = new SerialSink();
  private readonly machine: Machine;
  private readonly shutdown: ShutdownPort;
  private readonly snapshot: GraphSnapshot | null;
  private readonly written: WrittenPages | null;

  constructor(reuse: boolean) {
    this.machine = new Machine({ memoryBytes: GUEST_BYTES, serialOut: this.serial.out });
    this.shutdown = new ShutdownPort(this.machine);
    this.machine.ports.register(SHUTDOWN_PORT, 1, this.shutdown);
    this.written = reuse ? new WrittenPages(this.machine.memory, this.machine.cpu) : null;
    this.snapshot = reuse ? new GraphSnapshot({ machine: this.machine, shutdown: this.shutdown }, WIRING, new Set([this.machine.memory.bytes.buffer])) : null;
  }

  run(regions: Array<[number, Uint8Array]>): Observation {
    this.snapshot?.restore();
    this.written?.reset();
    this.serial.text = '';
    const machine = this.machine;
    for (const [at, bytes] of regions) machine.loadPhysical(at, bytes);
    this.written?.arm();
    machine.cpu.rip = PROGRAM;
    const reason = machine.run(FUZZ_MAX_INSTRUCTIONS);
    const cpu = machine.cpu;
    const status = this.shutdown.status;
    return {
      reason: status !== undefined ? 'shutdown' : reason, status, clock: cpu.instructionCount,
      registers: Array.from({ length: 16 }, (_, i) => cpu.getReg64(i)), rip: cpu.rip,
      memory: machine.memory.bytes.subarray(0, GUEST_BYTES), written: this.written?.marks ?? null, serial: this.serial.text, message: machine.stopMessage,
    };
  }
}

/** A test hook: change the monitor before a run (e.g. inject a bug, to see the fuzzer find it). */
export type MonitorHook = (host: VmHost) => void;

/** A VmHost of one mode, reset to its fresh state before each guest. */
class MonitorRunner {
  private readonly serial = new SerialSink();
  private readonly host: VmHost;
  private readonly snapshot: GraphSnapshot | null;
  private readonly written: WrittenPages | null;
  private readonly pages = new MonitorPagesCheck();
  /** The harness as the loader patches it (the same for every guest), and its patches. */
  private patchedHarness: { from: Uint8Array; data: Uint8Array; patches: Array<[number, Uint8Array]> } | null = null;

  constructor(private readonly strict: boolean, reuse: boolean) {
    this.host = new VmHost({ guestBytes: GUEST_BYTES, strict, serialOut: this.serial.out });
    const machine = this.host.machine;
    this.written = reuse ? new WrittenPages(machine.memory, machine.cpu) : null;
    this.snapshot = reuse ? new GraphSnapshot(this.host, WIRING, new Set([machine.memory.bytes.buffer])) : null;
  }

  /** `bytes` at `at` as the loader patches them: the patched copy, and address -> original bytes. */
  private patched(at: number, bytes: Uint8Array): { data: Uint8Array; patches: Array<[number, Uint8Array]> } {
    if (at === HARNESS && this.patchedHarness?.from === bytes) return this.patchedHarness;
    const data = bytes.slice();
    const patches = patchSensitiveInstructions(data, at).map((p): [number, Uint8Array] => [p.address, p.original]);
    if (at === HARNESS) this.patchedHarness = { from: bytes, data, patches };
    return { data, patches };
  }

  run(regions: Array<[number, Uint8Array]>, hook?: MonitorHook): Observation {
    const host = this.snapshot === null ? new VmHost({ guestBytes: GUEST_BYTES, strict: this.strict, serialOut: this.serial.out }) : this.host;
    this.snapshot?.restore();
    this.written?.reset();
    this.serial.text = '';
    for (const [at, bytes] of regions) {
      if (!this.strict && (at === HARNESS || at === PROGRAM)) {
        const { data, patches } = this.patched(at, bytes);
        for (const [address, original] of patches) host.vm.patches.set(address, original);
        host.loadGuest(at, data);
      } else host.loadGuest(at, bytes);
    }
    this.written?.arm();
    hook?.(host);
    host.start(PROGRAM);
    const r = host.run(FUZZ_MAX_INSTRUCTIONS);
    const cpu = host.machine.cpu;
    // Guest memory as the guest wrote it: where the loader planted an int3, its original byte
    // (in place: the machine is reset before its next run anyway).
    const memory = host.machine.memory.bytes.subarray(0, GUEST_BYTES);
    for (const [at, original] of host.vm.patches) if (memory[at] === 0xcc) memory[at] = original[0];
    return {
      reason: r.reason, status: r.status, clock: r.guestInstructions,
      registers: Array.from({ length: 16 }, (_, i) => cpu.getReg64(i)), rip: cpu.rip, memory, written: this.written?.marks ?? null, serial: this.serial.text, message: r.message,
      hostMemory: this.pages.check(host, this.written?.marks ?? null),
    };
  }
}

const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/**
 * The first difference between the bare machine's run and the monitor's, or null.
 * Memory: the pages either run wrote, or (`allPages`, or a run that does not know) all of it.
 */
export function compare(bare: Observation, vm: Observation, allPages = false): string | null {
  if (vm.hostMemory != null) return vm.hostMemory;
  if (vm.reason !== bare.reason) return `stop reason: bare ${bare.reason} (${bare.message}), monitor ${vm.reason} (${vm.message})`;
  if (vm.status !== bare.status) return `shutdown status: bare ${bare.status}, monitor ${vm.status}`;
  if (vm.clock !== bare.clock) return `guest instructions: bare ${bare.clock}, monitor ${vm.clock}`;
  if (vm.serial !== bare.serial) return `serial output: bare ${JSON.stringify(bare.serial)}, monitor ${JSON.stringify(vm.serial)}`;
  if (bare.reason === 'shutdown' || bare.reason === 'halted') {
    for (let i = 0; i < 16; i++) {
      if (vm.registers[i] !== bare.registers[i]) return `${REG_NAMES[i]}: bare 0x${bare.registers[i].toString(16)}, monitor 0x${vm.registers[i].toString(16)}`;
    }
  }
  const all = allPages || bare.written == null || vm.written == null ? new Uint8Array(Math.ceil(bare.memory.length / 4096)).fill(1) : null;
  const at = all !== null ? firstDifference(bare.memory, vm.memory, all, all) : firstDifference(bare.memory, vm.memory, bare.written!, vm.written!);
  if (at >= 0) return `guest memory at 0x${at.toString(16)}: bare 0x${bare.memory[at].toString(16)}, monitor 0x${vm.memory[at].toString(16)}`;
  return null;
}

/** How one guest fared: null if every run agreed, else the mode and the first difference. */
export interface Disagreement { mode: 'strict' | 'patched'; difference: string }

export interface DifferentialOptions {
  /** Build fresh machines for every guest instead of resetting three long-lived ones (slow; for checking the reset). */
  fresh?: boolean;
  /** Applied to the monitor before each run (tests inject monitor bugs with it). */
  hook?: MonitorHook;
}

/** Runs guests on the bare machine and under the monitor (strict; patched too if the guest allows) and compares. */
export class DifferentialRunner {
  private readonly fresh: boolean;
  private bare: BareRunner;
  private readonly strict: MonitorRunner;
  private readonly patched: MonitorRunner;
  /** Guests checked, and monitor runs made (for the figures). */
  guests = 0;
  runs = 0;
  /** How the guests ended on the bare machine ('shutdown 170', 'triple-fault', ...): what the fuzzer reached. */
  readonly outcomes = new Map<string, number>();

  constructor(private readonly options: DifferentialOptions = {}) {
    this.fresh = options.fresh ?? false;
    this.bare = new BareRunner(!this.fresh);
    this.strict = new MonitorRunner(true, !this.fresh);
    this.patched = new MonitorRunner(false, !this.fresh);
  }

  /** Every observation of guest `g`: bare, then each monitor mode run. */
  observe(g: FuzzGuest): { bare: Observation; monitor: Array<['strict' | 'patched', Observation | Error]> } {
    const regions = guestRegions(g);
    if (this.fresh) this.bare = new BareRunner(false);
    const bare = this.bare.run(regions);
    const monitor: Array<['strict' | 'patched', Observation | Error]> = [];
    for (const mode of patchable(g) ? ['strict', 'patched'] as const : ['strict'] as const) {
      try {
        monitor.push([mode, (mode === 'strict' ? this.strict : this.patched).run(regions, this.options.hook)]);
      } catch (e) {
        monitor.push([mode, e as Error]);
      }
    }
    return { bare, monitor };
  }

  /** Run `g` on bare and under the monitor; the first disagreement, or null. */
  check(g: FuzzGuest): Disagreement | null {
    this.guests++;
    const regions = guestRegions(g);
    if (this.fresh) this.bare = new BareRunner(false);
    const bare = this.bare.run(regions);
    const outcome = bare.reason === 'shutdown' ? `shutdown ${bare.status}` : bare.reason;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    for (const mode of patchable(g) ? ['strict', 'patched'] as const : ['strict'] as const) {
      this.runs++;
      let difference: string | null;
      try {
        // Every FULL_CHECK_EVERY guests all of memory is compared: a store that bypassed the page marks
        // (writtenPages.ts) stays in memory, never reset, until such a check finds it.
        difference = compare(bare, (mode === 'strict' ? this.strict : this.patched).run(regions, this.options.hook), this.guests % FULL_CHECK_EVERY === 0);
      } catch (e) {
        difference = `the host threw: ${(e as Error).stack ?? String(e)}`;
      }
      if (difference !== null) return { mode, difference };
    }
    return null;
  }
}

let shared: DifferentialRunner | null = null;
/** Check one guest on a shared runner (reused machines). */
export function checkGuest(g: FuzzGuest): Disagreement | null {
  shared ??= new DifferentialRunner();
  return shared.check(g);
}
