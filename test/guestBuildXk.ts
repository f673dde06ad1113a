// Builds the guest kernel (guest/*.S) with xk's own assembler and linker.
// (A separate file from guestBuild.ts, so that tests that only need the GNU
// build do not load the toolchain.)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { link } from '../src/toolchain/linker/link.js';
import { GUEST_DIR, GUEST_SOURCES, type GuestBuild } from './guestBuild.js';

let cachedXk: GuestBuild | undefined;

/** Assemble and link the guest with xk's toolchain (cached). Throws the toolchain's errors. */
export function buildGuestWithXk(): GuestBuild {
  if (cachedXk) return cachedXk;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-guest-xk-'));
  const objects: { name: string; bytes: Uint8Array }[] = [];
  for (const source of GUEST_SOURCES) {
    const file = path.join(GUEST_DIR, source);
    const { object } = assemble(fs.readFileSync(file, 'utf8'), { fileName: file, includeDirs: [GUEST_DIR], defines: {}, readFile: (p) => fs.readFileSync(p, 'utf8') });
    const name = source.replace(/\.S$/, '.o');
    fs.writeFileSync(path.join(dir, name), object);
    objects.push({ name, bytes: object });
  }
  const elf = link(objects, { entry: '_start', textAddress: 0x100000 });
  const elfPath = path.join(dir, 'guest.elf');
  fs.writeFileSync(elfPath, elf);
  cachedXk = { dir, elfPath, elf };
  return cachedXk;
}
