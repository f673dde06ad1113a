# The serial console: one UART at COM1 (0x3f8), polled.
# All routines follow the System V calling convention: arguments in %rdi,
# %rsi; %rax, %rcx, %rdx, %rsi, %rdi, %r8-%r11 may be clobbered.

#include "defs.h"
        .text

# putc(c = %dil): wait until the transmitter is empty, then send one byte.
        .globl putc
putc:
        mov $COM1_LSR, %edx
1:      in %dx, %al
        test $0x20, %al                 # line status bit 5: transmit holding register empty
        jz 1b
        mov %edi, %eax
        mov $COM1, %edx
        out %al, %dx
        ret

# puts(s = %rdi): send a NUL-terminated string.
        .globl puts
puts:
        push %rbx
        mov %rdi, %rbx
1:      movzbl (%rbx), %edi
        test %edi, %edi
        jz 2f
        call putc
        inc %rbx
        jmp 1b
2:      pop %rbx
        ret

# puthex(n = %rdi): "0x" and the 64-bit value in hexadecimal, without leading zeros.
        .globl puthex
puthex:
        push %rbx
        push %r12
        mov %rdi, %rbx
        mov $'0', %edi
        call putc
        mov $'x', %edi
        call putc
        mov $60, %r12d                  # shift count of the next nibble (from the top)
1:      mov %rbx, %rax                  # skip leading zero nibbles, keep the last one
        mov %r12d, %ecx
        shr %cl, %rax
        test %rax, %rax
        jnz 2f
        sub $4, %r12d
        jnz 1b
2:      mov %rbx, %rax
        mov %r12d, %ecx
        shr %cl, %rax
        and $15, %eax
        lea hexdigits(%rip), %rdx
        movzbl (%rdx,%rax), %edi
        call putc
        sub $4, %r12d
        jns 2b
        pop %r12
        pop %rbx
        ret

# putdec(n = %rdi): an unsigned 64-bit value in decimal.
        .globl putdec
putdec:
        push %rbx
        sub $32, %rsp                   # digit buffer, filled from the end
        lea 31(%rsp), %rbx
        movb $0, (%rbx)
        mov %rdi, %rax
        mov $10, %ecx
1:      xor %edx, %edx
        div %rcx                        # %rax = n / 10, %rdx = n % 10
        add $'0', %edx
        dec %rbx
        mov %dl, (%rbx)
        test %rax, %rax
        jnz 1b
        mov %rbx, %rdi
        call puts
        add $32, %rsp
        pop %rbx
        ret

        .section .rodata
hexdigits:
        .ascii "0123456789abcdef"
