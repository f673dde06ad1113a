// Building the user programs from their sources with xk's own toolchain, given
// the files as text: user/lib/crt0.S, a usys stub file, and the C files of
// user/lib, user/programs and user/tests, compiled by xk cc (-O1, the level
// user/BUILD.md gives gcc), assembled by xk as, linked by xk ld. No host file system is
// touched here, so the web page builds the same programs from bundled sources;
// userPrograms.ts is the Node side, reading the repository and caching the result.
//
// The library is linked the way `ld` treats an archive (libulib.a in
// user/BUILD.md): a library object goes in only when it defines a symbol that is
// still undefined, so a program may define its own `strlen` without a clash.

import { assemble } from '../toolchain/assembler/assembler.js';
import { readElf } from '../toolchain/elf/reader.js';
import { SHN_UNDEF, STB_LOCAL } from '../toolchain/elf/elfTypes.js';
import { link } from '../toolchain/linker/link.js';
import { compileC } from '../toolchain/cc/compile.js';

export interface ObjectInput {
  name: string;
  bytes: Uint8Array;
}

export interface UserLibrary {
  /** crt0.o: `_start`, always linked first. */
  crt0: ObjectInput;
  /** usys.o and the compiled user/lib/*.c, in order: the "archive". */
  members: ObjectInput[];
}

export interface UserBinaries {
  /** user/programs: init, sh, cat, ... -> ELF executable. */
  programs: Map<string, Uint8Array>;
  /** user/tests: filetest, proctest, ... -> ELF executable. */
  tests: Map<string, Uint8Array>;
}

/** The user sources, by path relative to the repository root ('user/lib/crt0.S'). */
export interface UserSourceFiles {
  /** The file's text, or undefined when there is no such file. */
  read(relativePath: string): string | undefined;
  /** The .c files of user/<folder> (not its subfolders), sorted, as relative paths. */
  cSources(folder: 'lib' | 'programs' | 'tests'): string[];
}

export class UserBuildError extends Error {}

/** Assembles one file of user/ with xk's assembler; #include looks in user/include. */
export function assembleUserSource(relativePath: string, files: UserSourceFiles): ObjectInput {
  const text = files.read(relativePath);
  if (text === undefined) throw new UserBuildError(`user programs: ${relativePath} is missing`);
  const name = relativePath.replace(/^.*\//, '').replace(/\.[sS]$/, '.o');
  const readFile = (p: string): string => {
    const included = files.read(p);
    if (included === undefined) throw new Error(`no file ${p}`);
    return included;
  };
  try {
    return { name, bytes: assemble(text, { fileName: relativePath, includeDirs: ['user/include'], readFile }).object };
  } catch (e) {
    throw new UserBuildError(`user programs: xk's assembler rejected ${relativePath}:\n${(e as Error).message}`);
  }
}

/** The optimization level of the default user programs (user/BUILD.md builds them with gcc -O1). */
export const USER_OPTIMIZE = 1;

/** Compiles one C file of user/ with xk cc (#include looks beside it, then in user/include) and assembles it. */
export function compileUserSource(relativePath: string, files: UserSourceFiles): ObjectInput {
  const text = files.read(relativePath);
  if (text === undefined) throw new UserBuildError(`user programs: ${relativePath} is missing`);
  const name = relativePath.replace(/^.*\//, '').replace(/\.c$/, '.o');
  const r = compileC(text, relativePath, {
    includeDirs: [relativePath.replace(/\/[^/]*$/, ''), 'user/include'], defines: {}, optimize: USER_OPTIMIZE,
    readFile: (p) => files.read(p.replace(/^\.\//, '')) ?? null,
  });
  if (r.assembly === undefined) throw new UserBuildError(`user programs: xk cc rejected ${relativePath}:\n${r.errors.join('\n')}`);
  try {
    return { name, bytes: assemble(r.assembly, { fileName: relativePath.replace(/\.c$/, '.s'), includeDirs: [], readFile: () => { throw new Error('no .include in compiled C'); } }).object };
  } catch (e) {
    throw new UserBuildError(`user programs: xk's assembler rejected xk cc's output for ${relativePath}:\n${(e as Error).message}`);
  }
}

/** crt0.o and the library "archive": the usys stubs (`usysPath`) and user/lib/*.c. */
export function buildUserLibrary(files: UserSourceFiles, usysPath = 'user/usys.S'): UserLibrary {
  const crt0 = assembleUserSource('user/lib/crt0.S', files);
  const members = [assembleUserSource(usysPath, files), ...files.cSources('lib').map((f) => compileUserSource(f, files))];
  return { crt0, members };
}

/** Global symbols an object defines and the ones it uses without defining. */
function symbolsOf(object: ObjectInput): { defines: Set<string>; uses: Set<string> } {
  const defines = new Set<string>();
  const uses = new Set<string>();
  for (const s of readElf(object.bytes, object.name).symbols) {
    if (s.bind === STB_LOCAL || s.name === '') continue;
    (s.shndx === SHN_UNDEF ? uses : defines).add(s.name);
  }
  return { defines, uses };
}

/**
 * Links `objects` into an executable with crt0 first (unless they define their
 * own `_start`) and the library members that are needed (repeatedly, since one
 * member may need another). Throws LinkError (from the linker) for undefined or
 * doubly defined symbols.
 */
export function linkWithLibrary(objects: ObjectInput[], library: UserLibrary): Uint8Array {
  const defined = new Set<string>();
  const wanted = new Set<string>();
  const add = (o: ObjectInput): void => {
    const { defines, uses } = symbolsOf(o);
    for (const d of defines) defined.add(d);
    for (const u of uses) wanted.add(u);
  };
  objects.forEach(add);
  const chosen = [...objects];
  if (!defined.has('_start')) {
    add(library.crt0);
    chosen.unshift(library.crt0);
  }
  const remaining = [...library.members];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < remaining.length; i++) {
      const { defines } = symbolsOf(remaining[i]);
      if ([...defines].some((d) => wanted.has(d) && !defined.has(d))) {
        add(remaining[i]);
        chosen.push(remaining[i]);
        remaining.splice(i, 1);
        changed = true;
        break;
      }
    }
  }
  return link(chosen);
}

/** Every user program and user test (user/programs/*.c, user/tests/*.c), each linked with the library. */
export function buildUserBinariesFrom(files: UserSourceFiles, library: UserLibrary): UserBinaries {
  const build = (folder: 'programs' | 'tests'): Map<string, Uint8Array> => {
    const out = new Map<string, Uint8Array>();
    for (const file of files.cSources(folder)) {
      const name = file.replace(/^.*\//, '').replace(/\.c$/, '');
      try {
        out.set(name, linkWithLibrary([compileUserSource(file, files)], library));
      } catch (e) {
        if (e instanceof UserBuildError) throw e;
        throw new UserBuildError(`user programs: cannot link ${name}: ${(e as Error).message}`);
      }
    }
    return out;
  };
  return { programs: build('programs'), tests: build('tests') };
}
