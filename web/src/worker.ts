// The emulator's side of the page: a Web Worker that builds the user programs
// with xk's toolchain, boots xk to the shell, and runs the editor's programs,
// so the page never freezes while the machine runs. Messages: protocol.ts.

import { startSession, type Session } from '../../src/kernel/boot/session.js';
import { linkWithLibrary, type UserLibrary } from '../../src/build/userBuild.js';
import { assemble } from '../../src/toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../../src/toolchain/assembler/assemblyError.js';
import { compileC } from '../../src/toolchain/cc/compile.js';
import { buildGuestImage } from '../../src/build/guestImage.js';
import { kernelMonitor, watchedKernelMonitor } from '../../src/vmm/kernelProcess.js';
import { guestPaths, vmChromeTrace, vmEventsText, type StampedVmEvent } from './guestPaths.js';
import { setConsoleEcho } from '../../src/kernel/files/console.js';
import type { TraceEvent } from '../../src/kernel/traceEvents.js';
import { traceSession } from '../../src/trace/hardwareTracer.js';
import { renderText } from '../../src/trace/textRenderer.js';
import { episodes, isEpisode, type Episode } from '../../src/trace/episodes.js';
import { renderChromeTrace } from '../../src/trace/chromeTrace.js';
import { codeAt, machineView, trapFrameText } from './machineView.js';
import entrySource from '../../src/kernel/trap/trapEntry.S?raw';
import { bundledSources } from './userSources.js';
import prebuilt from 'virtual:xk-user-programs';
import type { FromWorker, PathPicture, PathStep, ToWorker } from './protocol.js';

const SLICE = 200_000;

function post(message: FromWorker): void {
  (self as unknown as Worker).postMessage(message);
}

const latin1 = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
};

let library: UserLibrary | null = null;
let programs: Map<string, Uint8Array> | null = null;

/** The user programs and tests, and the guest kernel as guest.elf. */
function rootPrograms(): Map<string, Uint8Array> {
  if (programs) return programs;
  // Built by xk's toolchain at build time (userBuild.ts, from vite.config.ts), so the shell is up at once.
  const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const object = (o: { name: string; bytes: string }) => ({ name: o.name, bytes: bytes(o.bytes) });
  library = { crt0: object(prebuilt.library.crt0), members: prebuilt.library.members.map(object) };
  programs = new Map(prebuilt.programs.map((p) => [p.name, bytes(p.bytes)]));
  programs.set('guest.elf', bytes(prebuilt.guest));
  return programs;
}

/** The guest kernel built here with the edited user image (the guest example). */
function buildGuest(userSource: string): Uint8Array {
  return buildGuestImage((path) => bundledSources.read(path), userSource);
}

/** A file of the bundle, for #include. */
function readBundled(path: string): string {
  const text = bundledSources.read(path.replace(/^\.\//, ''));
  if (text === undefined) throw new Error(`no file ${path}`);
  return text;
}

/** The running machine; a new boot or a program run replaces it (runs are numbered so old loops stop). */
let current: Session | null = null;
let generation = 0;
/** Paused: the run loop waits between slices; Step runs a few instructions at a time. */
let paused = false;
let inspectAddress = '';

function postMachine(): void {
  if (current) post({ kind: 'machine', view: machineView(current, inspectAddress) });
}

async function runLoop(session: Session, mine: number, onExit: () => void): Promise<void> {
  let idleSlices = 0;
  while (mine === generation) {
    if (paused) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    let finished: boolean;
    try {
      finished = session.run(SLICE);
    } catch (e) {
      post({ kind: 'output', text: `\r\nxk: the machine stopped: ${(e as Error).message}\r\n` });
      finished = true;
    }
    if (finished) {
      post({ kind: 'exited', status: session.kernel.exitStatus, message: session.stopMessage() });
      onExit();
      return;
    }
    // Let input arrive. A process waiting for the disk leaves the CPU idle for
    // a moment; only when it stays idle (everyone waits for input) does the
    // worker sleep between slices instead of spinning.
    idleSlices = session.kernel.current === null ? idleSlices + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, idleSlices > 5 ? 10 : 0));
  }
}

