// `xk objdump -d FILE`: disassemble the executable sections of an ELF64 file,
// printed exactly as GNU objdump -d prints them.

import fs from 'node:fs';
import { ElfError, objdumpElf } from '../toolchain/disassembler/elfDisassembly.js';
import { commandUsage, isOption } from './options.js';

const USAGE = commandUsage('objdump');

export async function objdumpCommand(args: string[]): Promise<number> {
  let disassemble = false;
  const files: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && !isOption('objdump', a)) { process.stderr.write(`xk objdump: unknown option '${a}'\n${USAGE}`); return 2; }
    if (a === '-d' || a === '--disassemble') disassemble = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); return 0; }
    else files.push(a);
  }
  if (!disassemble || files.length === 0) {
    process.stderr.write(`xk objdump: ${!disassemble ? 'only -d is supported' : 'no input file'}\n${USAGE}`);
    return 2;
  }
  let status = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(file));
    } catch (e) {
      process.stderr.write(`xk objdump: '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : (e as Error).message}\n`);
      status = 1;
      continue;
    }
    try {
      process.stdout.write(objdumpElf(bytes, file));
    } catch (e) {
      if (!(e instanceof ElfError)) throw e;
      process.stderr.write(`xk objdump: ${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
