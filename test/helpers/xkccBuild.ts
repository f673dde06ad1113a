// Builds user/ C code with xk cc (src/toolchain/cc) + xk as + xk ld, the way
// test/helpers/userBuild.ts builds it with gcc + GNU ld: the user library
// (crt0.S and usys.S assembled, user/lib/*.c compiled), then programs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileC } from '../../src/toolchain/cc/compile.js';
import { assemble } from '../../src/toolchain/assembler/assembler.js';
import { assembleUserFile } from '../../src/build/userPrograms.js';
import { linkWithLibrary, type ObjectInput, type UserLibrary } from '../../src/build/userBuild.js';
import { REPO_ROOT, USER_DIR } from './userBuild.js';

export function readOrNull(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Compiles C source text with xk cc and assembles it; throws with the compiler's
 * messages. `rewrite` changes the assembly first (a test's injected codegen bug).
 */
export function xkccObject(source: string, file: string, optimize = 0, defines: Record<string, string> = {}, includeDirs: string[] = [], rewrite: (assembly: string) => string = (a) => a): ObjectInput {
  const r = compileC(source, file, { includeDirs: [...includeDirs, path.join(USER_DIR, 'include'), path.dirname(file)], defines, optimize, readFile: readOrNull });
  if (r.assembly === undefined) throw new Error(`xk cc rejected ${file}:\n${r.errors.join('\n')}`);
  const name = path.basename(file).replace(/\.c$/, '.o');
  try {
    return { name, bytes: assemble(rewrite(r.assembly), { fileName: name.replace(/\.o$/, '.s'), includeDirs: [], readFile: (p) => fs.readFileSync(p, 'utf8') }).object };
  } catch (e) {
    throw new Error(`xk as rejected xk cc's output for ${file}:\n${(e as Error).message}`);
  }
}

/** crt0 and the user library with every user/lib/*.c compiled by xk cc. */
export function xkccUserLibrary(optimize = 0): UserLibrary {
  const lib = path.join(USER_DIR, 'lib');
  const members = [assembleUserFile('user/usys.S', REPO_ROOT)];
  for (const f of fs.readdirSync(lib).filter((n) => n.endsWith('.c')).sort()) {
    const file = path.join(lib, f);
    members.push(xkccObject(fs.readFileSync(file, 'utf8'), file, optimize));
  }
  return { crt0: assembleUserFile('user/lib/crt0.S', REPO_ROOT), members };
}

/** Compiles user/<relative>.c with xk cc and links it with `library`. */
export function xkccUserProgram(relative: string, library: UserLibrary, optimize = 0): Uint8Array {
  const file = path.join(USER_DIR, relative);
  return linkWithLibrary([xkccObject(fs.readFileSync(file, 'utf8'), file, optimize)], library);
}

/** The .c files under user/ (programs, lib, tests and their folders, examples), relative to user/. */
export function userCFiles(dir = USER_DIR, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === 'gen') continue;
    if (e.isDirectory()) out.push(...userCFiles(path.join(dir, e.name), prefix + e.name + '/'));
    else if (e.name.endsWith('.c')) out.push(prefix + e.name);
  }
  return out;
}
