// `xk ld`: link relocatable objects into a static executable.
//
//   xk ld a.o b.o -o prog [-e entry] [-Ttext ADDR] [-Map FILE | -M]

import * as fs from 'node:fs';
import { ElfError } from '../toolchain/elf/elfTypes.js';
import { LinkError, linkWithMap } from '../toolchain/linker/link.js';
import type { LinkOptions } from '../toolchain/linker/link.js';
import { commandUsage, isOption } from './options.js';

const USAGE = commandUsage('ld');

function parseAddress(text: string): number | undefined {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

export async function ldCommand(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`xk ld: ${message}\n`);
    return 1;
  };
  const files: string[] = [];
  let output = 'a.out';
  let mapFile: string | undefined;
  let printMap = false;
  const options: LinkOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // Options take their value as the next argument or after '=' (-Map=FILE, -Ttext=ADDR).
    const value = (name: string): string | undefined => {
      if (arg.startsWith(name + '=')) return arg.slice(name.length + 1);
      if (arg === name) return args[++i];
      return undefined;
    };
    const named = (name: string): boolean => arg === name || arg.startsWith(name + '=');
    if (arg === '-h' || arg === '--help') { process.stdout.write(USAGE); return 0; }
    // Only the options the table (options.ts) lists; values may follow '=' or, for -o, be glued on.
    if (arg.startsWith('-') && arg !== '-' && !isOption('ld', arg.startsWith('-o') ? '-o' : arg.split('=')[0])) {
      return fail(`unknown option '${arg}'\n${USAGE.trimEnd()}`);
    }
    if (named('-o')) {
      const v = value('-o');
      if (v === undefined) return fail('-o needs a file name');
      output = v;
    } else if (arg.startsWith('-o') && arg.length > 2) {
      output = arg.slice(2);
    } else if (named('-e') || named('--entry')) {
      const v = named('-e') ? value('-e') : value('--entry');
      if (v === undefined) return fail('-e needs a symbol name');
      options.entry = v;
    } else if (named('-Ttext') || named('--Ttext')) {
      const v = named('-Ttext') ? value('-Ttext') : value('--Ttext');
      const address = v === undefined ? undefined : parseAddress(v);
      if (address === undefined) return fail(`-Ttext needs an address such as 0x400000${v === undefined ? '' : `, not '${v}'`}`);
      options.textAddress = address;
    } else if (named('-Map')) {
      const v = value('-Map');
      if (v === undefined) return fail('-Map needs a file name');
      mapFile = v;
    } else if (arg === '-M' || arg === '--print-map') {
      printMap = true;
    } else if (arg === '-static' || arg === '-nostdlib' || arg === '--static') {
      // Always true here: accepted so GNU ld command lines work unchanged.
    } else if (arg.startsWith('-') && arg !== '-') {
      return fail(`unknown option '${arg}'\n${USAGE.trimEnd()}`);
    } else {
      files.push(arg);
    }
  }
  if (files.length === 0) return fail(`no input files\n${USAGE.trimEnd()}`);

  const objects: { name: string; bytes: Uint8Array }[] = [];
  for (const name of files) {
    try {
      objects.push({ name, bytes: new Uint8Array(fs.readFileSync(name)) });
    } catch (e) {
      return fail(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  let result;
  try {
    result = linkWithMap(objects, options);
  } catch (e) {
    if (e instanceof LinkError || e instanceof ElfError) {
      return fail(e.message.split('\n').join('\nxk ld: '));
    }
    throw e;
  }
  try {
    fs.writeFileSync(output, result.executable, { mode: 0o755 });
    fs.chmodSync(output, 0o755);
    if (mapFile !== undefined) fs.writeFileSync(mapFile, result.map);
  } catch (e) {
    return fail(`cannot write: ${(e as Error).message}`);
  }
  if (printMap) process.stdout.write(result.map);
  return 0;
}
