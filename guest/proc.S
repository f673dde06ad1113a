# Processes, the round-robin scheduler, and the system calls.
#
# A process is a struct proc (defs.h) plus a kernel stack and an address
# space. The kernel never blocks: every trap either returns to the process
# that trapped or, through schedule, to another one. A process that is not
# running is fully described by the trap frame at the top of its kernel stack.

#include "defs.h"
        .text

# proc_init: create one process per entry of `programs`.
        .globl proc_init
proc_init:
        push %rbx
        push %r12
        xor %r12d, %r12d                # process index
1:      imul $P_SIZE, %r12, %rbx
        lea procs(%rip), %rax
        add %rax, %rbx                  # %rbx = &procs[i]
        movq $RUNNABLE, P_STATE(%rbx)
        lea 1(%r12), %rax
        mov %rax, P_PID(%rbx)
        mov %rbx, %rdi
        call uvm_create                 # address space: returns the PML4
        mov %rax, P_CR3(%rbx)
        # kernel stack: kstacks + (i + 1) * KSTACK_SIZE; the first trap frame at its top
        lea 1(%r12), %rax
        imul $KSTACK_SIZE, %rax, %rax
        lea kstacks(%rip), %rcx
        add %rcx, %rax
        mov %rax, P_KSTACK(%rbx)
        sub $TF_SIZE, %rax
        mov %rax, P_TF(%rbx)
        mov %rax, %rdi                  # zero the trap frame
        mov $TF_SIZE / 8, %ecx
        xor %eax, %eax
        rep stosq
        mov P_TF(%rbx), %rdi
        lea programs(%rip), %rax
        mov (%rax,%r12,8), %rax         # entry point in the user image
        lea user_start(%rip), %rcx
        sub %rcx, %rax
        add $USER_BASE, %rax            # ... as a user virtual address
        mov %rax, TF_RIP(%rdi)
        movq $USER_CS, TF_CS(%rdi)
        movq $0x202, TF_RFLAGS(%rdi)    # IF = 1: the timer can preempt the process
        movq $USER_TOP, TF_RSP(%rdi)
        movq $USER_DS, TF_SS(%rdi)
        inc %r12
        cmp $NPROC, %r12
        jb 1b
        pop %r12
        pop %rbx
        ret

# switch_to(p = %rdi) -> %rax = p's trap frame.
# Makes p current: its kernel stack for the next trap from CPL 3 (TSS.rsp0)
# and its address space (CR3; loading CR3 flushes the TLB).
        .globl switch_to
switch_to:
        mov %rdi, current(%rip)
        mov P_KSTACK(%rdi), %rax
        lea tss(%rip), %rcx
        mov %rax, 4(%rcx)               # TSS.rsp0
        mov P_CR3(%rdi), %rax
        mov %rax, %cr3
        mov P_TF(%rdi), %rax
        ret

# schedule -> %rax = the trap frame to resume: the next runnable process after
# the current one, round robin (the current one itself if it is the only one).
# When no process is left, print the summary and shut down.
        .globl schedule
schedule:
        mov current(%rip), %rdi
        lea procs(%rip), %rsi
        lea P_SIZE*NPROC(%rsi), %r8     # end of the table
        mov $NPROC, %ecx
1:      add $P_SIZE, %rdi
        cmp %r8, %rdi
        jb 2f
        mov %rsi, %rdi                  # wrap around
2:      cmpq $RUNNABLE, P_STATE(%rdi)
        je 3f
        dec %ecx
        jnz 1b
        jmp all_done
3:      cmp current(%rip), %rdi
        je 4f
        incq switches(%rip)
        jmp switch_to
4:      mov P_TF(%rdi), %rax
        ret

# timer_interrupt(tf): acknowledge IRQ 0 and preempt the current process.
        .globl timer_interrupt
timer_interrupt:
        incq ticks(%rip)
        call timer_eoi
        jmp schedule

# kill_current: the current process dies; run another one.
        .globl kill_current
kill_current:
        mov current(%rip), %rax
        movq $KILLED, P_STATE(%rax)
        jmp schedule

# print_pid_prefix: "[guest] pid N: " for the current process.
        .globl print_pid_prefix
print_pid_prefix:
        lea msg_pid(%rip), %rdi
        call puts
        mov current(%rip), %rax
        mov P_PID(%rax), %rdi
        call putdec
        lea msg_colon(%rip), %rdi
        jmp puts

# ---------------------------------------------------------------------------
# System calls: int $64 with the number in %rax, arguments in %rdi, %rsi, %rdx,
# the result in %rax (negative on error).

# syscall(tf = %rdi) -> %rax = the trap frame to resume.
        .globl syscall
syscall:
        incq syscalls(%rip)
        mov TF_RAX(%rdi), %rax
        cmp $SYS_WRITE, %rax
        je sys_write
        cmp $SYS_GETPID, %rax
        je sys_getpid
        cmp $SYS_YIELD, %rax
        je sys_yield
        cmp $SYS_EXIT, %rax
        je sys_exit
        movq $-1, TF_RAX(%rdi)          # unknown system call
        mov %rdi, %rax
        ret

