// `xk run [--disk timed|instant] [--fs DIR] [--image FILE] [--memory MiB] [--timer N] [--check-fetch] [PROGRAM [ARGS...]]`:
// boot xk and run a program
// as its first process, with the console on this terminal; exits with the
// program's exit status. Without PROGRAM it boots /init (which starts sh).

import * as fs from 'node:fs';
import { defaultUserPrograms, programImage, programName } from './programImage.js';
import { startSession, type Session, type SessionOptions } from '../kernel/boot/session.js';
import { enableFetchCheck, fetchCheckSummary, FetchChecker } from '../kernel/mem/fetchChecker.js';
import { fetchRecorder } from '../kernel/mem/copyin.js';
import { kernelMonitorWithStates } from '../vmm/vmStateCodec.js';
import { MachineTarget } from '../gdb/machineTarget.js';
import { kernelMonitor as gdbMonitor } from '../gdb/monitorCommands.js';
import { kernelView } from '../gdb/kernelView.js';
import { parseGdbEndpoint, serveGdb } from '../gdb/server.js';
import type { StopEvent } from '../gdb/target.js';
import { commandUsage, findOption, HELP_FLAGS, RUN_OPTIONS } from './options.js';

export interface CommonOptions {
  fsDir?: string;
  imagePath?: string;
  memoryBytes?: number;
  timerInterval?: number;
  /** --disk: the file system on the timed disk (default) or the instant one. */
  disk?: 'timed' | 'instant';
  program?: { path: string; image: Uint8Array; argv: string[] };
}

/**
 * Options before PROGRAM, as the table (options.ts) lists them for `name` (run,
 * trace): the shared RUN_OPTIONS go into `options`, the command's own ones into
 * `extras` (flag -> value, '' for a flag without one). -h/--help: the usage text.
 */
export function parseRunArguments(
  name: 'run' | 'trace',
  args: string[],
): { options: CommonOptions; extras: Map<string, string> } | { help: string } | string {
  const command = `xk ${name}`;
  const options: CommonOptions = {};
  const extras = new Map<string, string>();
  let i = 0;
  const value = (): string | undefined => (i + 1 < args.length ? args[++i] : undefined);
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const flag = args[i];
    if (HELP_FLAGS.includes(flag)) return { help: commandUsage(name) };
    const spec = findOption(name, flag);
    if (spec === undefined) return `${command}: unknown option '${flag}'`;
    if (RUN_OPTIONS.includes(spec)) {
      const name = flag;
      const v = value();
      if (v === undefined) return `${command}: ${name} needs a value`;
      if (name === '--fs') options.fsDir = v;
      else if (name === '--image') options.imagePath = v;
      else if (name === '--disk') {
        if (v !== 'timed' && v !== 'instant') return `${command}: --disk must be 'timed' or 'instant', not '${v}'`;
        options.disk = v;
      }
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) return `${command}: ${name} needs a positive integer, got '${v}'`;
        if (name === '--memory') options.memoryBytes = n * 1024 * 1024;
        else options.timerInterval = n;
      }
    } else if (spec.value === undefined) {
      extras.set(spec.flag, '');
    } else {
      const v = value();
      if (v === undefined) return `${command}: ${flag} needs a value`;
      extras.set(spec.flag, v);
    }
  }
  if (i < args.length) {
    const file = args[i];
    const compiler = extras.get('--cc') ?? 'xk';
    if (compiler !== 'xk' && compiler !== 'gcc') return `${command}: --cc must be 'xk' or 'gcc', not '${compiler}'`;
    const image = programImage(command, file, compiler);
    if (typeof image === 'string') return image;
    options.program = { path: programName(file), image, argv: [programName(file), ...args.slice(i + 1)] };
  }
  return { options, extras };
}

/**
 * Run a session with the console on this terminal: serial output to stdout,
 * stdin lines to the serial port (end of input reads as end of file).
 */
export async function runInteractive(session: Session): Promise<void> {
  const serial = session.machine.devices.serial;
  let inputEnded = false;
  const onData = (chunk: Buffer): void => serial.feed(new Uint8Array(chunk));
  const onEnd = (): void => {
    inputEnded = true;
  };
  process.stdin.on('data', onData);
  process.stdin.on('end', onEnd);
  let endDelivered = false;
  const k = session.kernel;
  try {
    while (!session.run(500_000)) {
      if (inputEnded && !endDelivered && !serial.dataReady) {
        // A program sees end of file. /init would only start a new shell at end of
        // file, so when everyone waits for input that will never come, the run ends.
        if (session.programMode) {
          k.files.consoleInputEnd();
          endDelivered = true;
        } else if (waitingForInputOnly(session)) {
          return;
        }
      }
      // Let stdin deliver; while the kernel idles, do not spin the host.
      const idle = session.kernel.current === null;
      await new Promise((resolve) => (idle ? setTimeout(resolve, 2) : setImmediate(resolve)));
    }
  } finally {
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    process.stdin.pause();
  }
}