async function bootShell(): Promise<void> {
  const mine = ++generation;
  current?.close();
  paused = false;
  const progs = rootPrograms();
  post({ kind: 'status', text: 'booting xk...' });
  setConsoleEcho(true); // the terminal in the page does not echo: the console's line discipline does
  const session = await startSession({
    programs: progs,
    entrySource,
    monitor: kernelMonitor,
    output: (bytes) => post({ kind: 'output', text: latin1(bytes) }),
  });
  setConsoleEcho(true);
  current = session;
  post({ kind: 'status', text: 'xk is running /init and sh' });
  await runLoop(session, mine, () => { current = null; });
}

/** The line of the editor an assembler or compiler error points at (1-based), or 0. */
function errorLine(e: unknown, fileName: string): number {
  if (e instanceof CompileFailure) {
    // gcc's form, as xk cc prints it: hello.c:5:3: error: ...
    const at = e.message.split('\n').map((l) => l.startsWith(fileName + ':') ? /^[^:]+:(\d+):\d+: error:/.exec(l) : null).find((m) => m);
    return at ? Number(at[1]) : 0;
  }
  if (!(e instanceof AssemblyErrors)) return 0;
  const mine = e.errors.find((x) => x.position.file === fileName);
  return mine ? mine.position.line : 0;
}

class CompileFailure extends Error {}

/** The editor's program as an object file: C is compiled by xk cc first, then everything is assembled by xk as. */
function buildObject(source: string, fileName: string): Uint8Array {
  let assembly = source;
  let asmName = fileName;
  if (fileName.endsWith('.c')) {
    const r = compileC(source, fileName, {
      includeDirs: ['user/include'], defines: {}, optimize: 0, readFile: (p) => bundledSources.read(p) ?? null,
    });
    if (r.assembly === undefined) throw new CompileFailure([...r.errors, ...r.warnings].join('\n'));
    assembly = r.assembly;
    asmName = fileName.replace(/\.c$/, '.s');
  }
  return assemble(assembly, { fileName: asmName, includeDirs: ['user/include'], readFile: readBundled }).object;
}

async function runProgram(source: string, fileName: string, trace: boolean, guest: boolean): Promise<void> {
  let progs = rootPrograms();
  let image: Uint8Array;
  let argv = [fileName.replace(/\.[sSc]$/, '')];
  if (guest) {
    // The edited user image goes into a new guest.elf, booted by the xk kernel's vm program.
    try {
      progs = new Map(progs).set('guest.elf', buildGuest(source));
    } catch (e) {
      post({ kind: 'buildError', line: errorLine(e, fileName), message: (e as Error).message });
      return;
    }
    image = progs.get('vm')!;
    argv = ['vm', 'guest.elf'];
  } else try {
    const object = buildObject(source, fileName);
    image = linkWithLibrary([{ name: fileName.replace(/\.[sSc]$/, '.o'), bytes: object }], library!);
  } catch (e) {
    post({ kind: 'buildError', line: errorLine(e, fileName), message: (e as Error).message });
    return;
  }
  const mine = ++generation;
  current?.close();
  const events: TraceEvent[] = [];
  const code: string[] = [];
  const frames = new Map<number, string>(); // event index of each 'trap' -> the trap frame then
  let session: Session | null = null;
  const record = (e: TraceEvent): void => {
    if (session) {
      code.push(codeAt(session, session.machine.cpu.rip, 4));
      if (e.step === 'trap' && e.pid > 0) frames.set(events.length, trapFrameText(session, e.pid));
    } else {
      code.push('');
    }
    events.push(e);
  };
  const name = argv[0];
  // A traced guest: the monitor's own events (exit, emulate, deliver, resume), stamped with the machine's clock.
  const vmEvents: StampedVmEvent[] = [];
  const watchGuest = trace && guest;
  const monitor = watchGuest
    ? watchedKernelMonitor((e) => {
      if (vmEvents.length >= 200_000) return;
      // The guest's code at the event's rip, read through the page tables the CPU has now (the guest's shadow tables).
      const code = session && vmEvents.length < 20_000 ? codeAt(session, Number(BigInt.asIntN(64, e.rip)), 3) : undefined;
      vmEvents.push({ ...e, count: session?.machine.cpu.instructionCount ?? 0, code });
    })
    : kernelMonitor;
  post({ kind: 'output', text: `\r\n\x1b[2m--- xk run ${argv.join(' ')}${trace ? ' (traced)' : ''} ---\x1b[0m\r\n` });
  setConsoleEcho(true);
  paused = false;
  const started = await startSession({
    program: { path: name, image, argv },
    programs: progs,
    entrySource,
    monitor,
    trace: trace && !guest ? record : undefined,
    output: (bytes) => post({ kind: 'output', text: latin1(bytes) }),
  });
  setConsoleEcho(true);
  session = started;
  current = started;
  if (watchGuest) {
    // The guest runs at full speed (no hardware tracer); the picture is the monitor's view of its system calls.
    await runLoop(started, mine, () => {
      const json = JSON.stringify(vmEvents, (k, v: unknown) => k === 'code' ? undefined : typeof v === 'bigint' ? '0x' + BigInt.asUintN(64, v).toString(16) : v);
      post({ kind: 'trace', text: vmEventsText(vmEvents), paths: guestPaths(vmEvents), perfetto: vmChromeTrace(vmEvents), vmEvents: json });
      if (mine === generation) void bootShell();
    });
    return;
  }
  if (trace) {
    started.kernel.files.consoleInputEnd(); // a traced program reads no terminal input
    const finished = traceSession(started, record, 20_000_000);
    post({ kind: 'trace', text: renderText(events), paths: pictures(events, code, frames), perfetto: renderChromeTrace(events) });
    post({ kind: 'exited', status: started.kernel.exitStatus, message: finished ? started.stopMessage() : 'stopped after 20000000 instructions' });
    if (mine === generation) await bootShell();
    return;
  }
  await runLoop(started, mine, () => {
    if (mine === generation) void bootShell();
  });
}

