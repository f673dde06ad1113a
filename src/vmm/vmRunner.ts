// Running a bootable guest image (ELF, the boot protocol of guest/README.md)
// under the monitor: load its segments into guest-physical memory, start it at
// its entry point at virtual CPL 0 with paging off, run until it powers off.

import { readBootImage } from '../toolchain/bootImage.js';
import { readElf } from '../toolchain/elf/reader.js';
import { PT_LOAD } from '../toolchain/elf/elfTypes.js';
import { patchSensitiveInstructions } from './patcher.js';
import { VmHost, type VmResult } from './host.js';

const PF_X = 1; // ELF segment flag: executable

export interface RunVmOptions {
  /** Guest memory in MiB (4..16, default 16). */
  memoryMiB?: number;
  maxInstructions?: number;
  /** The machine traps every sensitive instruction at CPL 3 (no patching needed). */
  strict?: boolean;
  /** Without --strict: patch the unprivileged sensitive instructions into traps (default true). */
  patch?: boolean;
  serialOut?: (bytes: Uint8Array) => void;
  /** Called after loading, before the first instruction. */
  beforeRun?: (host: VmHost) => void;
}

export interface RunVmResult extends VmResult {
  host: VmHost;
}

/** Load `elf` as a virtual machine stopped at its entry point (xk vm --gdb). Throws like runVm. */
export function prepareVm(elf: Uint8Array, name: string, options: RunVmOptions = {}): VmHost {
  const image = readBootImage(elf, name);
  const strict = options.strict ?? false;
  const host = new VmHost({ guestBytes: (options.memoryMiB ?? 16) * 1024 * 1024, serialOut: options.serialOut, strict });
  const executable = new Set(readElf(elf, name).segments.filter((p) => p.type === PT_LOAD && (p.flags & PF_X) !== 0).map((p) => p.paddr));
  for (const s of image.segments) {
    let data = s.data;
    if (!strict && (options.patch ?? true) && executable.has(s.paddr)) {
      data = data.slice();
      for (const p of patchSensitiveInstructions(data, s.paddr)) host.vm.patches.set(p.address, p.original);
    }
    host.loadGuest(s.paddr, data, s.memsz);
  }
  host.start(image.entry);
  options.beforeRun?.(host);
  return host;
}

/** Boot `elf` as a virtual machine. Throws BootImageError for a bad image, Error for bad options. */
export function runVm(elf: Uint8Array, name: string, options: RunVmOptions = {}): RunVmResult {
  const host = prepareVm(elf, name, options);
  const result = host.run(options.maxInstructions ?? 50_000_000);
  return { ...result, host };
}
