// A bootable guest image (the boot protocol of guest/README.md) made ready for
// the monitor, the same for both hosts: its segments as they go into
// guest-physical memory, with the unprivileged sensitive instructions of its
// executable segments patched into traps (patcher.ts), and the patch map the
// monitor needs to emulate the originals. The host copies the segments into
// its guest memory (host.ts: loadGuest, kernelProcess.ts: ShadowPaging.load).

import { readBootImage, type BootSegment } from '../toolchain/bootImage.js';
import { readElf } from '../toolchain/elf/reader.js';
import { PT_LOAD } from '../toolchain/elf/elfTypes.js';
import { patchSensitiveInstructions } from './patcher.js';

const PF_X = 1; // ELF segment flag: executable

export interface GuestImage {
  entry: number;
  /** The loadable segments; data is a patched copy where patching applies. */
  segments: BootSegment[];
  /** Guest-physical address of each patched instruction -> its original bytes. */
  patches: Map<number, Uint8Array>;
}

/** Read and patch `elf`. Throws BootImageError for a bad image. */
export function prepareGuestImage(elf: Uint8Array, name: string, patch: boolean): GuestImage {
  const image = readBootImage(elf, name);
  const executable = new Set(readElf(elf, name).segments.filter((s) => s.type === PT_LOAD && (s.flags & PF_X) !== 0).map((s) => s.paddr));
  const patches = new Map<number, Uint8Array>();
  const segments = image.segments.map((s) => {
    if (!patch || !executable.has(s.paddr)) return s;
    const data = s.data.slice();
    for (const p of patchSensitiveInstructions(data, s.paddr)) patches.set(p.address, p.original);
    return { ...s, data };
  });
  return { entry: image.entry, segments, patches };
}
