# xk entry for program.c (flat 64-bit mode, no paging): set up a stack,
# compute(), leave the result in %rax and halt (IF = 0: the machine stops).
        .text
        .globl _start
_start:
        mov $0x7ff000, %rsp
#ifndef REPEAT
#define REPEAT 1
#endif
        mov $REPEAT, %r12d      # the benchmark runs compute() many times
1:      call compute
        dec %r12d
        jnz 1b
        hlt
        .section .note.GNU-stack,"",@progbits
