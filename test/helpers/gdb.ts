// Real gdb, the oracle of the gdb stub's tests: whether it is installed (a test
// that needs it skips, saying so, where it is not; .ci/run installs Debian's),
// and gdb in batch mode.

import { spawn } from 'node:child_process';
import { have } from './tools.js';

/** The skip reason for a test that needs gdb, or false when gdb is installed. */
export const GDB_MISSING: string | false = have('gdb') ? false : 'gdb is not installed (.ci/run installs it)';

/** `gdb -batch -nx` with each of `commands` as an -ex; resolves with everything gdb printed. */
export function gdbBatch(commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const g = spawn('gdb', ['-batch', '-nx', ...commands.flatMap((c) => ['-ex', c])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    g.stdout.on('data', (b) => (out += b));
    g.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => { g.kill('SIGKILL'); reject(new Error(`gdb timed out:\n${out}`)); }, 60_000);
    g.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}
