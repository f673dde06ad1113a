# write(1, <a kernel address>, 16): copyin refuses, the call returns -1,
# and nothing leaks. Then the same with an unmapped address.
        .text
        .globl main
main:
        subq $8, %rsp
        movl $1, %edi
        movabsq $0xffff800000100000, %rsi   # kernel memory
        movl $16, %edx
        call write
        leaq fmt(%rip), %rdi
        movl %eax, %esi
        xorl %eax, %eax
        call printf
        movl $1, %edi
        movl $0x70000000, %esi              # not mapped
        movl $16, %edx
        call write
        leaq fmt(%rip), %rdi
        movl %eax, %esi
        xorl %eax, %eax
        call printf
        xorl %eax, %eax
        addq $8, %rsp
        ret

        .section .rodata
fmt:    .asciz "write returned %d\n"
