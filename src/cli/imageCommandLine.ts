// The command line shared by `xk boot` and `xk vm`: options, then one kernel image.

import * as fs from 'node:fs';
import { isOption } from './options.js';

export class UsageError extends Error {}

/** An integer option value in [min, max], or a UsageError naming the flag. */
export function parseCount(flag: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = text === undefined ? NaN : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} needs an integer from ${min} to ${max}, got '${text ?? ''}'`);
  }
  return n;
}

/**
 * Parse `xk COMMAND [options] IMAGE` and read IMAGE. `option(flag, value)` handles
 * one option (calling `value()` to take its argument) and returns false for an
 * unknown one. Returns the image, or the exit status after printing the problem.
 */
export function readImageCommandLine(
  command: string,
  usage: string,
  args: string[],
  option: (flag: string, value: () => string | undefined) => boolean,
): { file: string; elf: Uint8Array } | number {
  let file: string | undefined;
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--help' || a === '-h') { process.stdout.write(usage); return 0; }
      if (a.startsWith('-')) {
        // Only what the command's table (options.ts) lists, so help and parsing agree.
        if (!isOption(command, a) || !option(a, () => args[++i])) throw new UsageError(`unknown option '${a}'`);
      } else if (file === undefined) file = a;
      else throw new UsageError(`only one image, got '${file}' and '${a}'`);
    }
    if (file === undefined) throw new UsageError('no image given');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`xk ${command}: ${e.message}\n${usage}`);
    return 2;
  }
  try {
    return { file, elf: new Uint8Array(fs.readFileSync(file)) };
  } catch (e) {
    process.stderr.write(`xk ${command}: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
}
