# hello: write(1, msg, len) by hand -- what the write() stub does.
        .text
        .globl main
main:
        movl $16, %eax          # the system-call number: write is 16
        movl $1, %edi           # 1st argument: fd 1, the console
        leaq msg(%rip), %rsi    # 2nd: the buffer (a user address)
        movl $len, %edx         # 3rd: how many bytes
        int $64                 # trap into the kernel; the result comes back in %rax
        xorl %eax, %eax         # main returns 0
        ret

        .data
msg:    .ascii "hello from user mode\n"
        .set len, . - msg
