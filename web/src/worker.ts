// The emulator's side of the page: a Web Worker that builds the user programs
// with xk's toolchain, boots xk to the shell, and runs the editor's programs,
// so the page never freezes while the machine runs. Messages: protocol.ts.

import { startSession, type Session } from '../../src/kernel/boot/session.js';
import { buildUserBinariesFrom, buildUserLibrary, linkWithLibrary, type UserLibrary } from '../../src/build/userBuild.js';
import { assemble } from '../../src/toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../../src/toolchain/assembler/assemblyError.js';
import { link } from '../../src/toolchain/linker/link.js';
import { kernelMonitor } from '../../src/vmm/kernelProcess.js';
import { setConsoleEcho } from '../../src/kernel/files/console.js';
import type { TraceEvent } from '../../src/kernel/traceEvents.js';
import { traceSession } from '../../src/trace/hardwareTracer.js';
import { renderText } from '../../src/trace/textRenderer.js';
import { episodes, isEpisode } from '../../src/trace/episodes.js';
import entrySource from '../../src/kernel/trap/trapEntry.S?raw';
import { bundledSources, guestSources } from './userSources.js';
import type { FromWorker, PathPicture, ToWorker } from './protocol.js';

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

/** The user programs and tests, and the guest kernel as guest.elf: built once, by xk's own toolchain. */
function rootPrograms(): Map<string, Uint8Array> {
  if (programs) return programs;
  post({ kind: 'status', text: 'assembling and linking the user programs with xk as and xk ld...' });
  library = buildUserLibrary(bundledSources);
  const { programs: progs, tests } = buildUserBinariesFrom(bundledSources, library);
  programs = new Map([...progs, ...tests]);
  const guest = guestSources();
  if (guest.length > 0) {
    const readFile = (p: string): string => {
      const text = bundledSources.read(p.replace(/^\.\//, ''));
      if (text === undefined) throw new Error(`no file ${p}`);
      return text;
    };
    const objects = guest.map(({ name, text }) => ({
      name: name.replace(/\.S$/, '.o'),
      bytes: assemble(text, { fileName: `guest/${name}`, includeDirs: ['guest'], readFile }).object,
    }));
    programs.set('guest.elf', link(objects, { entry: '_start', textAddress: 0x100000 }));
  }
  return programs;
}

/** The running machine; a new boot or a program run replaces it (runs are numbered so old loops stop). */
let current: Session | null = null;
let generation = 0;

async function runLoop(session: Session, mine: number, onExit: () => void): Promise<void> {
  while (mine === generation) {
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
    // Let input arrive; when nothing can run, do not spin.
    const idle = session.kernel.current === null;
    await new Promise((resolve) => setTimeout(resolve, idle ? 10 : 0));
  }
}

async function bootShell(): Promise<void> {
  const mine = ++generation;
  current?.close();
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

/** The line of the editor an assembler error points at (1-based), or 0. */
function errorLine(e: unknown): number {
  return e instanceof AssemblyErrors && e.errors.length > 0 ? e.errors[0].position.line : 0;
}

async function runProgram(source: string, fileName: string, trace: boolean): Promise<void> {
  const progs = rootPrograms();
  let image: Uint8Array;
  try {
    const readFile = (p: string): string => {
      const text = bundledSources.read(p.replace(/^\.\//, ''));
      if (text === undefined) throw new Error(`no file ${p}`);
      return text;
    };
    const object = assemble(source, { fileName, includeDirs: ['user/include'], readFile }).object;
    image = linkWithLibrary([{ name: fileName.replace(/\.[sS]$/, '.o'), bytes: object }], library!);
  } catch (e) {
    post({ kind: 'buildError', line: errorLine(e), message: (e as Error).message });
    return;
  }
  const mine = ++generation;
  current?.close();
  const events: TraceEvent[] = [];
  const name = fileName.replace(/\.[sS]$/, '');
  post({ kind: 'output', text: `\r\n\x1b[2m--- xk run ${name}${trace ? ' (traced)' : ''} ---\x1b[0m\r\n` });
  setConsoleEcho(true);
  const session = await startSession({
    program: { path: name, image, argv: [name] },
    programs: progs,
    entrySource,
    monitor: kernelMonitor,
    trace: trace ? (e) => events.push(e) : undefined,
    output: (bytes) => post({ kind: 'output', text: latin1(bytes) }),
  });
  setConsoleEcho(true);
  current = session;
  if (trace) {
    session.kernel.files.consoleInputEnd(); // a traced program reads no terminal input
    const finished = traceSession(session, (e) => events.push(e), 20_000_000);
    post({ kind: 'trace', text: renderText(events), paths: pictures(events) });
    post({ kind: 'exited', status: session.kernel.exitStatus, message: finished ? session.stopMessage() : 'stopped after 20000000 instructions' });
    if (mine === generation) await bootShell();
    return;
  }
  await runLoop(session, mine, () => {
    if (mine === generation) void bootShell();
  });
}

/** The system calls of a traced run, step by step, for the pictures. */
function pictures(events: TraceEvent[]): PathPicture[] {
  return episodes(events).filter(isEpisode).filter((e) => e.isSyscall).map((e) => ({
    title: e.title,
    pid: e.pid,
    steps: e.events.map((s) => ({ count: s.count, layer: s.layer, step: s.step, text: s.text })),
  }));
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  const fail = (e: unknown): void => post({ kind: 'output', text: `\r\nxk: ${(e as Error).message}\r\n` });
  switch (m.kind) {
    case 'boot': void bootShell().catch(fail); break;
    case 'input': current?.machine.devices.serial.feed(m.text); break;
    case 'interrupt': current?.machine.devices.serial.feed('\x03'); break;
    case 'run': void runProgram(m.source, m.fileName, m.trace).catch(fail); break;
  }
};
