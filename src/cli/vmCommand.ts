// `xk vm IMAGE [--strict] [--no-patch] [--memory MiB] [--max-instructions N] [--stats] [--save-at N STATE]`,
// `xk vm --resume STATE [--max-instructions N] [--stats] [--save-at N STATE2 [--portable]]`,
// either with `--trace [--all] [--trace-json FILE]` (the VM path, src/vmm/vmTrace.ts):
// boot a guest kernel image as a virtual machine under the trap-and-emulate
// monitor (src/vmm). The guest's serial output goes to stdout; the exit status
// is the status the guest wrote to its shutdown port.

import * as fs from 'node:fs';
import { BootImageError } from '../toolchain/bootImage.js';
import { parseCount, readImageCommandLine, UsageError } from './imageCommandLine.js';
import { commandUsage } from './options.js';
import { VmTarget } from '../gdb/vmTarget.js';
import { parseGdbEndpoint, serveGdb } from '../gdb/server.js';
import { prepareVm, type RunVmOptions } from '../vmm/vmRunner.js';
import type { VmHost, VmResult } from '../vmm/host.js';
import { loadVmState, savePortableState, saveVmState, VmStateError } from '../vmm/vmState.js';
import { exitSummaryText, VmPathTracer } from '../vmm/vmTrace.js';
import { virtualClock } from '../vmm/monitor.js';
import type { TraceEvent } from '../kernel/traceEvents.js';
import { renderText } from '../trace/textRenderer.js';
import { renderChromeTrace } from '../trace/chromeTrace.js';

const USAGE = commandUsage('vm');


