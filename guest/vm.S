# Virtual memory: the physical page allocator, the kernel's identity map, one
# address space per process, demand-zero paging, and the check that a user
# buffer is mapped before the kernel touches it.
#
# Every address space has the same four-level shape (see README.md):
#   PML4[0] -> PDPT
#     PDPT[0] -> kernel_pd (shared): physical 0..4 MiB at the same virtual
#                addresses, supervisor only (U = 0 in kernel_pd's entries)
#     PDPT[1] -> this process's PD -> PD[0] -> this process's page table for
#                user space, virtual 0x40000000..0x40200000 (U = 1)

#include "defs.h"
        .text

# kalloc -> %rax = physical address of a fresh zeroed page (panics when none is left).
        .globl kalloc
kalloc:
        mov next_free(%rip), %rax
        cmp $FREE_END, %rax
        jae 1f
        lea PAGE_SIZE(%rax), %rcx
        mov %rcx, next_free(%rip)
        mov %rax, %rdx
        mov %rax, %rdi                  # zero it (the kernel reaches it through the identity map)
        mov $PAGE_SIZE / 8, %ecx
        xor %eax, %eax
        rep stosq
        mov %rdx, %rax
        ret
1:      lea msg_oom(%rip), %rdi
        call puts
        mov $255, %edi
        jmp shutdown

# paging_init: build the identity map of 0..4 MiB (4 KiB pages, supervisor,
# writable), load a kernel-only address space and turn paging on.
        .globl paging_init
paging_init:
        lea kernel_pt(%rip), %rdi
        xor %ecx, %ecx                  # page number
1:      mov %rcx, %rax
        shl $12, %rax
        or $PTE_P | PTE_W, %rax
        mov %rax, (%rdi,%rcx,8)
        inc %rcx
        cmp $MAPPED_TOP / PAGE_SIZE, %rcx
        jb 1b
        lea kernel_pd(%rip), %rdx       # kernel_pd[i] -> the i-th page of kernel_pt
        xor %ecx, %ecx
2:      mov %rcx, %rax
        shl $12, %rax
        add %rdi, %rax
        or $PTE_P | PTE_W, %rax
        mov %rax, (%rdx,%rcx,8)
        inc %rcx
        cmp $MAPPED_TOP / 0x200000, %rcx
        jb 2b
        lea boot_pdpt(%rip), %rax       # the boot address space: kernel only
        or $PTE_P | PTE_W, %rdx
        mov %rdx, (%rax)
        lea boot_pml4(%rip), %rcx
        or $PTE_P | PTE_W, %rax
        mov %rax, (%rcx)
        mov %cr4, %rax                  # PAE (4-level tables, as long mode requires)
        or $0x20, %eax
        mov %rax, %cr4
        lea boot_pml4(%rip), %rax
        mov %rax, %cr3
        mov %cr0, %rax
        or $1, %eax                     # CR0.PE: paging needs protection on (xk resets CR0 to 0)
        bts $31, %rax                   # CR0.PG
        mov %rax, %cr0
        lea msg_paging(%rip), %rdi
        call puts
        mov %cr3, %rdi
        call puthex
        mov $'\n', %edi
        jmp putc

# uvm_create(p = %rdi) -> %rax = the PML4 of a new address space holding the
# kernel, the user image (read-only) and one stack page. Sets p->upt.
        .globl uvm_create
uvm_create:
        push %rbx
        push %r12
        push %r13
        push %r14
        mov %rdi, %r14                  # p
        call kalloc
        mov %rax, %rbx                  # PML4
        call kalloc
        mov %rax, %r12                  # PDPT
        or $PTE_P | PTE_W | PTE_U, %rax
        mov %rax, (%rbx)                # PML4[0] -> PDPT
        lea kernel_pd(%rip), %rax
        or $PTE_P | PTE_W, %rax         # no U: the kernel's pages are supervisor-only
        mov %rax, (%r12)                # PDPT[0] -> kernel_pd
        call kalloc
        mov %rax, %r13                  # PD for user space
        or $PTE_P | PTE_W | PTE_U, %rax
        mov %rax, 8(%r12)               # PDPT[1] -> PD
        call kalloc
        mov %rax, P_UPT(%r14)           # page table for user space
        or $PTE_P | PTE_W | PTE_U, %rax
        mov %rax, (%r13)                # PD[0] -> PT
        # The user image: its pages, read-only, from USER_BASE up.
        mov P_UPT(%r14), %rdi
        lea user_start(%rip), %rax
        lea user_end(%rip), %rcx
