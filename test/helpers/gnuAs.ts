// GNU as as the oracle's assembler: AT&T text in, the raw bytes of its .text section out.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Assembles AT&T text with GNU as and returns the .text section's bytes (via objcopy). */
export function assembleText(text: string): Uint8Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gnu-as-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.s'), `  .text\n${text}\n`);
    execFileSync('as', ['-o', path.join(dir, 'a.o'), path.join(dir, 'a.s')]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', path.join(dir, 'a.o'), path.join(dir, 'a.bin')]);
    return new Uint8Array(fs.readFileSync(path.join(dir, 'a.bin')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
