// The host's gcc, for what still asks for it by name: `xk run --cc gcc prog.c`
// and the tests that use gcc as the oracle for xk cc. The default user programs
// are built by xk cc (userBuild.ts) and need no gcc.

import { execFileSync } from 'node:child_process';

/**
 * The flags of user/BUILD.md, plus -fno-ident (no compiler-version string in
 * the output). -S writes assembly instead of an object file.
 */
export const GEN_CFLAGS = [
  '-ffreestanding', '-fno-pic', '-fno-pie', '-fno-stack-protector', '-fcf-protection=none',
  '-fno-asynchronous-unwind-tables', '-fno-ident', '-mno-sse', '-mno-mmx', '-mno-80387',
  '-O1', '-Wall', '-std=gnu11',
];

/** The installed gcc's version ("13.2.0"), or null when there is no gcc. */
export function gccVersion(): string | null {
  try {
    return execFileSync('gcc', ['-dumpfullversion'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}