1:      cmp %rcx, %rax
        jae 2f
        mov %rax, %rdx
        or $PTE_P | PTE_U, %rdx
        mov %rdx, (%rdi)
        add $8, %rdi
        add $PAGE_SIZE, %rax
        jmp 1b
2:      call kalloc                     # the stack page, at the top of user space
        or $PTE_P | PTE_W | PTE_U, %rax
        mov P_UPT(%r14), %rdi
        mov %rax, (USTACK_PAGE - USER_BASE) / PAGE_SIZE * 8(%rdi)
        mov %rbx, %rax
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        ret

# user_range_ok(addr = %rdi, n = %rsi) -> %rax = 1 if every byte of
# [addr, addr + n) is in a present user page of the current process, else 0.
        .globl user_range_ok
user_range_ok:
        cmp $USER_BASE, %rdi
        jb 9f
        mov $USER_TOP, %rax
        cmp %rax, %rsi
        ja 9f                           # longer than user space
        sub %rsi, %rax
        cmp %rax, %rdi
        ja 9f                           # addr + n > USER_TOP
        test %rsi, %rsi
        jz 8f
        mov current(%rip), %rdx
        mov P_UPT(%rdx), %rdx
        lea -1(%rdi,%rsi), %rcx         # last byte
        sub $USER_BASE, %rdi
        shr $12, %rdi                   # first page index
        sub $USER_BASE, %rcx
        shr $12, %rcx                   # last page index
1:      mov (%rdx,%rdi,8), %rax
        and $PTE_P | PTE_U, %eax
        cmp $PTE_P | PTE_U, %eax
        jne 9f
        inc %rdi
        cmp %rcx, %rdi
        jbe 1b
8:      mov $1, %eax
        ret
9:      xor %eax, %eax
        ret

# page_fault(tf = %rdi) -> %rax = the trap frame to resume.
# A user access to a missing page of the heap region gets a fresh zero page
# and the instruction is restarted; any other user page fault kills the
# process; a page fault in the kernel is a bug.
        .globl page_fault
page_fault:
        testb $3, TF_CS(%rdi)
        jz kernel_fault
        push %rbx
        push %r12
        mov %rdi, %rbx                  # tf
        mov %cr2, %r12                  # the faulting linear address
        testq $PTE_P, TF_ERR(%rbx)
        jnz 5f                          # a protection violation, not a missing page
        cmp $HEAP_BASE, %r12
        jb 5f
        cmp $HEAP_END, %r12
        jae 5f
        call kalloc
        or $PTE_P | PTE_W | PTE_U, %rax
        mov current(%rip), %rcx
        incq P_FAULTS(%rcx)
        incq demand_faults(%rip)
        mov P_UPT(%rcx), %rcx
        mov %r12, %rdx
        sub $USER_BASE, %rdx
        shr $12, %rdx
        mov %rax, (%rcx,%rdx,8)
        invlpg (%r12)                   # no stale translation for the page
        call print_pid_prefix
        lea msg_pf(%rip), %rdi
        call puts
        mov %r12, %rdi
        call puthex
        lea msg_pf_err(%rip), %rdi
        call puts
        mov TF_ERR(%rbx), %rdi
        call puthex
        lea msg_pf_mapped(%rip), %rdi
        call puts
        mov %rbx, %rax
        pop %r12
        pop %rbx
        ret
5:      call print_pid_prefix           # outside the heap, or not allowed: kill
        lea msg_pf(%rip), %rdi
        call puts
        mov %r12, %rdi
        call puthex
        lea msg_pf_err(%rip), %rdi
        call puts
        mov TF_ERR(%rbx), %rdi
        call puthex
        lea msg_pf_rip(%rip), %rdi
        call puts
        mov TF_RIP(%rbx), %rdi
        call puthex
        lea msg_pf_killed(%rip), %rdi
        call puts
        mov %rbx, %rdi
        pop %r12
        pop %rbx
        jmp kill_current

        .section .rodata
msg_paging:     .asciz "[guest] paging on, kernel cr3 "
msg_oom:        .asciz "[guest] panic: out of physical pages\n"
msg_pf:         .asciz "page fault at "
msg_pf_err:     .asciz " (error "
msg_pf_mapped:  .asciz "): mapped a zero page\n"
msg_pf_rip:     .asciz ") at rip "
msg_pf_killed:  .asciz ", killed\n"

        .data
        .balign 8
next_free:      .quad FREE_START

        .bss
        .balign 4096
kernel_pd:      .space PAGE_SIZE
kernel_pt:      .space PAGE_SIZE * MAPPED_TOP / 0x200000
boot_pml4:      .space PAGE_SIZE
boot_pdpt:      .space PAGE_SIZE
