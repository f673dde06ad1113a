// The kernel text's host side: where the repository is, reading
// trap/trapEntry.S from it, and assembling with GNU as + ld (tests compare the
// bytes with xk's own). kernelText.ts loads this module only when it needs it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelText } from './kernelText.js';

/** Repository root, from dist/src/kernel/trap/ or src/kernel/trap/. */
export function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'src')) ? resolve(here, '../../../..') : resolve(here, '../../..');
}

/** The text of trap/trapEntry.S. */
export function readEntrySource(): string {
  const file = join(repositoryRoot(), 'src/kernel/trap/trapEntry.S');
  if (!existsSync(file)) throw new Error(`kernel: cannot find ${file}`);
  return readFileSync(file, 'utf8');
}

/** GNU as + ld + objcopy + nm (tests only). */
export function assembleWithGnu(source: string): KernelText {
  const dir = mkdtempSync(join(tmpdir(), 'xk-kernel-'));
  try {
    const src = join(dir, 'kernel.s');
    const obj = join(dir, 'kernel.o');
    const bin = join(dir, 'kernel.bin');
    writeFileSync(src, source);
    const elf = join(dir, 'kernel.elf');
    execFileSync('as', ['--64', '-o', obj, src]);
    // Link at address 0 so that calls and jumps to global labels are resolved
    // and symbol values are offsets into the block.
    execFileSync('ld', ['-Ttext', '0', '-e', '0', '-o', elf, obj]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', elf, bin]);
    const symbols = new Map<string, number>();
    for (const line of execFileSync('nm', [elf], { encoding: 'utf8' }).split('\n')) {
      const m = /^([0-9a-f]+) [tT] (\S+)$/.exec(line.trim());
      if (m) symbols.set(m[2], parseInt(m[1], 16));
    }
    return { bytes: new Uint8Array(readFileSync(bin)), symbols };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
