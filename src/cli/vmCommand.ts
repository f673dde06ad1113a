// `xk vm IMAGE [--strict] [--no-patch] [--memory MiB] [--max-instructions N] [--stats]`:
// boot a guest kernel image as a virtual machine under the trap-and-emulate
// monitor (src/vmm). The guest's serial output goes to stdout; the exit status
// is the status the guest wrote to its shutdown port.

import * as fs from 'node:fs';
import { BootImageError } from './bootImage.js';
import { runVm, type RunVmOptions, type RunVmResult } from '../vmm/vmRunner.js';

const USAGE = `usage: xk vm IMAGE [--strict] [--no-patch] [--memory MiB] [--max-instructions N] [--stats]
  --strict             the machine traps every sensitive instruction at CPL 3
  --no-patch           real x86 semantics without patching popf/pushf/sgdt/sidt/smsw/str (shows why patching is needed)
  --memory MiB         guest memory, 4 to 16 (default 16)
  --max-instructions N stop the guest after N of its instructions (default 50000000)
  --stats              print the monitor's exits by kind on stderr
`;

class UsageError extends Error {}

function parseCount(flag: string, text: string | undefined, min: number, max: number): number {
  const n = text === undefined ? NaN : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} needs an integer from ${min} to ${max}, got '${text ?? ''}'`);
  return n;
}

export async function vmCommand(args: string[]): Promise<number> {
  let file: string | undefined;
  let stats = false;
  const options: RunVmOptions = {};
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--help' || a === '-h') { process.stdout.write(USAGE); return 0; }
      if (a === '--strict') options.strict = true;
      else if (a === '--no-patch') options.patch = false;
      else if (a === '--stats') stats = true;
      else if (a === '--memory') options.memoryMiB = parseCount(a, args[++i], 4, 16);
      else if (a === '--max-instructions') options.maxInstructions = parseCount(a, args[++i], 1, Number.MAX_SAFE_INTEGER);
      else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
      else if (file === undefined) file = a;
      else throw new UsageError(`only one image, got '${file}' and '${a}'`);
    }
    if (file === undefined) throw new UsageError('no image given');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`xk vm: ${e.message}\n${USAGE}`);
    return 2;
  }
  let elf: Uint8Array;
  try {
    elf = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    process.stderr.write(`xk vm: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
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