export async function vmCommand(args: string[]): Promise<number> {
  let stats = false;
  let gdb: string | undefined;
  let saveAt: { n: number; file: string } | undefined;
  let resume: string | undefined;
  let trace = false, traceAll = false, portable = false;
  let traceJson: string | undefined;
  const options: RunVmOptions = {};
  const option = (flag: string, value: () => string | undefined): boolean => {
    if (flag === '--strict') options.strict = true;
    else if (flag === '--no-patch') options.patch = false;
    else if (flag === '--stats') stats = true;
    else if (flag === '--trace') trace = true;
    else if (flag === '--portable') portable = true;
    else if (flag === '--all') traceAll = true;
    else if (flag === '--trace-json') {
      traceJson = value();
      if (traceJson === undefined) throw new UsageError('--trace-json needs a file');
      trace = true;
    }
    else if (flag === '--gdb') gdb = value() ?? '';
    else if (flag === '--memory') options.memoryMiB = parseCount(flag, value(), 4, 16);
    else if (flag === '--max-instructions') options.maxInstructions = parseCount(flag, value(), 1);
    else if (flag === '--save-at') {
      const n = parseCount(flag, value(), 1);
      const file = value();
      if (file === undefined) throw new UsageError('--save-at needs N and a state file');
      saveAt = { n, file };
    } else return false;
    return true;
  };
  if (args.includes('--help') || args.includes('-h')) { process.stdout.write(USAGE); return 0; }
  // --resume STATE stands for the image: give the parser a placeholder operand.
  const i = args.indexOf('--resume');
  if (i >= 0) {
    resume = args[i + 1];
    if (resume === undefined) {
      process.stderr.write(`xk vm: --resume needs a state file\n${USAGE}`);
      return 2;
    }
    args = [...args.slice(0, i), ...args.slice(i + 2)];
    for (const a of args) {
      if (['--strict', '--no-patch', '--memory', '--gdb'].includes(a) || !a.startsWith('-')) {
        process.stderr.write(`xk vm: ${a.startsWith('-') ? a : 'an image'} cannot be given with --resume (the state file has the VM)\n${USAGE}`);
        return 2;
      }
    }
    args.push(resume);
  }
  const image = readImageCommandLine('vm', USAGE, args, option);
  if (typeof image === 'number') return image;
  const { file, elf } = image;
  if (gdb !== undefined) return vmUnderGdb(elf, file, options, gdb);
  const serialOut = (bytes: Uint8Array): void => { process.stdout.write(bytes); };
  let host: VmHost;
  try {
    if (resume !== undefined) {
      host = loadVmState(elf, serialOut);
      process.stderr.write(`xk vm: resuming ${file} at guest instruction ${host.guestClock()}\n`);
    } else host = prepareVm(elf, file, { ...options, serialOut });
  } catch (e) {
    if (e instanceof VmStateError) {
      process.stderr.write(`xk vm: cannot resume '${file}': ${e.message}\n`);
      return 2;
    }
    if (e instanceof BootImageError || (e instanceof Error && e.message.startsWith('vm:'))) {
      process.stderr.write(`xk vm: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const limit = options.maxInstructions ?? 50_000_000;
  const events: TraceEvent[] = [];
  const tracer = trace
    ? new VmPathTracer((e) => { events.push(e); }, { host: 'vmhost', count: virtualClock, guestClock: virtualClock, pid: () => 1 })
    : undefined;
  if (tracer) host.vm.onEvent = tracer.listener;
  /** --trace: the VM path so far, then the exits by reason (false: the JSON file could not be written). */
  const printTrace = (result: VmResult): boolean => {
    if (!tracer) return true;
    if (result.reason !== 'limit') tracer.stopped(host.vm, `${result.reason}: ${result.message}`);
    const named = (): string => 'vm';
    process.stdout.write(renderText(events, { all: traceAll, processName: named }) + '\n' + exitSummaryText(tracer.summaries()));
    if (traceJson === undefined) return true;
    try {
      fs.writeFileSync(traceJson, renderChromeTrace(events, named));
      return true;
    } catch (e) {
      process.stderr.write(`xk vm: cannot write ${traceJson}: ${(e as Error).message}\n`);
      return false;
    }
  };
  let result: VmResult;
  if (saveAt !== undefined && saveAt.n > host.guestClock()) {
    result = host.run(Math.min(limit, saveAt.n) - host.guestClock());
    if (result.reason === 'limit' && saveAt.n <= limit) {
      try {
        fs.writeFileSync(saveAt.file, portable ? savePortableState(host.portableParts(), host.machine.strictVirtualization) : saveVmState(host));
      } catch (e) {
        process.stderr.write(`xk vm: cannot write '${saveAt.file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        return 2;
      }
      process.stderr.write(`xk vm: saved the VM after ${host.guestClock()} guest instructions to ${saveAt.file}\n`);
      return printTrace(result) ? 0 : 1;
    }
  } else {
    if (saveAt !== undefined) process.stderr.write(`xk vm: the VM is already past instruction ${saveAt.n}; not saving\n`);
    result = host.run(Math.max(1, limit - host.guestClock()));
  }
  if (!printTrace(result)) return 1;
  if (stats) {
    process.stderr.write(`xk vm: ${result.guestInstructions} guest instructions, ${result.exits} exits\n`);
    for (const [kind, n] of [...result.exitKinds].sort((a, b) => b[1] - a[1])) process.stderr.write(`  ${kind.padEnd(20)} ${n}\n`);
  }
  if (result.reason === 'shutdown') return result.status ?? 0;
  if (saveAt !== undefined) process.stderr.write(`xk vm: the VM ended before instruction ${saveAt.n}; nothing saved\n`);
  process.stderr.write(`xk vm: the VM was stopped (${result.reason}): ${result.message}\n`);
  return 1;
}

/** `xk vm IMAGE --gdb WHERE`: the guest waits at its entry point; gdb sees it as a real machine. */
async function vmUnderGdb(elf: Uint8Array, file: string, options: RunVmOptions, where: string): Promise<number> {
  const endpoint = parseGdbEndpoint(where);
  if (typeof endpoint === 'string') {
    process.stderr.write(`xk vm: ${endpoint}\n`);
    return 2;
  }
  const console = 'stdio' in endpoint ? process.stderr : process.stdout;
  let host;
  try {
    host = prepareVm(elf, file, { ...options, serialOut: (bytes) => console.write(bytes) });
  } catch (e) {
    if (e instanceof BootImageError || (e instanceof Error && e.message.startsWith('vm:'))) {
      process.stderr.write(`xk vm: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let status = 1;
  const target = new VmTarget(host);
  const how = await serveGdb(target, endpoint, (at) => process.stderr.write(`xk vm: waiting for gdb on ${at}\n`));
  if (how === 'detach') {
    const result = host.run(options.maxInstructions ?? 50_000_000);
    if (result.reason === 'shutdown') status = result.status ?? 0;
  } else if (how === 'exited') status = 0;
  return status;
}
