// The memory map of xk: where the kernel and user programs live.
//
// Linear addresses (signed canonical numbers, see src/machine/address.ts):
//
//   0xffff_8000_0000_0000 + phys   KERNBASE: the kernel's direct map of ALL physical
//                                  memory (present, writable, NOT user-accessible).
//                                  Every process's page table shares these mappings
//                                  (PML4 slots 256..511 point to the same tables).
//   ...
//   USER_LIMIT = 0x8000_0000       first address that is not user space (2 GiB, XK's SZ_2G)
//   USER_STACK_TOP = USER_LIMIT    the user stack grows down from here: exec maps ONE
//                                  page; a fault below it, down to USER_STACK_BOTTOM
//                                  (USER_STACK_MAX_PAGES = 10 pages in all, XK's figure),
//                                  maps a zero page and restarts (pageFault.ts)
//   [USER_STACK_BOTTOM - USER_STACK_GUARD_BYTES, USER_STACK_BOTTOM)
//                                  guard gap: never mapped, a fault there kills
//   USER_HEAP_LIMIT                the heap grows up to here (sbrk), so the heap and the
//                                  stack can never meet
//   [brk0, brk)                                   heap: starts at the page after the
//                                                 program's highest segment (bss)
//   USER_TEXT_BASE = 0x40_0000                    where xk's `ld -Ttext 0x400000` puts code
//   [0, USER_TEXT_BASE)                           never mapped for xk's programs: NULL
//                                                 dereferences fault. An XK-linked
//                                                 program (`ld -N -Ttext 0`) has its code
//                                                 at 0, so *NULL reads its first code
//                                                 bytes and NULL writes change its code,
//                                                 as on XK (docs/xk-compat.md).
//
// Physical memory (all numbers are physical addresses):
//
//   0x0_0000  unused (so that physical 0 never looks like a valid table)
//   0x0_1000  GDT             (GDT_PHYS)
//   0x0_2000  IDT, 256 x 16 bytes   (IDT_PHYS)
//   0x0_3000  TSS, 104 bytes  (TSS_PHYS)
//   0x0_4000  idle stack: the kernel's own stack while no process is runnable
//   0x1_0000  kernel text: vectors, alltraps, trapret, idle loop (trap/trapEntry.S)
//   0x10_0000 .. end of memory: page allocator (page tables, kernel stacks, user pages)

/** Size of a page (4 KiB; xk uses no large pages). */
export const PAGE_SIZE = 4096;

/** Linear base of the kernel's direct map of physical memory (0xffff800000000000). */
export const KERNBASE = -(2 ** 47);

/** Kernel linear address of physical address `phys`. */
export function p2v(phys: number): number {
  return KERNBASE + phys;
}
/** Physical address of a kernel direct-map linear address. */
export function v2p(linear: number): number {
  return linear - KERNBASE;
}

/** User space is [0, USER_LIMIT): a program's segments may start at 0 (XK's layout). */
export const USER_BASE = 0;
export const USER_LIMIT = 0x80000000;
/** Where the user linker script puts .text (`ld -Ttext 0x400000`). */
export const USER_TEXT_BASE = 0x400000;
/** The user stack: starts as one page at the top of user space and grows on demand to at most 10 pages. */
export const USER_STACK_TOP = USER_LIMIT;
export const USER_STACK_MAX_PAGES = 10;
export const USER_STACK_BYTES = USER_STACK_MAX_PAGES * PAGE_SIZE;
/** The lowest address the stack may ever reach. */
export const USER_STACK_BOTTOM = USER_STACK_TOP - USER_STACK_BYTES;
/** The unmapped gap between the highest heap address and the lowest stack address. */
export const USER_STACK_GUARD_BYTES = PAGE_SIZE;
/** The heap may grow up to the guard gap below the stack. */
export const USER_HEAP_LIMIT = USER_STACK_BOTTOM - USER_STACK_GUARD_BYTES;
/**
 * The return address exec leaves on top of the new stack, for a program entered at
 * `main` (XK's layout, no crt0): returning from main jumps to this kernel-half
 * address and faults (#PF in user mode: the process is killed), as on XK.
 */
export const FAKE_RETURN_ADDRESS = -1; // 0xffff_ffff_ffff_ffff

/** Physical placement of the kernel's fixed structures. */
export const GDT_PHYS = 0x1000;
export const IDT_PHYS = 0x2000;
export const TSS_PHYS = 0x3000;
export const IDLE_STACK_PHYS = 0x4000;
export const IDLE_STACK_TOP_PHYS = IDLE_STACK_PHYS + PAGE_SIZE;
export const KERNEL_TEXT_PHYS = 0x10000;
export const KERNEL_TEXT_LIMIT_PHYS = 0x100000;
/** First physical page handed out by the page allocator. */
export const FREE_MEMORY_PHYS = 0x100000;
/** Default physical memory size for `xk run`. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;

/**
 * GDT selectors. The order (kernel code, kernel data, user data, user code) is the
 * one `syscall`/`sysret` would need; xk only uses `int $64`/`iretq` but keeps it.
 *   0x00 null
 *   0x08 kernel code  (DPL 0, 64-bit: L=1)
 *   0x10 kernel data  (DPL 0)
 *   0x18 user data    (DPL 3)  -> selector 0x1b with RPL 3
 *   0x20 user code    (DPL 3, L=1) -> selector 0x23 with RPL 3
 *   0x28 TSS          (16-byte system descriptor, two slots)
 */
export const KERNEL_CS = 0x08;
export const KERNEL_DS = 0x10;
export const USER_DS = 0x18 | 3;
export const USER_CS = 0x20 | 3;
export const TSS_SELECTOR = 0x28;
export const GDT_ENTRIES = 7;

/** Interrupt vectors. */
export const T_SYSCALL = 64; // int $64: the only gate with DPL 3
export const T_IRQ0 = 32; // timer (IRQ0)
export const T_IRQ_SERIAL = 36; // COM1 (IRQ4)
export const T_IRQ_DISK = 46; // the disk (IRQ14, on the slave PIC)
export const T_PAGE_FAULT = 14;

/** RFLAGS.IF: interrupts enabled (user code always runs with IF = 1). */
export const RFLAGS_IF = 0x200;
