# Constants shared by the guest kernel's source files (#include "defs.h").
# The memory map and the system-call ABI are described in guest/README.md.

# ---- segment selectors (GDT laid out in boot.S)
        .equ KERNEL_CS, 0x08            # GDT[1] 64-bit code, DPL 0
        .equ KERNEL_DS, 0x10            # GDT[2] data, DPL 0
        .equ USER_CS,   0x1b            # GDT[3] 64-bit code, DPL 3 (| RPL 3)
        .equ USER_DS,   0x23            # GDT[4] data, DPL 3 (| RPL 3)
        .equ TSS_SEL,   0x28            # GDT[5..6] 64-bit TSS (16-byte descriptor)

# ---- trap vectors
        .equ T_GP,      13              # general protection
        .equ T_PF,      14              # page fault
        .equ T_TIMER,   32              # IRQ 0
        .equ T_SYSCALL, 64              # int $64, the only gate with DPL 3

# ---- devices (ports)
        .equ COM1,        0x3f8         # serial data register
        .equ COM1_LSR,    0x3fd         # line status; bit 5 = transmitter empty
        .equ PIC_CMD,     0x20          # interrupt controller: write 0x20 = end of interrupt
        .equ PIC_EOI,     0x20
        .equ SHUTDOWN_PORT, 0xf4        # write the exit status byte here to power off

# ---- memory map (physical = kernel virtual: the kernel is identity mapped)
        .equ PAGE_SIZE,    4096
        .equ MAPPED_TOP,   0x400000     # the kernel maps physical 0 .. 4 MiB
        .equ FREE_START,   0x200000     # page allocator hands out 2 MiB .. 4 MiB
        .equ FREE_END,     0x400000

# ---- user address space (the same layout in every process)
        .equ USER_BASE,    0x40000000   # user image (read-only text, shared)
        .equ HEAP_BASE,    0x40100000   # demand-zero pages, mapped on first touch
        .equ HEAP_END,     0x401f0000
        .equ USTACK_PAGE,  0x401ff000   # one stack page, mapped at creation
        .equ USER_TOP,     0x40200000   # end of user space; initial %rsp

# ---- page-table entry bits
        .equ PTE_P, 1
        .equ PTE_W, 2
        .equ PTE_U, 4

# ---- struct trap_frame (176 bytes, same order as the xk host kernel)
        .equ TF_RAX, 0
        .equ TF_RBX, 8
        .equ TF_RCX, 16
        .equ TF_RDX, 24
        .equ TF_RBP, 32
        .equ TF_RSI, 40
        .equ TF_RDI, 48
        .equ TF_R8,  56
        .equ TF_TRAPNO, 120
        .equ TF_ERR,    128
        .equ TF_RIP,    136
        .equ TF_CS,     144
        .equ TF_RFLAGS, 152
        .equ TF_RSP,    160
        .equ TF_SS,     168
        .equ TF_SIZE,   176

# ---- struct proc (64 bytes)
        .equ P_STATE,  0                # UNUSED, RUNNABLE, EXITED or KILLED
        .equ P_PID,    8
        .equ P_CR3,    16               # physical address of the PML4
        .equ P_KSTACK, 24               # top of the kernel stack (TSS.rsp0)
        .equ P_TF,     32               # trap frame to resume (just below P_KSTACK)
        .equ P_STATUS, 40               # exit status (0..255)
        .equ P_UPT,    48               # physical address of the page table for user space
        .equ P_FAULTS, 56               # page faults served
        .equ P_SIZE,   64
        .equ NPROC,    4
        .equ KSTACK_SIZE, 4096

        .equ UNUSED, 0
        .equ RUNNABLE, 1
        .equ EXITED, 2                  # called exit
        .equ KILLED, 3                  # killed by the kernel (a fault)

# ---- system calls (number in %rax; arguments in %rdi, %rsi, %rdx; result in %rax)
        .equ SYS_EXIT,   2
        .equ SYS_GETPID, 11
        .equ SYS_WRITE,  16
        .equ SYS_YIELD,  24
