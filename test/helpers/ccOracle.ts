// The outside oracle for xk cc: the same C program built by the host's gcc and
// run natively, against xk cc's build run on xk. Same stdout and exit status,
// or the test prints both.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runToCompletion } from '../../src/kernel/boot/session.js';
import { linkWithLibrary, type ObjectInput, type UserLibrary } from '../../src/build/userBuild.js';
import { xkccObject } from './xkccBuild.js';

export function haveGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Outcome {
  output: string;
  status: number | null;
}

/** Builds `file` (C text `source`) with host gcc and runs it natively. */
export function runNative(source: string, name: string, includeDirs: string[] = [], extraObjects: string[] = []): Outcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ccnative-'));
  try {
    const c = path.join(dir, name + '.c');
    fs.writeFileSync(c, source);
    const exe = path.join(dir, name);
    execFileSync('gcc', ['-w', '-O0', ...includeDirs.flatMap((d) => ['-I', d]), '-o', exe, c, ...extraObjects], { stdio: ['ignore', 'ignore', 'pipe'] });
    const r = spawnSync(exe, [], { encoding: 'latin1', timeout: 10_000 });
    return { output: r.stdout, status: r.status };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Links objects with the user library and runs the program on xk. */
export async function runOnXk(objects: ObjectInput[], library: UserLibrary, name = 'prog'): Promise<Outcome> {
  const image = linkWithLibrary(objects, library);
  let output = '';
  const r = await runToCompletion({
    program: { path: name, image, argv: [name] }, memoryBytes: 16 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); }, trace: () => {},
  }, 50_000_000);
  return { output, status: r.status === null ? null : r.status & 0xff };
}

/** Compiles C text with xk cc (-DXK) at `optimize`, then runs it on xk. */
export async function runXkcc(source: string, file: string, library: UserLibrary, optimize: number, includeDirs: string[] = []): Promise<Outcome> {
  return runOnXk([xkccObject(source, file, optimize, { XK: '1' }, includeDirs)], library);
}
