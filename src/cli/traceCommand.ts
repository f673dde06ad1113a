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
  const sink = (e: TraceEvent): void => {
    events.push(e);
  };
  const session = await startCliSession('xk trace', parsed.options, { trace: sink, input: '' });
  if (typeof session === 'string') {
    process.stderr.write(session + '\n');
    return 1;
  }
  try {
    session.kernel.files.consoleInputEnd(); // a traced program reads no terminal input
    if (!traceSession(session, sink)) process.stderr.write('xk trace: stopped after 50000000 instructions\n');
    process.stdout.write(renderText(events, { all: parsed.extras.has('--all') }));
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