/** Nothing runs and nothing sleeps on the clock: only input could wake anyone. */
function waitingForInputOnly(session: Session): boolean {
  const k = session.kernel;
  return k.current === null && k.procs.live().every((p) => p.state === 'zombie' || (p.state === 'sleeping' && p.chan !== k.ticksChannel));
}

export async function startCliSession(command: string, options: CommonOptions, extra: Partial<SessionOptions> = {}): Promise<Session | string> {
  try {
    return await startSession({
      ...options,
      // The user programs built by xk's toolchain; --fs DIR may replace any of them.
      programs: defaultUserPrograms(command),
      output: (bytes) => process.stdout.write(bytes),
      monitor: kernelMonitorWithStates(), // vmrun boots guests (and resumes saved VMs) under src/vmm's monitor
      ...extra,
    });
  } catch (e) {
    return `${command}: ${(e as Error).message}`;
  }
}

/** The process exit status for a finished session. */
export function exitCode(command: string, session: Session): number {
  const status = session.kernel.exitStatus;
  if (status === null && session.stopMessage() === '') return 0; // the input ended (xk run with /init)
  if (status === null) {
    process.stderr.write(`${command}: ${session.stopMessage() || 'the machine stopped'}\n`);
    return 70;
  }
  return status & 0xff;
}

export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseRunArguments('run', args);
  if (typeof parsed === 'string') {
    process.stderr.write(parsed + '\n');
    return 2;
  }
  if ('help' in parsed) { process.stdout.write(parsed.help); return 0; }
  if (parsed.extras.has('--gdb')) return runUnderGdb(parsed.options, parsed.extras.get('--gdb')!);
  let monitor: SessionOptions['monitor'] | undefined;
  const vmSave = parsed.extras.get('--vm-save-at');
  if (vmSave !== undefined) {
    // --vm-save-at N:STATE: the first VM is saved (src/vmm/vmState.ts, portable) and ends; later ones run as usual.
    const m = /^(\d+):(.+)$/.exec(vmSave);
    if (!m || Number(m[1]) < 1) {
      process.stderr.write(`xk run: --vm-save-at needs N:STATE (N guest instructions, a host file), not '${vmSave}'\n`);
      return 2;
    }
    const file = m[2];
    let armed = true;
    monitor = kernelMonitorWithStates(() => {
      const saveAt = armed ? { instructions: Number(m[1]), write: (state: Uint8Array) => fs.writeFileSync(file, state) } : undefined;
      armed = false;
      return { saveAt };
    });
  }
  const session = await startCliSession('xk run', parsed.options, monitor ? { monitor } : {});
  if (typeof session === 'string') {
    process.stderr.write(session + '\n');
    return 1;
  }
  // --check-fetch is the same switch as XK_CHECK_FETCH=1 (fetchChecker.ts); without it, the environment decides.
  if (parsed.extras.has('--check-fetch')) enableFetchCheck((line) => process.stderr.write(`xk --check-fetch: ${line}\n`));
  try {
    await runInteractive(session);
    const checker = fetchRecorder();
    if (checker instanceof FetchChecker && process.env.NODE_TEST_CONTEXT === undefined) {
      process.stderr.write(`xk --check-fetch: ${fetchCheckSummary(checker)}\n`);
    }
    return exitCode('xk run', session);
  } finally {
    session.close();
  }
}

/**
 * `xk run --gdb WHERE [PROGRAM]`: the kernel boots and stops at its first
 * instruction (trapret, about to iretq into the first process); gdb sees the
 * whole machine, and `monitor` commands print the kernel's state.
 */
async function runUnderGdb(options: CommonOptions, where: string): Promise<number> {
  const endpoint = parseGdbEndpoint(where);
  if (typeof endpoint === 'string') {
    process.stderr.write(`xk run: ${endpoint}\n`);
    return 2;
  }
  const console = 'stdio' in endpoint ? process.stderr : process.stdout;
  const session = await startCliSession('xk run', options, { output: (bytes) => console.write(bytes) });
  if (typeof session === 'string') {
    process.stderr.write(session + '\n');
    return 1;
  }
  try {
    const ended = (): StopEvent => (session.kernel.exitStatus !== null
      ? { kind: 'exited', status: session.kernel.exitStatus & 0xff }
      : { kind: 'ended', message: session.stopMessage() || 'the machine stopped' });
    const target = new MachineTarget(session.machine, {
      run: (n) => (session.run(n) ? ended() : null),
      monitor: gdbMonitor(kernelView(session.kernel), session.machine, (file, bytes) => fs.writeFileSync(file, bytes)),
    });
    const how = await serveGdb(target, endpoint, (at) => process.stderr.write(`xk run: waiting for gdb on ${at}\n`));
    if (how === 'detach') await runInteractive(session); // the program runs on by itself
    else if (how !== 'exited') return 1;
    return exitCode('xk run', session);
  } finally {
    session.close();
  }
}
