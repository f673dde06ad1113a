# The user image: four small programs and their helpers, in one page-aligned
# block that every process maps read-only at USER_BASE (0x40000000). The code
# is position-independent (RIP-relative), so it runs at USER_BASE although it
# is linked at its physical address. Each process enters at its own main.

#include "defs.h"

#ifdef BENCH_COMPUTE
        .equ SPIN, 2000000              # benchmark: process 1 computes without trapping
#else
        .equ SPIN, 20000                # iterations of the loop between process 1's lines
#endif

        .text
        .balign 4096, 0xcc              # pad with int3
        .globl user_start, user_end, main_a, main_b, main_c, main_d
user_start:

# Process 1: five lines, each followed by a long loop without system calls,
# so only the timer can make it give up the processor.
main_a:
        mov $SYS_GETPID, %eax
        int $64
        mov %rax, %r12                  # pid
        mov $HEAP_BASE, %ebx
        mov %r12, %rsi
        mov (%rbx), %rdx                # first touch of the heap: a read page fault
        lea msg_a_fresh(%rip), %rdi
        call u_print
        mov %r12, (%rbx)                # remember the pid in our own heap page
        xor %r13d, %r13d                # line number
1:      lea msg_a_line(%rip), %rdi
        mov %r13, %rsi
        mov %r12, %rdx
        call u_print
        mov $SPIN, %ecx
2:      loop 2b
        inc %r13
        cmp $5, %r13
        jb 1b
        mov (%rbx), %rsi                # still our pid: the other process's heap page is another page
        mov %r12, %rdx
        lea msg_a_heap(%rip), %rdi
        call u_print
        xor %edi, %edi
        jmp u_exit

# Process 2: five lines, giving up the processor after each with yield; then
# two writes the kernel refuses: from a kernel address and from an unmapped page.
main_b:
#ifdef BENCH_SYSCALLS
        mov $20000, %r14d               # benchmark: a loop of system calls first
3:      mov $SYS_GETPID, %eax
        int $64
        dec %r14d
        jnz 3b
#endif
        mov $SYS_GETPID, %eax
        int $64
        mov %rax, %r12
        mov $HEAP_BASE, %ebx
        mov %r12, (%rbx)                # first touch of the heap: a write page fault
        xor %r13d, %r13d
1:      lea msg_b_line(%rip), %rdi
        mov %r13, %rsi
        mov %r12, %rdx
        call u_print
        mov $SYS_YIELD, %eax
        int $64
        inc %r13
        cmp $5, %r13
        jb 1b
        mov $1, %edi                    # write(1, kernel address, 16)
        mov $0x100000, %esi
        mov $16, %edx
        mov $SYS_WRITE, %eax
        int $64
        neg %rax                        # -1 -> 1
        mov %rax, %rsi
        lea msg_b_bad(%rip), %rdi
        call u_print
        mov $1, %edi                    # write(1, a heap page never touched, 16)
        mov $HEAP_BASE + PAGE_SIZE, %esi
        mov $16, %edx
        mov $SYS_WRITE, %eax
        int $64
        neg %rax
        mov %rax, %rsi
        lea msg_b_unmapped(%rip), %rdi
        call u_print
        mov (%rbx), %rsi
        mov %r12, %rdx
        lea msg_b_heap(%rip), %rdi
        call u_print
        mov $7, %edi
        jmp u_exit

# Process 3: tries a privileged instruction at CPL 3 and is killed by the #GP.
main_c:
        lea msg_c(%rip), %rdi
        call u_print
        hlt
        xor %edi, %edi
        jmp u_exit

# Process 4: reads the kernel's memory, which its page table maps supervisor-only:
# a protection page fault (error 5 = present | user) that kills it.
main_d:
        lea msg_d(%rip), %rdi
        call u_print
        mov $0x100000, %eax
        mov (%rax), %rax
        xor %edi, %edi
        jmp u_exit

# u_exit(status = %rdi): never returns.
u_exit:
        mov $SYS_EXIT, %eax
        int $64
        ud2

# u_print(template = %rdi, a = %rsi, b = %rdx): write the template with its
# first '%' replaced by the digit a and its second by the digit b.
u_print:
        sub $128, %rsp                  # line buffer
        mov %rsp, %r8
1:      movzbl (%rdi), %eax
        test %eax, %eax
        jz 3f
        cmp $'%', %eax
        jne 2f
        lea '0'(%rsi), %eax
        mov %rdx, %rsi                  # the next '%' takes b
2:      mov %al, (%r8)
        inc %r8
        inc %rdi
        jmp 1b
3:      mov $1, %edi                    # write(1, buffer, length)
        mov %rsp, %rsi
        mov %r8, %rdx
        sub %rsp, %rdx
        mov $SYS_WRITE, %eax
        int $64
        add $128, %rsp
        ret

msg_a_fresh:    .asciz "A: pid % starts; its heap word reads % (a fresh zero page)\n"
msg_a_line:     .asciz "A: line % from pid %\n"
msg_a_heap:     .asciz "A: heap word is still % (pid %): address spaces are separate\n"
msg_b_line:     .asciz "B: line % from pid %\n"
msg_b_bad:      .asciz "B: write from a kernel address returned -%\n"
msg_b_unmapped: .asciz "B: write from an unmapped heap page returned -%\n"
msg_b_heap:     .asciz "B: heap word is still % (pid %)\n"
msg_c:          .asciz "C: executing hlt at CPL 3\n"
msg_d:          .asciz "D: reading kernel memory at 0x100000\n"

        .balign 4096, 0xcc              # pad with int3
user_end:
