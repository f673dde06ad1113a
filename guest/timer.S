# The interval timer and the interrupt controller (src/machine/devices/timer.ts, pic.ts).
#
# xk's timer counts retired instructions, so preemption happens at the same
# instruction on every run. Port 0x40 takes the reload count (instructions
# between interrupts), port 0x43 bit 0 enables it. The 8259-style interrupt
# controller at 0x20/0x21 delivers timer interrupts as vector 32 and needs an
# end-of-interrupt (EOI) before it delivers the next one.

#include "defs.h"

        .equ TIMER_RELOAD,  0x40
        .equ TIMER_CONTROL, 0x43
        .equ PIC_DATA,      0x21
        .equ TICK, 10000                # default: instructions between timer interrupts

        .text
# timer_init: program the interrupt controller (IRQ 0 -> vector 32, every
# other line masked) and start the timer, unless the host has already started it
# (xk boot --timer N), in which case its interval is kept.
        .globl timer_init
timer_init:
        mov $PIC_CMD, %edx
        mov $0x11, %al                  # ICW1: initialize, ICW4 follows
        out %al, %dx
        mov $PIC_DATA, %edx
        mov $T_TIMER, %al               # ICW2: vector of IRQ 0
        out %al, %dx
        mov $0x04, %al                  # ICW3 (cascade wiring; ignored)
        out %al, %dx
        mov $0x01, %al                  # ICW4: 8086 mode
        out %al, %dx
        mov $0xfe, %al                  # mask every line but IRQ 0
        out %al, %dx

        mov $TIMER_CONTROL, %edx
        in %dx, %al
        test $1, %al
        jnz 1f                          # already running
        mov $TIMER_RELOAD, %edx
        mov $TICK, %eax
        out %eax, %dx
        mov $TIMER_CONTROL, %edx
        mov $1, %al
        out %al, %dx
1:      lea msg_timer(%rip), %rdi
        jmp puts

# timer_eoi: tell the interrupt controller that the timer interrupt was handled.
        .globl timer_eoi
timer_eoi:
        mov $PIC_EOI, %al
        mov $PIC_CMD, %edx
        out %al, %dx
        ret

        .section .rodata
msg_timer:      .asciz "[guest] timer on: IRQ 0 is vector 32\n"
