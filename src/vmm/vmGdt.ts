// The VM's GDT, one layout for both hosts: the bare-machine host (host.ts) and
// the xk kernel running a VM as a process (kernelProcess.ts).
//
// While a guest runs, the real GDT holds only what the hardware needs to take
// the guest's traps into the host, and the two segments the guest really runs
// on. The host's slots are where the xk kernel has them, so the kernel's IDT
// gates (KERNEL_CS) and its loaded task register (TSS_SELECTOR) stay valid:
//
//   0x00 null
//   0x08 host code (DPL 0)      0x10 host data (DPL 0)
//   0x18, 0x20 empty            (no user selectors: the guest's own loads trap)
//   0x28 host TSS (two slots)
//   0x38 .. 0xfe8 empty
//   0xff0 guest code (DPL 3)  -> GUEST_CS 0xff3
//   0xff8 guest data (DPL 3)  -> GUEST_SS 0xffb
//
// The guest's own selectors 0x08..0xfe8 either name nothing or a DPL 0
// descriptor, so the guest's segment loads and iretq trap (#GP) and the
// monitor runs them on the guest's processor, on the guest's own GDT. (Were
// the guest's segments at 0x38 and 0x40, a guest `mov %ax, %ds` with its own
// selector 0x40 would load the monitor's descriptor without trapping.) Only a
// guest GDT of more than 510 entries could name the last two slots.

import { codeSegment64, dataSegment, tssDescriptor } from '../machine/descriptors.js';
import { KERNEL_CS, KERNEL_DS, TSS_SELECTOR } from '../kernel/mem/kernelLayout.js';

export const HOST_CS = KERNEL_CS, HOST_DS = KERNEL_DS, HOST_TSS = TSS_SELECTOR;
/** The real segments the guest runs on (DPL 3, RPL 3). */
export const GUEST_CS = 0xff0 | 3, GUEST_SS = 0xff8 | 3;
/** One page of descriptors. */
export const VM_GDT_ENTRIES = 512;
export const VM_GDT_LIMIT = VM_GDT_ENTRIES * 8 - 1;

/** Write the VM's GDT at `at` in `bytes`; the TSS descriptor names linear address `tssBase`. */
export function writeVmGdt(bytes: Uint8Array, at: number, tssBase: number): void {
  bytes.fill(0, at, at + VM_GDT_ENTRIES * 8);
  bytes.set(codeSegment64(0), at + HOST_CS);
  bytes.set(dataSegment(0), at + HOST_DS);
  bytes.set(tssDescriptor(tssBase), at + HOST_TSS);
  bytes.set(codeSegment64(3), at + (GUEST_CS & ~7));
  bytes.set(dataSegment(3), at + (GUEST_SS & ~7));
}
