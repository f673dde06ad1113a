// A cache of the user programs built by xk's toolchain, so that `xk run` does
// not assemble and link them again at every start. It lives in a private
// folder under the host's temporary directory; the key is a hash of everything
// the build reads: the user sources (the C files, crt0.S, usys.S, the headers) and
// the code of the toolchain itself, so a changed assembler never reuses old
// output. Any problem with the cache just means building again.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every file under `dir` (sorted, recursively) whose name passes `keep`. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p, keep));
    else if (keep(entry.name)) out.push(p);
  }
  return out;
}

/** The hash of the user sources under `root` and of the toolchain code that builds them. */
export function buildKey(root: string): string {
  const here = dirname(fileURLToPath(import.meta.url)); // src/build or dist/src/build
  const code = (name: string): boolean => /\.(js|ts)$/.test(name) && !name.endsWith('.d.ts');
  const files = [
    ...filesUnder(join(root, 'user'), (name) => /\.(c|s|S|h)$/.test(name)),
    ...filesUnder(join(here, '..', 'toolchain'), code),
    ...filesUnder(join(here, '..', 'isa'), code),
    ...filesUnder(here, (name) => /^userProgram/.test(name) && code(name)),
  ];
  const hash = createHash('sha256');
  hash.update(`XK_USYS=${process.env.XK_USYS ?? 'int'}\0`); // which stubs the library links (userPrograms.ts)
  for (const f of files) hash.update(f.slice(root.length)).update('\0').update(fs.readFileSync(f)).update('\0');
  return hash.digest('hex').slice(0, 32);
}

/** This user's cache folder (created private), or null when it cannot be used safely. */
function cacheDir(): string | null {
  try {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    const dir = join(os.tmpdir(), `xk-cache-${uid}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    // Someone else's folder (a shared /tmp) could hold planted programs: do not use it.
    if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/** Cached name -> bytes for `key`, or null. */
export function readCache(key: string): Map<string, Uint8Array> | null {
  const dir = cacheDir();
  if (!dir) return null;
  try {
    const entries = JSON.parse(fs.readFileSync(join(dir, `user-${key}.json`), 'utf8')) as [string, string][];
    return new Map(entries.map(([name, b64]) => [name, new Uint8Array(Buffer.from(b64, 'base64'))]));
  } catch {
    return null;
  }
}

/** Stores `binaries` under `key` (written to a temporary name first, so readers never see half a file). */
export function writeCache(key: string, binaries: Map<string, Uint8Array>): void {
  const dir = cacheDir();
  if (!dir) return;
  const file = join(dir, `user-${key}.json`);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, JSON.stringify([...binaries].map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')])));
    fs.renameSync(temporary, file);
    // Builds for older sources or toolchains will not be asked for again.
    for (const old of fs.readdirSync(dir)) {
      if (/^user-[0-9a-f]+\.json$/.test(old) && old !== `user-${key}.json`) fs.rmSync(join(dir, old), { force: true });
    }
  } catch {
    fs.rmSync(temporary, { force: true });
  }
}
