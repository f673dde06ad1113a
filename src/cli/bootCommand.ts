// `xk boot IMAGE`: boot a kernel image on the bare xk machine.
//
// The image (ELF64) is loaded at its physical addresses (bootImage.ts) and the
// CPU starts at its entry point in the machine's reset state: flat 64-bit
// mode, CPL 0, paging off, interrupts disabled. Serial output goes to stdout.
// The run ends when the CPU halts with no interrupt that can wake it, on a
// triple fault, at the instruction limit, or when the guest writes its exit
// status to the shutdown port.

import { formatAddress } from '../machine/address.js';
import { Machine, type StopReason } from '../machine/machine.js';
import { ShutdownPort, SHUTDOWN_PORT } from '../machine/devices/shutdownPort.js';
import { BootImageError, loadBootImage, readBootImage } from '../toolchain/bootImage.js';
import * as fs from 'node:fs';
import { parseCount, readImageCommandLine, UsageError } from './imageCommandLine.js';
import { SECTOR_SIZE } from '../machine/devices/disk.js';
import { MachineTarget } from '../gdb/machineTarget.js';
import { parseGdbEndpoint, serveGdb } from '../gdb/server.js';
import { commandUsage } from './options.js';

export { ShutdownPort, SHUTDOWN_PORT };

export const DEFAULT_MEMORY_MIB = 16;
export const DEFAULT_MAX_INSTRUCTIONS = 50_000_000;
export const MAX_MEMORY_MIB = 1024;

const USAGE = commandUsage('boot', `  Boots an ELF64 kernel image on the bare machine: PT_LOAD segments are copied
  to their physical addresses, the CPU starts at the entry point at CPL 0 with
  paging off. Serial output (COM1) goes to stdout.

  With --disk-image FILE the machine has a disk (ports 0x1F0-0x1FC, IRQ 14;
  docs/disk.md): FILE's sectors, read at boot; the guest's writes are not
  saved to FILE. --disk instant makes its queued commands take no time.

  Exit status: the byte the kernel writes to port 0x${SHUTDOWN_PORT.toString(16)}; 0 if it halts
  without one; 1 for a triple fault or the instruction limit; 2 for bad usage.
`);

export interface BootOptions {
  maxInstructions?: number;
  timerInterval?: number;
  memoryBytes?: number;
  serialOut?: (bytes: Uint8Array) => void;
  /** Called after the image is loaded, before the first instruction (tests, tracing). */
  beforeRun?: (machine: Machine) => void;
  /**
   * The machine's disk (ports 0x1F0-0x1FC, IRQ 14; src/machine/devices/disk.ts):
   * its contents, a multiple of 512 bytes (--disk-image FILE). Without it the
   * bare machine has no disk.
   */
  disk?: Uint8Array;
  /** 'timed' (the default): queued commands take machine time; 'instant': none (--disk). */
  diskLatency?: 'timed' | 'instant';
}

export interface BootResult {
  reason: StopReason;
  /** The status written to the shutdown port, if any. */
  shutdownStatus: number | undefined;
  message: string;
  instructions: number;
  machine: Machine;
}

/** A fresh machine with the image loaded, stopped at its entry point. Throws BootImageError for a bad image. */
export function prepareBoot(elf: Uint8Array, name: string, options: BootOptions = {}): { machine: Machine; shutdown: ShutdownPort } {
  const image = readBootImage(elf, name);
  const machine = new Machine({
    memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_MIB * 1024 * 1024,
    timerInterval: options.timerInterval,
    serialOut: options.serialOut,
    disk: options.disk,
  });
  if (machine.devices.disk) machine.devices.disk.instant = options.diskLatency === 'instant';
  const shutdown = new ShutdownPort(machine);
  machine.ports.register(SHUTDOWN_PORT, 1, shutdown);
  loadBootImage(machine.memory, image, name); // a fresh machine has no decoded code to invalidate
  machine.cpu.rip = image.entry;
  options.beforeRun?.(machine);
  return { machine, shutdown };
}

/** Boot an ELF image on a fresh machine and run it. Throws BootImageError for a bad image. */
export function bootImage(elf: Uint8Array, name: string, options: BootOptions = {}): BootResult {
  const { machine, shutdown } = prepareBoot(elf, name, options);
  const reason = machine.run(options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS);
  return { reason, shutdownStatus: shutdown.status, message: machine.stopMessage, instructions: machine.cpu.instructionCount, machine };
}


/** ", at rip 0x... (CPL n)": where the CPU was when the run ended. */
function where(result: BootResult): string {
  const { rip, cpl } = result.machine.cpu;
  return `, at rip ${formatAddress(rip)} (CPL ${cpl})`;
}

