// The guest kernel (guest/*.S) built by xk's own assembler and linker, from
// sources given as text, as the web page and its build need it: one object per
// file, linked at 1 MiB and entered at _start (guest/README.md).

import { assemble } from '../toolchain/assembler/assembler.js';
import { link } from '../toolchain/linker/link.js';

/** The guest's source files, in link order. */
export const GUEST_SOURCE_FILES = ['boot.S', 'trap.S', 'proc.S', 'vm.S', 'timer.S', 'console.S', 'user.S'];

/**
 * guest.elf from `read('guest/boot.S')` etc. (#include "defs.h" reads guest/defs.h);
 * `userSource` replaces guest/user.S (the playground's guest example).
 */
export function buildGuestImage(read: (path: string) => string | undefined, userSource?: string): Uint8Array {
  const readFile = (path: string): string => {
    const text = read(path.replace(/^\.\//, ''));
    if (text === undefined) throw new Error(`no file ${path}`);
    return text;
  };
  const objects = GUEST_SOURCE_FILES.map((name) => ({
    name: name.replace(/\.S$/, '.o'),
    bytes: assemble(name === 'user.S' && userSource !== undefined ? userSource : readFile(`guest/${name}`),
      { fileName: `guest/${name}`, includeDirs: ['guest'], readFile }).object,
  }));
  return link(objects, { entry: '_start', textAddress: 0x100000 });
}
