// The user programs for a run on the host: userBuild.ts does the building with
// xk's own toolchain; this file reads the sources from the repository, picks the
// system-call stubs (XK_USYS), and caches the executables across runs
// (userProgramCache.ts). No C compiler is needed at run time.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../kernel/trap/kernelTextFiles.js';
import { buildKey, readCache, writeCache } from './userProgramCache.js';
import {
  assembleUserSource, buildUserBinariesFrom, buildUserLibrary, linkWithLibrary, UserBuildError,
  type ObjectInput, type UserBinaries, type UserLibrary, type UserSourceFiles,
} from './userBuild.js';

export { UserBuildError, type ObjectInput, type UserBinaries, type UserLibrary };

/** The repository's user/ sources, read from the host file system. */
export function repositorySources(root = repositoryRoot()): UserSourceFiles {
  return {
    read: (relativePath) => {
      const file = join(root, relativePath);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    cSources: (folder) => {
      const dir = join(root, 'user', folder);
      if (!existsSync(dir)) return [];
      return readdirSync(dir).filter((f) => f.endsWith('.c')).sort().map((f) => `user/${folder}/${f}`);
    },
  };
}

/** Assembles one file of user/ (path relative to the repository root) with xk's assembler. */
export function assembleUserFile(relativePath: string, root = repositoryRoot()): ObjectInput {
  return assembleUserSource(relativePath, repositorySources(root));
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
  libraryCache ??= buildUserLibrary(repositorySources(), usysFile());
  return libraryCache;
}

/** Links `objects` with crt0 and the user library members they need (userBuild.ts). */
export function linkWithUserLibrary(objects: ObjectInput[], library = userLibrary()): Uint8Array {
  return linkWithLibrary(objects, library);
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
  binariesCache = buildUserBinariesFrom(repositorySources(root), userLibrary());
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