sys_getpid:
        mov current(%rip), %rax
        mov P_PID(%rax), %rax
        mov %rax, TF_RAX(%rdi)
        mov %rdi, %rax
        ret

sys_yield:
        movq $0, TF_RAX(%rdi)
        jmp schedule

# exit(status): the process is gone, keeping the low 8 bits of its status, as
# Unix does. Its pages stay allocated (the guest never reuses them).
sys_exit:
        push %rdi
        mov current(%rip), %rax
        movq $EXITED, P_STATE(%rax)
        movzbl TF_RDI(%rdi), %ecx
        mov %rcx, P_STATUS(%rax)
        call print_pid_prefix
        lea msg_exited(%rip), %rdi
        call puts
        mov current(%rip), %rax
        mov P_STATUS(%rax), %rdi
        call putdec
        mov $'\n', %edi
        call putc
        pop %rdi
        jmp schedule

# write(fd, buf, n): fd 1 or 2 is the serial console. Every byte of the buffer
# must lie in a present user page (user_range_ok); otherwise the result is -1.
sys_write:
        push %rbx
        push %r12
        push %r13
        mov %rdi, %r13                  # tf
        mov TF_RDI(%r13), %rax
        cmp $1, %rax
        je 1f
        cmp $2, %rax
        jne 9f
1:      mov TF_RSI(%r13), %rbx          # buf
        mov TF_RDX(%r13), %r12          # n
        mov %rbx, %rdi
        mov %r12, %rsi
        call user_range_ok
        test %rax, %rax
        jz 9f
        mov %r12, TF_RAX(%r13)
2:      test %r12, %r12
        jz 3f
        movzbl (%rbx), %edi             # the user page is mapped in the current CR3
        call putc
        inc %rbx
        dec %r12
        jmp 2b
9:      movq $-1, TF_RAX(%r13)
3:      mov %r13, %rax
        pop %r13
        pop %r12
        pop %rbx
        ret

# all_done: every process has exited. Print the summary and power off.
all_done:
        lea msg_summary(%rip), %rdi
        call puts
        mov ticks(%rip), %rdi
        call putdec
        lea msg_syscalls(%rip), %rdi
        call puts
        mov syscalls(%rip), %rdi
        call putdec
        lea msg_faults(%rip), %rdi
        call puts
        mov demand_faults(%rip), %rdi
        call putdec
        lea msg_switches(%rip), %rdi
        call puts
        mov switches(%rip), %rdi
        call putdec
        mov $'\n', %edi
        call putc
        # one line per process: pid and exit status
        lea procs(%rip), %rbx
        lea P_SIZE*NPROC(%rbx), %r12
1:      lea msg_pid(%rip), %rdi
        call puts
        mov P_PID(%rbx), %rdi
        call putdec
        cmpq $KILLED, P_STATE(%rbx)
        je 2f
        lea msg_status(%rip), %rdi
        call puts
        mov P_STATUS(%rbx), %rdi
        call putdec
        jmp 3f
2:      lea msg_was_killed(%rip), %rdi
        call puts
3:      mov $'\n', %edi
        call putc
        add $P_SIZE, %rbx
        cmp %r12, %rbx
        jb 1b
        lea msg_shutdown(%rip), %rdi
        call puts
        xor %edi, %edi
        jmp shutdown

# shutdown(status = %edi): write the status to the shutdown port; if nothing
# is listening there, stop with interrupts disabled.
        .globl shutdown
shutdown:
        mov %edi, %eax
        mov $SHUTDOWN_PORT, %edx
        out %al, %dx
        cli
1:      hlt
        jmp 1b

        .section .rodata
# Entry points of the user programs (user.S), one per process: pid 1, 2, 3, 4.
        .balign 8
programs:
        .quad main_a, main_b, main_c, main_d

msg_pid:        .asciz "[guest] pid "
msg_colon:      .asciz ": "
msg_exited:     .asciz "exit with status "
msg_summary:    .asciz "[guest] all processes done: timer ticks "
msg_syscalls:   .asciz ", system calls "
msg_faults:     .asciz ", demand-paging faults "
msg_switches:   .asciz ", context switches "
msg_status:     .asciz " exited with status "
msg_was_killed: .asciz " was killed"
msg_shutdown:   .asciz "[guest] shutdown\n"

        .data
        .balign 8
        .globl current, ticks, syscalls, switches, demand_faults
current:        .quad 0                 # struct proc * of the running process
ticks:          .quad 0
syscalls:       .quad 0
switches:       .quad 0
demand_faults:  .quad 0

        .bss
        .balign 64
        .globl procs
procs:  .space P_SIZE * NPROC
        .balign 4096
kstacks:
        .space KSTACK_SIZE * NPROC
