// The differential monitor fuzzer's runner and comparison: one guest
// (guestGenerator.ts) on the bare machine (src/machine) and under the monitor
// (src/vmm/host.ts, as `xk vm` runs it: strict, and patched when the guest's
// code can be swept), then every observable compared: the stop reason, the
// shutdown status, the guest's clock (instructions retired), the general
// registers and RIP, every byte of guest memory and the serial output. The
// monitor must never throw: a host exception is a disagreement too.

import { Machine } from '../../machine/machine.js';
import { ShutdownPort, SHUTDOWN_PORT } from '../../machine/devices/shutdownPort.js';
import { VmHost } from '../host.js';
import { patchSensitiveInstructions } from '../patcher.js';
import { GUEST_BYTES, HARNESS, PROGRAM, guestRegions, hasRawBytes, type FuzzGuest } from './guestGenerator.js';

/** Guest instructions each run may take (a guest normally ends in a few hundred). */
export const FUZZ_MAX_INSTRUCTIONS = 20_000;

/** What a run ended with: everything the comparison looks at. */
export interface Observation {
  reason: string;
  status: number | undefined;
  clock: number;
  registers: bigint[];
  rip: number;
  memory: Uint8Array;
  serial: string;
  message: string;
}

export function runBare(regions: Array<[number, Uint8Array]>): Observation {
  let serial = '';
  const machine = new Machine({ memoryBytes: GUEST_BYTES, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  const shutdown = new ShutdownPort(machine);
  machine.ports.register(SHUTDOWN_PORT, 1, shutdown);
  for (const [at, bytes] of regions) machine.loadPhysical(at, bytes);
  machine.cpu.rip = PROGRAM;
  const reason = machine.run(FUZZ_MAX_INSTRUCTIONS);
  const cpu = machine.cpu;
  return {
    reason: shutdown.status !== undefined ? 'shutdown' : reason, status: shutdown.status, clock: cpu.instructionCount,
    registers: Array.from({ length: 16 }, (_, i) => cpu.getReg64(i)), rip: cpu.rip,
    memory: machine.memory.bytes.subarray(0, GUEST_BYTES), serial, message: machine.stopMessage,
  };
}

export function runMonitor(regions: Array<[number, Uint8Array]>, strict: boolean): Observation {
  let serial = '';
  const host = new VmHost({ guestBytes: GUEST_BYTES, strict, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  for (const [at, bytes] of regions) {
    const data = bytes.slice();
    if (!strict && (at === HARNESS || at === PROGRAM)) {
      for (const p of patchSensitiveInstructions(data, at)) host.vm.patches.set(p.address, p.original);
    }
    host.loadGuest(at, data);
  }
  host.start(PROGRAM);
  const r = host.run(FUZZ_MAX_INSTRUCTIONS);
  const cpu = host.machine.cpu;
  // Guest memory as the guest wrote it: where the loader planted an int3, its original byte.
  const memory = host.machine.memory.bytes.slice(0, GUEST_BYTES);
  for (const [at, original] of host.vm.patches) if (memory[at] === 0xcc) memory[at] = original[0];
  return {
    reason: r.reason, status: r.status, clock: r.guestInstructions,
    registers: Array.from({ length: 16 }, (_, i) => cpu.getReg64(i)), rip: cpu.rip, memory, serial, message: r.message,
  };
}

const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** The first difference between the bare machine's run and the monitor's, or null. */
export function compare(bare: Observation, vm: Observation): string | null {
  if (vm.reason !== bare.reason) return `stop reason: bare ${bare.reason} (${bare.message}), monitor ${vm.reason} (${vm.message})`;
  if (vm.status !== bare.status) return `shutdown status: bare ${bare.status}, monitor ${vm.status}`;
  if (vm.clock !== bare.clock) return `guest instructions: bare ${bare.clock}, monitor ${vm.clock}`;
  if (vm.serial !== bare.serial) return `serial output: bare ${JSON.stringify(bare.serial)}, monitor ${JSON.stringify(vm.serial)}`;
  if (bare.reason === 'shutdown' || bare.reason === 'halted') {
    for (let i = 0; i < 16; i++) {
      if (vm.registers[i] !== bare.registers[i]) return `${REG_NAMES[i]}: bare 0x${bare.registers[i].toString(16)}, monitor 0x${vm.registers[i].toString(16)}`;
    }
  }
  if (!Buffer.from(vm.memory.buffer, vm.memory.byteOffset, vm.memory.length).equals(Buffer.from(bare.memory.buffer, bare.memory.byteOffset, bare.memory.length))) {
    let at = 0;
    while (vm.memory[at] === bare.memory[at]) at++;
    return `guest memory at 0x${at.toString(16)}: bare 0x${bare.memory[at].toString(16)}, monitor 0x${vm.memory[at].toString(16)}`;
  }
  return null;
}

/** How one guest fared: null if every run agreed, else the mode and the first difference. */
export interface Disagreement { mode: 'strict' | 'patched'; difference: string }

/** Run `g` on bare and under the monitor (strict; patched too if its code sweeps cleanly). */
export function checkGuest(g: FuzzGuest): Disagreement | null {
  const regions = guestRegions(g);
  const bare = runBare(regions);
  const modes: Array<'strict' | 'patched'> = hasRawBytes(g) ? ['strict'] : ['strict', 'patched'];
  for (const mode of modes) {
    let difference: string | null;
    try {
      difference = compare(bare, runMonitor(regions, mode === 'strict'));
    } catch (e) {
      difference = `the host threw: ${(e as Error).stack ?? String(e)}`;
    }
    if (difference !== null) return { mode, difference };
  }
  return null;
}
