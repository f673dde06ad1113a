// Running a bootable guest image (ELF, the boot protocol of guest/README.md)
// under the monitor: load its segments into guest-physical memory, start it at
// its entry point at virtual CPL 0 with paging off, run until it powers off.

import { prepareGuestImage } from './guestImage.js';
import { VmHost, type VmResult } from './host.js';

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
  const strict = options.strict ?? false;
  const image = prepareGuestImage(elf, name, !strict && (options.patch ?? true));
  const host = new VmHost({ guestBytes: (options.memoryMiB ?? 16) * 1024 * 1024, serialOut: options.serialOut, strict });
  for (const s of image.segments) host.loadGuest(s.paddr, s.data, s.memsz);
  for (const [address, original] of image.patches) host.vm.patches.set(address, original);
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
