# signal(SIGALRM, handler); alarm(2): the kernel interrupts the loop below
# with an upcall to handler, which returns through sigreturn.
        .text
        .globl main
main:
        pushq %rbx
        movl $14, %edi          # SIGALRM
        leaq handler(%rip), %rsi
        call signal
        movl $2, %edi           # in 2 timer ticks
        call alarm
        xorl %ebx, %ebx
spin:   incq %rbx               # compute until the handler sets done
        cmpl $0, done(%rip)
        je spin
        leaq fmt(%rip), %rdi
        movq %rbx, %rsi
        xorl %eax, %eax
        call printf
        xorl %eax, %eax
        popq %rbx
        ret

handler:                        # called by the kernel's signal frame
        movl $1, done(%rip)
        ret                     # to the trampoline: sigreturn

        .section .rodata
fmt:    .asciz "SIGALRM arrived after %ld loop iterations\n"
        .data
done:   .long 0
