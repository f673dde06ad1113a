# The guest kernel's entry point and the processor tables it owns.
#
# Boot protocol (see README.md): the loader copies the image to its physical
# addresses and jumps to _start (physical 0x100000) in flat 64-bit mode at
# CPL 0, paging off, interrupts disabled. Nothing else is assumed: no stack,
# no GDT, no IDT. _start sets all of them up itself.

#include "defs.h"

        .equ TSS_LIMIT, 103             # the 64-bit TSS is 104 bytes
        .equ GATE_KERNEL, 0x8e          # present, DPL 0, interrupt gate
        .equ GATE_USER, 0xee            # present, DPL 3, interrupt gate (int $64 from CPL 3)

        .text
        .globl _start
_start:
        cli
        lea boot_stack_top(%rip), %rsp
        lea msg_hello(%rip), %rdi
        call puts
        call gdt_init
        call idt_init
        call paging_init
        call timer_init
        call proc_init
        lea msg_start(%rip), %rdi
        call puts
        # Enter the first process: switch_to returns its trap frame, which
        # trapret pops before iretq drops to CPL 3.
        lea procs(%rip), %rdi
        call switch_to
        mov %rax, %rsp
        jmp trapret

# gdt_init: fill in the TSS descriptor, load GDTR and TR, reload the segment registers.
gdt_init:
        # The 16-byte TSS descriptor holds the TSS base split across three fields:
        #   bits 15..0 limit, 39..16 base 23..0, 47..40 access 0x89 (present, 64-bit TSS),
        #   63..56 base 31..24; then base 63..32 in the second quadword.
        lea tss(%rip), %rax
        mov %rax, %rcx
        and $0xffffff, %ecx
        shl $16, %rcx
        or $TSS_LIMIT, %rcx
        mov $0x89, %r8d
        shl $40, %r8
        or %r8, %rcx
        mov %rax, %r8
        shr $24, %r8
        and $0xff, %r8d
        shl $56, %r8
        or %r8, %rcx
        lea gdt(%rip), %rdx
        mov %rcx, TSS_SEL(%rdx)
        shr $32, %rax
        mov %rax, TSS_SEL+8(%rdx)
        # No I/O permission bitmap: its offset points past the TSS limit.
        lea tss(%rip), %rax
        movw $TSS_LIMIT+1, 102(%rax)

        lgdt gdtr(%rip)
        mov $KERNEL_DS, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        # 64-bit mode has no far jump in xk's instruction set: reload CS with an
        # iretq to the next instruction (frame: rip, cs, rflags, rsp, ss).
        mov %rsp, %rax
        push $KERNEL_DS
        push %rax
        push $2                         # RFLAGS with IF = 0
        push $KERNEL_CS
        lea 1f(%rip), %rax
        push %rax
        iretq
1:      mov $TSS_SEL, %eax
        ltr %ax
        ret

# idt_init: one 16-byte gate per entry of idt_table, then lidt.
#   gate bits 15..0 offset 15..0, 31..16 selector, 47..40 attributes
#   (P, DPL, type 0xE = interrupt gate: IF is cleared on entry), 63..48 offset 31..16;
#   second quadword: offset 63..32.
idt_init:
        lea idt_table(%rip), %rsi
        lea idt(%rip), %rdi
1:      mov (%rsi), %rax                # handler address (0 ends the table)
        test %rax, %rax
        jz 2f
        movzbl 8(%rsi), %edx            # vector
        movzbl 9(%rsi), %r8d            # attributes
        shl $4, %edx
        add %rdi, %rdx                  # %rdx = &idt[vector]
        mov %rax, %rcx
        and $0xffff, %ecx
        mov $KERNEL_CS, %r9d
        shl $16, %r9
        or %r9, %rcx
        shl $40, %r8
        or %r8, %rcx
        mov %rax, %r9
        shr $16, %r9
        and $0xffff, %r9d
        shl $48, %r9
        or %r9, %rcx
        mov %rcx, (%rdx)
        shr $32, %rax
        mov %rax, 8(%rdx)
        add $16, %rsi
        jmp 1b
2:      lidt idtr(%rip)
        ret

        .data
        .balign 16
gdt:
        .quad 0                         # 0x00 null
        .quad 0x00af9a000000ffff        # 0x08 kernel code: P, DPL 0, code read, L = 1
        .quad 0x00cf92000000ffff        # 0x10 kernel data: P, DPL 0, data write
        .quad 0x00affa000000ffff        # 0x18 user code: P, DPL 3, code read, L = 1
        .quad 0x00cff2000000ffff        # 0x20 user data: P, DPL 3, data write
        .quad 0, 0                      # 0x28 TSS (filled in by gdt_init)
gdt_end:

        .balign 16
        .word 0, 0, 0                   # pad so that the base below is 8-byte aligned
gdtr:
        .word gdt_end - gdt - 1
        .quad gdt
        .balign 16
        .word 0, 0, 0
idtr:
        .word 256 * 16 - 1
        .quad idt

# Which vectors get gates: handler address, vector number, attributes (16 bytes each).
        .balign 16
idt_table:
        .quad vector0
        .byte 0, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector1
        .byte 1, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector2
        .byte 2, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector3
        .byte 3, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector4
        .byte 4, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector5
        .byte 5, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector6
        .byte 6, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector7
        .byte 7, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector8
        .byte 8, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector10
        .byte 10, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector11
        .byte 11, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector12
        .byte 12, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector13
        .byte 13, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector14
        .byte 14, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector16
        .byte 16, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector17
        .byte 17, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector18
        .byte 18, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector19
        .byte 19, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector32
        .byte T_TIMER, GATE_KERNEL, 0, 0, 0, 0, 0, 0
        .quad vector64
        .byte T_SYSCALL, GATE_USER, 0, 0, 0, 0, 0, 0
        .quad 0

        .section .rodata
msg_hello:
        .asciz "[guest] xk guest kernel booting at CPL 0\n"
msg_start:
        .asciz "[guest] starting user processes\n"

        .bss
        .balign 4096
        .globl idt
idt:    .space 256 * 16
        .globl tss
tss:    .space 104
        .balign 16
boot_stack:
        .space 4096
boot_stack_top:
