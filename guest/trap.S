# Trap entry and exit: one stub per vector, alltraps, trapret, and the C-level
# dispatcher `trap`, written in assembly.
#
# The processor enters a stub through an IDT gate. Coming from CPL 3 it has
# switched to TSS.rsp0 (the current process's kernel stack) and pushed
# ss, rsp, rflags, cs, rip (and an error code for some exceptions). The stub
# pushes a zero error code when the processor did not, then the vector number,
# so every trap frame has the same layout (struct trap_frame, defs.h).

#include "defs.h"
        .text

vector0:  push $0
          push $0
          jmp alltraps
vector1:  push $0
          push $1
          jmp alltraps
vector2:  push $0
          push $2
          jmp alltraps
vector3:  push $0
          push $3
          jmp alltraps
vector4:  push $0
          push $4
          jmp alltraps
vector5:  push $0
          push $5
          jmp alltraps
vector6:  push $0
          push $6
          jmp alltraps
vector7:  push $0
          push $7
          jmp alltraps
vector8:  push $8                       # the processor pushed an error code (0)
          jmp alltraps
vector10: push $10                      # error code pushed by the processor
          jmp alltraps
vector11: push $11                      # error code pushed by the processor
          jmp alltraps
vector12: push $12                      # error code pushed by the processor
          jmp alltraps
vector13: push $13                      # error code pushed by the processor
          jmp alltraps
vector14: push $14                      # error code pushed by the processor
          jmp alltraps
vector16: push $0
          push $16
          jmp alltraps
vector17: push $17                      # error code pushed by the processor
          jmp alltraps
vector18: push $0
          push $18
          jmp alltraps
vector19: push $0
          push $19
          jmp alltraps
vector32: push $0
          push $32
          jmp alltraps
vector64: push $0
          push $64
          jmp alltraps
        .globl vector0, vector1, vector2, vector3, vector4, vector5, vector6, vector7
        .globl vector8, vector10, vector11, vector12, vector13, vector14, vector16
        .globl vector17, vector18, vector19, vector32, vector64

# alltraps: save the general registers (completing the trap frame), call
# trap(tf), and resume whichever trap frame trap returns: the same one, or
# another process's (a context switch is just returning a different frame).
alltraps:
        push %r15
        push %r14
        push %r13
        push %r12
        push %r11
        push %r10
        push %r9
        push %r8
        push %rdi
        push %rsi
        push %rbp
        push %rdx
        push %rcx
        push %rbx
        push %rax
        mov %rsp, %rdi
        call trap
        mov %rax, %rsp

        .globl trapret
trapret:
        pop %rax
        pop %rbx
        pop %rcx
        pop %rdx
        pop %rbp
        pop %rsi
        pop %rdi
        pop %r8
        pop %r9
        pop %r10
        pop %r11
        pop %r12
        pop %r13
        pop %r14
        pop %r15
        add $16, %rsp                   # trapno and error code
        iretq

# trap(tf = %rdi) -> %rax = the trap frame to resume.
# Interrupts stay disabled throughout the kernel (every gate is an interrupt gate).
trap:
        mov TF_TRAPNO(%rdi), %rax
        cmp $T_SYSCALL, %rax
        je syscall
        cmp $T_TIMER, %rax
        je timer_interrupt
        cmp $T_PF, %rax
        je page_fault
        testb $3, TF_CS(%rdi)
        jz kernel_fault
        # Any other exception from user mode kills the process.
        push %rdi
        call print_pid_prefix
        lea msg_exception(%rip), %rdi
        call puts
        mov (%rsp), %rdi
        mov TF_TRAPNO(%rdi), %rdi
        call putdec
        lea msg_user_rip(%rip), %rdi
        call puts
        mov (%rsp), %rdi
        mov TF_RIP(%rdi), %rdi
        call puthex
        lea msg_killed(%rip), %rdi
        call puts
        pop %rdi
        jmp kill_current

# An exception in the kernel itself is a bug: report and shut down.
        .globl kernel_fault
kernel_fault:
        push %rdi
        lea msg_panic(%rip), %rdi
        call puts
        mov (%rsp), %rdi
        mov TF_TRAPNO(%rdi), %rdi
        call putdec
        lea msg_kernel_rip(%rip), %rdi
        call puts
        mov (%rsp), %rdi
        mov TF_RIP(%rdi), %rdi
        call puthex
        lea msg_err(%rip), %rdi
        call puts
        mov (%rsp), %rdi
        mov TF_ERR(%rdi), %rdi
        call puthex
        lea msg_cr2(%rip), %rdi
        call puts
        mov %cr2, %rdi
        call puthex
        mov $'\n', %edi
        call putc
        mov $255, %edi
        jmp shutdown

        .section .rodata
msg_exception:  .asciz "exception "
msg_user_rip:   .asciz " at rip "
msg_killed:     .asciz ", killed\n"
msg_panic:      .asciz "[guest] panic: exception "
msg_kernel_rip: .asciz " in the kernel at rip "
msg_err:        .asciz ", error code "
msg_cr2:        .asciz ", cr2 "
