// `xk cc [-S] [-c] [-o OUT] [-I DIR] [-D NAME[=VAL]] [-U NAME] [-O0|-O1] FILE...`:
// xk's C compiler, driven like gcc. FILE.c is compiled (src/toolchain/cc),
// FILE.s/.S assembled by xk as, FILE.o passed to the link.
//   -S   stop after compiling: write FILE.s
//   -c   stop after assembling: write FILE.o
//   (neither) link everything with crt0 and the user library (xk ld) into a.out
// Exit status: 0, 1 for a compile/assemble/link error (printed as
// file:line:col: error: ...), 2 for a usage error.

import fs from 'node:fs';
import { basename, join } from 'node:path';
import { compileC, type CompileOptions } from '../toolchain/cc/compile.js';
import { assemble } from '../toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../toolchain/assembler/assemblyError.js';
import { repositoryRoot } from '../kernel/trap/kernelTextFiles.js';
import { linkWithUserLibrary } from '../build/userPrograms.js';
import { commandUsage, isOption } from './options.js';

const USAGE = commandUsage('cc');

/** The include directory of the user library (user/include), searched after -I. */
export function userIncludeDir(): string {
  return join(repositoryRoot(), 'user', 'include');
}

function readOrNull(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** Compiles FILE.c to assembly; throws an Error with gcc-style messages on a compile error. */
export function compileFileToAssembly(file: string, options: Partial<CompileOptions> = {}, warn = (w: string) => { process.stderr.write(w + '\n'); }): string {
  const source = fs.readFileSync(file, 'utf8');
  const r = compileC(source, file, {
    includeDirs: [...(options.includeDirs ?? []), userIncludeDir()], defines: options.defines ?? {},
    undefines: options.undefines, optimize: options.optimize ?? 0, readFile: readOrNull,
  });
  r.warnings.forEach(warn);
  if (r.assembly === undefined) throw new CompileFailure(r.errors.join('\n'));
  return r.assembly;
}

export class CompileFailure extends Error {}

function assembleText(text: string, fileName: string, includeDirs: string[]): Uint8Array {
  try {
    return assemble(text, { fileName, includeDirs: [...includeDirs, userIncludeDir()], readFile: (p) => fs.readFileSync(p, 'utf8') }).object;
  } catch (e) {
    if (e instanceof AssemblyErrors) throw new CompileFailure(e.errors.map((x) => x.message).join('\n'));
    throw e;
  }
}

export async function ccCommand(args: string[]): Promise<number> {
  let mode: 'link' | 'asm' | 'object' = 'link';
  let output: string | undefined;
  const options: CompileOptions = { includeDirs: [], defines: {}, undefines: [], optimize: 0, readFile: readOrNull };
  const inputs: string[] = [];
  const usage = (message: string): number => {
    process.stderr.write(`xk cc: ${message}\n${USAGE}`);
    return 2;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const glued = /^-[oIDU]./.test(a);
    if (a.startsWith('-') && a.length > 1 && !isOption('cc', glued ? a.slice(0, 2) : a)) return usage(`unknown option '${a}'`);
    const value = (): string | undefined => (glued ? a.slice(2) : args[++i]);
    if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === '-S') mode = 'asm';
    else if (a === '-c') mode = mode === 'asm' ? 'asm' : 'object';
    else if (a === '-O0') options.optimize = 0;
    else if (a === '-O1' || a === '-O' || a === '-O2') options.optimize = 1;
    else if (a.startsWith('-o') || a.startsWith('-I') || a.startsWith('-D') || a.startsWith('-U')) {
      const v = value();
      if (v === undefined || v === '') return usage(`option ${a.slice(0, 2)} needs a value`);
      if (a.startsWith('-o')) output = v;
      else if (a.startsWith('-I')) options.includeDirs.push(v);
      else if (a.startsWith('-D')) {
        const [name, val = '1'] = v.split(/=(.*)/s);
        options.defines[name] = val;
      } else options.undefines!.push(v);
    } else if (a.startsWith('-') && a !== '-') return usage(`unknown option '${a}'`);
    else inputs.push(a);
  }
  if (inputs.length === 0) return usage('no input files');
  if (output !== undefined && mode !== 'link' && inputs.filter((f) => /\.(c|s|S)$/.test(f)).length > 1) {
    return usage("cannot specify '-o' with '-c' or '-S' with multiple files");
  }
  for (const f of inputs) if (!/\.(c|s|S|o)$/.test(f)) return usage(`${f}: file format not recognized (xk cc takes .c, .s, .S and .o files)`);
  const objects: { name: string; bytes: Uint8Array }[] = [];
  let failed = false;
  for (const file of inputs) {
    if (!fs.existsSync(file)) {
      process.stderr.write(`xk cc: error: ${file}: No such file or directory\n`);
      failed = true;
      continue;
    }
    try {
      const stem = basename(file).replace(/\.(c|s|S|o)$/, '');
      if (file.endsWith('.o')) {
        objects.push({ name: basename(file), bytes: new Uint8Array(fs.readFileSync(file)) });
        continue;
      }
      const isC = file.endsWith('.c');
      const text = isC ? compileFileToAssembly(file, options) : fs.readFileSync(file, 'utf8');
      if (mode === 'asm') {
        if (isC) fs.writeFileSync(output ?? `${stem}.s`, text);
        continue;
      }
      const object = assembleText(text, isC ? `${stem}.s` : file, options.includeDirs);
      if (mode === 'object') fs.writeFileSync(output ?? `${stem}.o`, object);
      else objects.push({ name: `${stem}.o`, bytes: object });
    } catch (e) {
      if (!(e instanceof CompileFailure)) throw e;
      process.stderr.write(e.message + '\n');
      failed = true;
    }
  }
  if (failed) return 1;
  if (mode !== 'link') return 0;
  try {
    fs.writeFileSync(output ?? 'a.out', linkWithUserLibrary(objects));
    return 0;
  } catch (e) {
    process.stderr.write(`xk cc: error: ${(e as Error).message}\n`);
    return 1;
  }
}
