// Real gdb, the oracle of the gdb stub's tests: whether it is installed (a test
// that needs it skips, saying so, where it is not; .ci/run installs Debian's),
// and gdb in batch mode.

import { spawn } from 'node:child_process';
import { have } from './tools.js';

/** The skip reason for a test that needs gdb, or false when gdb is installed. */
export const GDB_MISSING: string | false = have('gdb') ? false : 'gdb is not installed (.ci/run installs it)';

/** `gdb -batch -nx` with each of `commands` as an -ex; resolves with everything gdb printed (both streams, as they came). */
export async function gdbBatch(commands: string[]): Promise<string> {
  return (await gdbBatchStreams(commands)).both;
}

/**
 * The same, with gdb's two streams apart as well: each is in gdb's order, but
 * how they interleave in `both` depends on the host's scheduling.
 */
export function gdbBatchStreams(commands: string[]): Promise<{ stdout: string; stderr: string; both: string }> {
  return new Promise((resolve, reject) => {
    const g = spawn('gdb', ['-batch', '-nx', ...commands.flatMap((c) => ['-ex', c])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', both = '';
    g.stdout.on('data', (b) => { stdout += b; both += b; });
    g.stderr.on('data', (b) => { stderr += b; both += b; });
    const timer = setTimeout(() => { g.kill('SIGKILL'); reject(new Error(`gdb timed out:\n${both}`)); }, 60_000);
    g.on('close', () => { clearTimeout(timer); resolve({ stdout, stderr, both }); });
  });
}
