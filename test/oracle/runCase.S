# run_case(): load every general register and RFLAGS from SAVE_IN, jump to the
# snippet at CODE. The snippet's epilogue stores the registers to SAVE and
# jumps back through SAVE_RETURN to label 1 below.
#include "layout.h"
        .text
        .globl run_case
run_case:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, SAVE_HOST_RSP
        lea 1f(%rip), %rax
        mov %rax, SAVE_RETURN
        movq $CODE, SAVE_CODE
        pushq SAVE_IN + 0x80
        popfq
        mov SAVE_IN + 0x00, %rax
        mov SAVE_IN + 0x08, %rcx
        mov SAVE_IN + 0x10, %rdx
        mov SAVE_IN + 0x18, %rbx
        mov SAVE_IN + 0x28, %rbp
        mov SAVE_IN + 0x30, %rsi
        mov SAVE_IN + 0x38, %rdi
        mov SAVE_IN + 0x40, %r8
        mov SAVE_IN + 0x48, %r9
        mov SAVE_IN + 0x50, %r10
        mov SAVE_IN + 0x58, %r11
        mov SAVE_IN + 0x60, %r12
        mov SAVE_IN + 0x68, %r13
        mov SAVE_IN + 0x70, %r14
        mov SAVE_IN + 0x78, %r15
        mov SAVE_IN + 0x20, %rsp
        jmp *SAVE_CODE
1:      cld
        mov SAVE_HOST_RSP, %rsp
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret
        .section .note.GNU-stack,"",@progbits
