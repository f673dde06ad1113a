// `xk trace [--all] [--trace-json FILE] [run options] PROGRAM [ARGS...]`: run a
// program and show, for each system call, the path it took from the user stub
// through int $64, the IDT, alltraps, trap(), syscall(), sys_*, and back by iretq.

import { writeFileSync } from 'node:fs';
import type { TraceEvent } from '../kernel/traceEvents.js';
import { traceSession } from '../trace/hardwareTracer.js';
import { renderText } from '../trace/textRenderer.js';
import { renderChromeTrace } from '../trace/chromeTrace.js';
import { exitCode, parseRunArguments, startCliSession } from './runCommand.js';
import { commandUsage } from './options.js';
import type { Session } from '../kernel/boot/session.js';
import { kernelMonitorWithStates } from '../vmm/vmStateCodec.js';
import { virtualClock } from '../vmm/monitor.js';
import { exitSummaryText, VmPathTracer } from '../vmm/vmTrace.js';

export async function traceCommand(args: string[]): Promise<number> {
  const parsed = parseRunArguments('trace', args);
  if (typeof parsed === 'string') {
    process.stderr.write(parsed + '\n');
    return 2;
  }
  if ('help' in parsed) { process.stdout.write(parsed.help); return 0; }
  if (!parsed.options.program) {
    process.stderr.write(`xk trace: which program?\n${commandUsage('trace')}`);
    return 2;
  }
  const events: TraceEvent[] = [];
  let session: Session | string | undefined;
  // A VM under the kernel (the vm program): its traps are the monitor's path, traced by
  // src/vmm/vmTrace.ts; the hardware tracer's view of the same traps is left out.
  const isVm = (pid: number): boolean => typeof session === 'object' && session.kernel.procs.live().some((p) => p.pid === pid && p.guest !== undefined);
  const sink = (e: TraceEvent): void => {
    if (e.pid !== 0 && (e.layer !== 'kernel' || e.step === 'trap') && isVm(e.pid)) return;
    if (e.step === 'exit' && isVm(e.pid)) vmTracer.stopped(e.pid, e.text);
    events.push(e);
  };
  const vmTracer = new VmPathTracer((e) => { events.push(e); }, {
    host: 'kernel',
    count: () => (typeof session === 'object' ? session.machine.cpu.instructionCount : 0),
    guestClock: virtualClock,
    pid: () => (typeof session === 'object' ? session.kernel.current?.pid ?? 0 : 0),
  });
  session = await startCliSession('xk trace', parsed.options, { trace: sink, input: '', monitor: kernelMonitorWithStates(() => ({ onEvent: vmTracer.listener })) });
  if (typeof session === 'string') {
    process.stderr.write(session + '\n');
    return 1;
  }
  try {
    session.kernel.files.consoleInputEnd(); // a traced program reads no terminal input
    if (!traceSession(session, sink)) process.stderr.write('xk trace: stopped after 50000000 instructions\n');
    process.stdout.write(renderText(events, { all: parsed.extras.has('--all') }));
    if (vmTracer.summaries().length > 0) process.stdout.write('\n' + exitSummaryText(vmTracer.summaries()));
    const jsonFile = parsed.extras.get('--trace-json');
    if (jsonFile !== undefined) {
      try {
        writeFileSync(jsonFile, renderChromeTrace(events));
      } catch (e) {
        process.stderr.write(`xk trace: cannot write ${jsonFile}: ${(e as Error).message}\n`);
        return 1;
      }
    }
    return session.kernel.exitStatus === null ? exitCode('xk trace', session) : session.kernel.exitStatus & 0xff;
  } finally {
    session.close();
  }
}
