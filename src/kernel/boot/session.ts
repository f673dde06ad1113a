// One run of xk: a machine, a root file system, the kernel booted on them, and
// the run loop until the first process exits. Used by `xk run`, `xk trace` and tests.

import { Machine } from '../../machine/machine.js';
import type { TraceSink } from '../traceEvents.js';
import { boot, DEFAULT_TIMER_INTERVAL } from './boot.js';
import { fileLayerFor } from '../files/fileLayerAdapter.js';
import { openMemoryDisk, type MountedDisk } from '../fs/image.js';
import { DiskCrash } from '../fs/blockDevice.js';
import { BlockDeviceSectors } from '../fs/diskBlocks.js';
import type { Kernel } from '../kernel.js';
import { DEFAULT_MEMORY_BYTES } from '../mem/kernelLayout.js';
import type { AssemblerChoice } from '../trap/kernelText.js';
import type { VirtualMachineMonitorFactory } from '../proc/virtualMachine.js';

export interface SessionOptions {
  /** Run this executable as the first process; without it, /init from the file system. */
  program?: { path: string; image: Uint8Array; argv: string[] };
  /** Host directory copied into the file system (--fs DIR). */
  fsDir?: string;
  /** Host disk image (--image FILE). */
  imagePath?: string;
  /** Extra files for a fresh file system: name -> bytes (user programs). */
  programs?: Map<string, Uint8Array>;
  memoryBytes?: number;
  timerInterval?: number;
  assembler?: AssemblerChoice;
  /** BootOptions.entrySource: the kernel's entry assembly as text (the web page). */
  entrySource?: string;
  trace?: TraceSink;
  /** The virtual-machine monitor for vmrun (BootOptions.monitor). */
  monitor?: VirtualMachineMonitorFactory;
  /** Console output (the serial port). */
  output: (bytes: Uint8Array) => void;
  /**
   * The disk the file system is on: 'timed' (default) is the machine's disk,
   * whose requests take time and interrupt (IRQ 14) while other processes run;
   * 'instant' reads and writes the image at once, as if the disk took no time.
   */
  disk?: 'timed' | 'instant';
  /** Console input available from the start. */
  input?: Uint8Array | string;
  /** After `input`, the console reads end of file (runToCompletion). */
  inputEnds?: boolean;
}

export interface Session {
  machine: Machine;
  kernel: Kernel;
  disk: MountedDisk;
  /** True when the first process is the given program (not /init). */
  programMode: boolean;
  /** Run until the first process exits or `maxInstructions` more have run; true when finished. */
  run(maxInstructions: number): boolean;
  /** Why the machine last stopped, in words. */
  stopMessage(): string;
  close(): void;
}

export async function startSession(options: SessionOptions): Promise<Session> {
  const diskOptions = { imagePath: options.imagePath, hostDir: options.fsDir, programs: options.programs };
  // A host image file or directory needs the host's file system (fs/hostFiles.ts, loaded only then).
  const disk = options.imagePath !== undefined || options.fsDir !== undefined
    ? (await import('../fs/hostFiles.js')).openRootDisk(diskOptions)
    : openMemoryDisk(diskOptions);
  const timedDisk = (options.disk ?? 'timed') === 'timed';
  const machine = new Machine({
    memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    serialOut: options.output,
    disk: timedDisk ? new BlockDeviceSectors(disk.disk) : undefined,
  });
  let kernel: Kernel;
  try {
    kernel = await boot(machine, {
      files: fileLayerFor(disk.fs, disk.disk),
      program: options.program,
      timerInterval: options.timerInterval ?? DEFAULT_TIMER_INTERVAL,
      timedDisk,
      assembler: options.assembler,
      entrySource: options.entrySource,
      trace: options.trace,
      monitor: options.monitor,
    });
  } catch (e) {
    disk.close();
    throw e;
  }
  if (options.input !== undefined) machine.devices.serial.feed(options.input);
  let finished = false;
  let message = '';
  return {
    machine,
    kernel,
    disk,
    programMode: options.program !== undefined,
    run(maxInstructions: number): boolean {
      if (finished) return true;
      let reason;
      try {
        reason = machine.run(maxInstructions);
      } catch (e) {
        // crashn(): the disk lost power in the middle of a system call; the machine is off.
        if (!(e instanceof DiskCrash)) throw e;
        finished = true;
        message = `the disk crashed (crashn): ${e.message}`;
        return true;
      }
      if (reason === 'limit' || reason === 'debug') return false; // 'debug': the gdb stub's stop
      finished = true;
      message = machine.stopMessage;
      return true;
    },
    stopMessage: () => message,
    close: () => disk.close(),
  };
}

/** Run a session to completion (tests): the first process's exit status, and the reason. */
export async function runToCompletion(
  options: SessionOptions,
  maxInstructions = 200_000_000,
): Promise<{ status: number | null; message: string; session: Session }> {
  const session = await startSession(options);
  try {
    let ran = 0;
    const slice = 1_000_000;
    let endDelivered = false;
    while (!session.run(slice)) {
      ran += slice;
      if (options.inputEnds && !endDelivered && !session.machine.devices.serial.dataReady) {
        session.kernel.files.consoleInputEnd();
        endDelivered = true;
      }
      if (ran >= maxInstructions) return { status: null, message: `still running after ${ran} instructions`, session };
    }
    return { status: session.kernel.exitStatus, message: session.stopMessage(), session };
  } finally {
    session.close();
  }
}
