// The common start of the small test guests (GNU as source): a 64-bit kernel
// entered at _start as the boot protocol leaves it (guest/README.md: long mode,
// paging off, CPL 0), which sets up its stack, its own GDT and IDT, and fills
// IDT gates with its handlers. The VM tests (test/vmm*, debugVm, vmStateMove,
// vmTimer...) write only what is particular to each guest around these pieces.

/**
 * `_start`: the stack at 0x8000, the guest's GDT (null, code 0x08, data 0x10)
 * loaded and CS/SS reloaded from it by an iretq (RFLAGS 2: interrupts off), the
 * guest's IDT (`idt`, see GUEST_TABLES) loaded. The guest's own code follows.
 */
export const GUEST_START = `    .text
    .globl _start
_start:
    mov $0x8000, %rsp
    lgdt gdtr
    mov %rsp, %rax                  # reload CS and SS with an iretq
    push $0x10
    push %rax
    push $2
    push $0x08
    lea guest_prologue_done(%rip), %rax
    push %rax
    iretq
guest_prologue_done:
    lidt idtr
`;

/** Point IDT gate `vector` at `handler`: a DPL 0 interrupt gate on selector 0x08 (clobbers %rax). */
export function setGate(vector: number, handler: string): string {
  const at = `idt+${vector}*16`;
  return `    lea ${handler}(%rip), %rax
    mov %ax, ${at}
    movw $0x08, ${at}+2
    movw $0x8e00, ${at}+4
    shr $16, %rax
    mov %ax, ${at}+6
`;
}

/**
 * The data GUEST_START needs, in .data: the IDT's and GDT's pseudo-descriptors,
 * the GDT, then `data` (the guest's own variables), then the page-aligned IDT
 * of 256 empty gates.
 */
export function guestTables(data = ''): string {
  return `    .data
    .balign 16
idtr:   .short 0xfff; .quad idt
gdt:    .quad 0, 0x00209a0000000000, 0x0000920000000000
gdtr:   .short 23; .quad gdt
${data}
    .balign 4096
idt:    .fill 4096, 1, 0
`;
}

/** The tiny PIC setup of the timer guests: IRQ 0 is vector 32, every other line masked. */
export const PIC_TIMER_ONLY = `    mov $0x11, %al; out %al, $0x20
    mov $32, %al; out %al, $0x21
    mov $4, %al; out %al, $0x21
    mov $1, %al; out %al, $0x21
    mov $0xfe, %al; out %al, $0x21
`;