/** --disk-image FILE: the file's bytes as the disk (read once at boot; the guest's writes are not saved to FILE), or the problem. */
function readDiskImage(file: string): Uint8Array | string {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    return `cannot read the disk image '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (bytes.length === 0 || bytes.length % SECTOR_SIZE !== 0) {
    return `the disk image '${file}' is ${bytes.length} bytes: it must be a non-zero multiple of ${SECTOR_SIZE} (whole sectors)`;
  }
  return bytes;
}

export async function bootCommand(args: string[]): Promise<number> {
  const options: BootOptions = {};
  let gdb: string | undefined;
  let diskImage: string | undefined;
  const image = readImageCommandLine('boot', USAGE, args, (flag, value) => {
    if (flag === '--disk-image') {
      diskImage = value();
      if (diskImage === undefined) throw new UsageError('--disk-image needs a FILE');
    } else if (flag === '--disk') {
      const v = value();
      if (v !== 'timed' && v !== 'instant') throw new UsageError(`--disk must be 'timed' or 'instant', not '${v ?? ''}'`);
      options.diskLatency = v;
    } else if (flag === '--max-instructions') options.maxInstructions = parseCount(flag, value(), 1);
    else if (flag === '--timer') options.timerInterval = parseCount(flag, value(), 1);
    else if (flag === '--gdb') gdb = value() ?? '';
    else if (flag === '--memory') options.memoryBytes = parseCount(flag, value(), 1, MAX_MEMORY_MIB) * 1024 * 1024;
    else return false;
    return true;
  });
  if (typeof image === 'number') return image;
  if (diskImage !== undefined) {
    const disk = readDiskImage(diskImage);
    if (typeof disk === 'string') {
      process.stderr.write(`xk boot: ${disk}\n`);
      return 2;
    }
    options.disk = disk;
  }
  if (options.diskLatency && !options.disk) {
    // The bare machine has a disk only when given one: --disk alone would set the latency of nothing.
    process.stderr.write(`xk boot: --disk ${options.diskLatency} sets the latency of the machine's disk, and there is none: ` +
      `give one with --disk-image FILE (a raw image of 512-byte sectors)\n${USAGE}`);
    return 2;
  }
  const { file, elf } = image;
  if (gdb !== undefined) return bootUnderGdb(elf, file, options, gdb);
  let result: BootResult;
  try {
    result = bootImage(elf, file, { ...options, serialOut: (bytes) => process.stdout.write(bytes) });
  } catch (e) {
    if (e instanceof BootImageError) {
      process.stderr.write(`xk boot: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  switch (result.reason) {
    case 'stopped':
      if (result.shutdownStatus !== undefined) return result.shutdownStatus;
      process.stderr.write(`xk boot: stopped: ${result.message}\n`);
      return 1;
    case 'halted':
      return 0;
    case 'triple-fault':
      process.stderr.write(`xk boot: ${result.message || 'triple fault'} after ${result.instructions} instructions${where(result)}\n`);
      return 1;
    case 'limit':
      process.stderr.write(`xk boot: stopped after ${result.instructions} instructions (--max-instructions)${where(result)}\n`);
      return 1;
    case 'debug': // only with a debugger attached (--gdb)
      return 1;
  }
}

/** `xk boot IMAGE --gdb WHERE`: the machine waits at its entry point for gdb. */
async function bootUnderGdb(elf: Uint8Array, file: string, options: BootOptions, where: string): Promise<number> {
  const endpoint = parseGdbEndpoint(where);
  if (typeof endpoint === 'string') {
    process.stderr.write(`xk boot: ${endpoint}\n`);
    return 2;
  }
  // With the stub on stdio, the console goes to stderr.
  const console = 'stdio' in endpoint ? process.stderr : process.stdout;
  let prepared;
  try {
    prepared = prepareBoot(elf, file, { ...options, serialOut: (bytes) => console.write(bytes) });
  } catch (e) {
    if (e instanceof BootImageError) {
      process.stderr.write(`xk boot: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { machine, shutdown } = prepared;
  const target = new MachineTarget(machine, {
    ended: (reason, m) => (reason === 'stopped' && shutdown.status !== undefined
      ? { kind: 'exited', status: shutdown.status }
      : { kind: 'ended', message: m.stopMessage || reason }),
  });
  const how = await serveGdb(target, endpoint, (at) => process.stderr.write(`xk boot: waiting for gdb on ${at}\n`));
  if (how === 'exited') return shutdown.status ?? 1;
  if (how !== 'detach') return 1;
  // Detached: the machine runs on by itself.
  const reason = machine.run(options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS);
  if (reason === 'stopped' && shutdown.status !== undefined) return shutdown.status;
  return reason === 'halted' ? 0 : 1;
}
