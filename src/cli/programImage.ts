// The executable for `xk run PROGRAM`: an ELF file as is; a .s/.S file
// assembled by xk's assembler; a .c file compiled to assembly by xk cc (or,
// with --cc gcc, by gcc -S when gcc is installed) and then assembled by xk's. Source programs are linked by
// xk's linker with crt0 and the user library (system-call stubs, printf,
// malloc, string functions), like the programs in user/.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assemble } from '../toolchain/assembler/assembler.js';
import { GEN_CFLAGS, gccVersion } from '../build/gcc.js';
import { repositoryRoot } from '../kernel/trap/kernelTextFiles.js';
import { buildUserPrograms, linkWithUserLibrary } from '../build/userPrograms.js';
import { compileFileToAssembly } from './ccCommand.js';

/** The name a program runs under: its file name without .s/.S/.c. */
export function programName(file: string): string {
  return basename(file).replace(/\.([sS]|c)$/, '');
}

/** Reads and, for a source file, builds PROGRAM; a string is an error message for the user. */
export function programImage(command: string, file: string, compiler: 'xk' | 'gcc' = 'xk'): Uint8Array | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return `${command}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const isC = /\.c$/.test(file);
  if (!isC && !/\.[sS]$/.test(file)) return new Uint8Array(bytes);
  try {
    let source = bytes.toString('utf8');
    let sourceName = file;
    if (isC && compiler === 'xk') {
      source = compileFileToAssembly(file);
      sourceName = file.replace(/\.c$/, '.s');
    } else if (isC) {
      if (gccVersion() === null) return `${command}: ${file}: running a .c file needs gcc (to compile it to assembly); build it to a .s file elsewhere`;
      source = compileC(file);
      sourceName = file.replace(/\.c$/, '.s');
    }
    const object = assemble(source, { fileName: sourceName, includeDirs: [join(repositoryRoot(), 'user', 'include')], readFile: (p) => readFileSync(p, 'utf8') }).object;
    return linkWithUserLibrary([{ name: programName(file) + '.o', bytes: object }]);
  } catch (e) {
    return `${command}: ${(e as Error).message}`;
  }
}

function compileC(file: string): string {
  try {
    return execFileSync('gcc', [...GEN_CFLAGS, '-I', join(repositoryRoot(), 'user', 'include'), '-S', '-o', '-', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`gcc could not compile ${file}:\n${err.stderr?.toString().trimEnd() ?? err.message}`);
  }
}

/** The default root's user programs (built by xk's toolchain), or none with a warning on stderr. */
export function defaultUserPrograms(command: string): Map<string, Uint8Array> {
  try {
    return buildUserPrograms();
  } catch (e) {
    process.stderr.write(`${command}: warning: the default file system has no user programs: ${(e as Error).message}\n`);
    return new Map();
  }
}
