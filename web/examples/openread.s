# open("/README", O_RDONLY), read up to 120 bytes, write them to the console.
# open, read, write and close are the user library's stubs: movl $N,%eax; int $64; ret
        .text
        .globl main
main:
        pushq %rbx
        leaq path(%rip), %rdi
        xorl %esi, %esi         # O_RDONLY
        call open               # system call 15
        testl %eax, %eax
        js failed
        movl %eax, %ebx         # the file descriptor
        movl %ebx, %edi
        leaq buf(%rip), %rsi
        movl $120, %edx
        call read               # system call 5: copyout into buf
        movl %eax, %edx         # bytes read
        movl $1, %edi
        leaq buf(%rip), %rsi
        call write              # system call 16: copyin from buf
        movl %ebx, %edi
        call close
        xorl %eax, %eax
        popq %rbx
        ret
failed:
        movl $1, %eax
        popq %rbx
        ret

        .section .rodata
path:   .asciz "/README"
        .bss
buf:    .space 120
