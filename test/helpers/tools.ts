// Host tools the oracle tests use (gcc, GNU as, objdump, gdb...): a test that
// needs one skips with a message when it is not installed.

import { execFileSync } from 'node:child_process';

/** True when `tool --version` runs on this host. */
export function have(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