/**
 * The pictures of a traced run: every system call's trip, and every signal
 * delivery from the kernel's decision to the handler's return by sigreturn.
 */
function pictures(events: TraceEvent[], code: string[], frames: Map<number, string>): PathPicture[] {
  const index = new Map(events.map((e, i) => [e, i]));
  // The page's native trace has no VM events (guest/vmm layers): a traced guest is drawn from the monitor's own events.
  const stepOf = (e: TraceEvent): PathStep => ({ count: e.count, layer: e.layer as PathStep['layer'], step: e.step, text: e.text, code: code[index.get(e)!] ?? '' });
  const frameOf = (list: TraceEvent[]): string | undefined => {
    const trap = list.find((e) => e.step === 'trap');
    return trap ? frames.get(index.get(trap)!) : undefined;
  };
  const trips = episodes(events).filter(isEpisode);
  const out: PathPicture[] = [];
  trips.forEach((trip, i) => {
    if (trip.isSyscall) out.push({ kind: 'syscall', title: trip.title, pid: trip.pid, steps: trip.events.map(stepOf), trapFrame: frameOf(trip.events) });
    const deliver = trip.events.findIndex((e) => e.step === 'signal-deliver');
    if (deliver < 0) return;
    // From the delivery to the end of the trip that ran sigreturn for it.
    const steps: TraceEvent[] = trip.events.slice(deliver);
    let end: Episode | undefined;
    for (const later of trips.slice(i + 1)) {
      if (later.pid !== trip.pid) continue;
      steps.push(...later.events);
      if (later.events.some((e) => e.step === 'sigreturn')) { end = later; break; }
    }
    if (end) out.push({ kind: 'signal', title: `signal: ${trip.events[deliver].text}`, pid: trip.pid, steps: steps.map(stepOf) });
  });
  return out;
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  const fail = (e: unknown): void => post({ kind: 'output', text: `\r\nxk: ${(e as Error).message}\r\n` });
  switch (m.kind) {
    case 'boot': void bootShell().catch(fail); break;
    case 'input': current?.machine.devices.serial.feed(m.text); break;
    case 'interrupt': current?.machine.devices.serial.feed('\x03'); break;
    case 'run': void runProgram(m.source, m.fileName, m.trace, m.guest ?? false).catch(fail); break;
    case 'pause': paused = true; postMachine(); break;
    case 'resume': paused = false; break;
    case 'step':
      if (current && paused) {
        current.run(Math.max(1, Math.min(1_000_000, m.count)));
        postMachine();
      }
      break;
    case 'inspect': inspectAddress = m.address; postMachine(); break;
  }
};
