// The user programs, built by xk's own toolchain: the committed assembly in
// user/gen (gcc -S output, see generateUserAssembly.ts) plus user/lib/crt0.S and
// user/usys.S go through xk's assembler, and xk's linker links each program with
// crt0 and the user library. No C compiler is needed at run time.
//
// The library is linked the way `ld` treats an archive (libulib.a in
// user/BUILD.md): a library object goes in only when it defines a symbol that is
// still undefined, so a program may define its own `strlen` without a clash.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../toolchain/assembler/assembler.js';
import { readElf } from '../toolchain/elf/reader.js';
import { SHN_UNDEF, STB_LOCAL } from '../toolchain/elf/elfTypes.js';
import { link } from '../toolchain/linker/link.js';
import { repositoryRoot } from '../kernel/trap/kernelText.js';
import { buildKey, readCache, writeCache } from './userProgramCache.js';

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

export class UserBuildError extends Error {}

/** Assembles one file of user/ (path relative to the repository root) with xk's assembler. */
export function assembleUserFile(relativePath: string, root = repositoryRoot()): ObjectInput {
  const file = join(root, relativePath);
  if (!existsSync(file)) throw new UserBuildError(`user programs: ${relativePath} is missing (run \`npm run gen:user\`?)`);
  const name = relativePath.replace(/^.*\//, '').replace(/\.[sS]$/, '.o');
  try {
    const object = assemble(readFileSync(file, 'utf8'), { fileName: file, includeDirs: [join(root, 'user', 'include')] }).object;
    return { name, bytes: object };
  } catch (e) {
    throw new UserBuildError(`user programs: xk's assembler rejected ${relativePath}:\n${(e as Error).message}`);
  }
}

/** The .s files of user/gen/<folder>, sorted, relative to the repository root. */
function generatedFiles(folder: string, root: string): string[] {
  const dir = join(root, 'user', 'gen', folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.s')).sort().map((f) => `user/gen/${folder}/${f}`);
}

/**
 * Which system-call stubs the user library links: user/usys.S (int $64, the
 * default) or, with XK_USYS=syscall, user/usys_syscall.S (the syscall instruction).
 */
export function usysFile(): string {
  const choice = process.env.XK_USYS ?? 'int';
  if (choice === 'syscall') return 'user/usys_syscall.S';
  if (choice === 'int') return 'user/usys.S';
  throw new UserBuildError(`XK_USYS must be 'int' or 'syscall', not '${choice}'`);
}

let libraryCache: UserLibrary | null = null;

/** crt0.o and the library objects, assembled once per process. */
export function userLibrary(): UserLibrary {
  if (libraryCache) return libraryCache;
  const root = repositoryRoot();
  const crt0 = assembleUserFile('user/lib/crt0.S', root);
  const members = [assembleUserFile(usysFile(), root), ...generatedFiles('lib', root).map((f) => assembleUserFile(f, root))];
  libraryCache = { crt0, members };
  return libraryCache;
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
export function linkWithUserLibrary(objects: ObjectInput[], library = userLibrary()): Uint8Array {
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

let binariesCache: UserBinaries | null = null;

/**
 * Every user program and user test, built by xk's toolchain: once per process,
 * and reused across runs through userProgramCache.ts unless `useDiskCache` is false.
 */
export function buildUserBinaries(useDiskCache = true): UserBinaries {
  if (binariesCache) return binariesCache;
  const root = repositoryRoot();
  const key = useDiskCache ? buildKey(root) : '';
  const cached = useDiskCache ? readCache(key) : null;
  if (cached) {
    const pick = (folder: string): Map<string, Uint8Array> => new Map([...cached]
      .filter(([k]) => k.startsWith(folder + '/')).map(([k, v]) => [k.slice(folder.length + 1), v]));
    binariesCache = { programs: pick('programs'), tests: pick('tests') };
    return binariesCache;
  }
  const library = userLibrary();
  const build = (folder: string): Map<string, Uint8Array> => {
    const out = new Map<string, Uint8Array>();
    for (const file of generatedFiles(folder, root)) {
      const name = file.replace(/^.*\//, '').replace(/\.s$/, '');
      try {
        out.set(name, linkWithUserLibrary([assembleUserFile(file, root)], library));
      } catch (e) {
        if (e instanceof UserBuildError) throw e;
        throw new UserBuildError(`user programs: cannot link ${name}: ${(e as Error).message}`);
      }
    }
    return out;
  };
  binariesCache = { programs: build('programs'), tests: build('tests') };
  if (useDiskCache) {
    const entries = (folder: string, m: Map<string, Uint8Array>): [string, Uint8Array][] => [...m].map(([k, v]) => [`${folder}/${k}`, v]);
    writeCache(key, new Map([...entries('programs', binariesCache.programs), ...entries('tests', binariesCache.tests)]));
  }
  return binariesCache;
}

/** The default root's executables: the user programs and the user tests, name -> ELF bytes. */
export function buildUserPrograms(): Map<string, Uint8Array> {
  const { programs, tests } = buildUserBinaries();
  return new Map([...programs, ...tests]);
}
