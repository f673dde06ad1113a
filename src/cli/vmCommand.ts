// `xk vm IMAGE [--strict] [--no-patch] [--memory MiB] [--max-instructions N] [--stats]`:
// boot a guest kernel image as a virtual machine under the trap-and-emulate
// monitor (src/vmm). The guest's serial output goes to stdout; the exit status
// is the status the guest wrote to its shutdown port.

import { BootImageError } from '../toolchain/bootImage.js';
import { parseCount, readImageCommandLine } from './imageCommandLine.js';
import { commandUsage } from './options.js';
import { VmTarget } from '../gdb/vmTarget.js';
import { parseGdbEndpoint, serveGdb } from '../gdb/server.js';
import { prepareVm, runVm, type RunVmOptions, type RunVmResult } from '../vmm/vmRunner.js';

const USAGE = commandUsage('vm');


export async function vmCommand(args: string[]): Promise<number> {
  let stats = false;
  let gdb: string | undefined;
  const options: RunVmOptions = {};
  const image = readImageCommandLine('vm', USAGE, args, (flag, value) => {
    if (flag === '--strict') options.strict = true;
    else if (flag === '--no-patch') options.patch = false;
    else if (flag === '--stats') stats = true;
    else if (flag === '--gdb') gdb = value() ?? '';
    else if (flag === '--memory') options.memoryMiB = parseCount(flag, value(), 4, 16);
    else if (flag === '--max-instructions') options.maxInstructions = parseCount(flag, value(), 1);
    else return false;
    return true;
  });
  if (typeof image === 'number') return image;
  const { file, elf } = image;
  if (gdb !== undefined) return vmUnderGdb(elf, file, options, gdb);
  let result: RunVmResult;
  try {
    result = runVm(elf, file, { ...options, serialOut: (bytes) => process.stdout.write(bytes) });
  } catch (e) {
    if (e instanceof BootImageError || (e instanceof Error && e.message.startsWith('vm:'))) {
      process.stderr.write(`xk vm: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (stats) {
    process.stderr.write(`xk vm: ${result.guestInstructions} guest instructions, ${result.exits} exits\n`);
    for (const [kind, n] of [...result.exitKinds].sort((a, b) => b[1] - a[1])) process.stderr.write(`  ${kind.padEnd(20)} ${n}\n`);
  }
  if (result.reason === 'shutdown') return result.status ?? 0;
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
