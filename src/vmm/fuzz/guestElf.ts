// A fuzz guest as a bootable ELF image (guest/README.md's boot protocol): one
// PT_LOAD segment per region of its initial memory, entry at the program. This
// is how the guest runs as a process of the xk kernel (its `vm` program) and
// under `xk vm IMAGE`.

import { PF_R, PF_W, PF_X, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_PROGBITS } from '../../toolchain/elf/elfTypes.js';
import { headersSize, writeExecutable, type ExecutableSection, type ExecutableSegment } from '../../toolchain/elf/executableWriter.js';
import { HARNESS, PROGRAM, guestRegions, type FuzzGuest } from './guestGenerator.js';

const PAGE = 4096;

export function guestElf(g: FuzzGuest): Uint8Array {
  const regions = guestRegions(g);
  const segments: ExecutableSegment[] = [];
  const sections: ExecutableSection[] = [];
  let offset = Math.ceil(headersSize(regions.length) / PAGE) * PAGE;
  for (const [at, data] of regions) {
    const code = at === HARNESS || at === PROGRAM;
    segments.push({ type: PT_LOAD, flags: code ? PF_R | PF_X : PF_R | PF_W, offset, vaddr: at, filesz: data.length, memsz: data.length, align: PAGE });
    sections.push({
      name: code ? (at === PROGRAM ? '.text' : '.text.harness') : '.data', type: SHT_PROGBITS,
      flags: SHF_ALLOC | (code ? SHF_EXECINSTR : SHF_WRITE), addr: at, offset, size: data.length, align: 16, data,
    });
    offset = Math.ceil((offset + data.length) / PAGE) * PAGE;
  }
  return writeExecutable({ entry: PROGRAM, segments, sections, symbols: [] });
}
