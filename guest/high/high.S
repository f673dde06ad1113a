# A higher-half guest kernel: linked at 0xffffffff80100000 (PML4 slot 511, where
# XK, Linux and most x86-64 kernels live), loaded at physical 0x100000 (high.ld).
#
# It boots by the protocol of guest/README.md (paging off, CPL 0), builds page
# tables that map physical 0..4 MiB three times -- at 0 (only while it jumps),
# at KERNEL_BASE (slot 511) and at DIRECT_MAP (slot 256, a Linux-style direct
# map) -- jumps to its high addresses, loads a GDT, TSS and IDT that live there
# (gate offsets 0xffffffff8010....), drops to a user program at CPL 3, serves
# its system call and its page fault, and powers off. Everything it prints is
# the same on the bare machine, under `xk vm` and under the xk kernel's `vm`.
#
# Build: gcc -c high.S (or xk as), then ld -T high.ld (test/vmmHighGuest.test.ts).
#
# Built with -DSLOT_256 (and ld --defsym KERNEL_BASE=0xffff800000000000) the
# same kernel runs in slot 256 instead, where Linux keeps its direct map and the
# xk kernel its own half, and its second view of physical memory is slot 511.
# It then also maps slot 510 (where both hosts move their own region first) and
# reads through it, so a host must move its region a second time, and its user
# program faults on slot 509, where the hosts' regions end up. With -DEVERY_SLOT
# as well, its PML4 maps all 512 slots (the empty ones to physical memory again),
# leaving no slot where a host could move its region.

#ifdef SLOT_256
        .equ KERNEL_BASE, 0xffff800000000000
        .equ DIRECT_MAP, 0xffffffff80000000
        .equ SLOT_510, 0xffffff0000000000
#else
        .equ KERNEL_BASE, 0xffffffff80000000
        .equ DIRECT_MAP, 0xffff800000000000
#endif
        .equ USER_BASE, 0x400000        # the user program's 2 MiB page: physical 0..2 MiB again
        .equ COM1, 0x3f8
        .equ SHUTDOWN, 0xf4
        .equ KCODE, 0x08
        .equ KDATA, 0x10
        .equ UDATA, 0x1b
        .equ UCODE, 0x23
        .equ TSS_SEL, 0x28
        .equ T_SYSCALL, 64

        .text
        .globl _start
# Physical 0x100000, paging off: only RIP-relative addresses are right here
# (they give physical addresses), so the tables are built through them.
_start:
        lea boot_stack_top(%rip), %rsp
        lea pd(%rip), %rbx
        movq $0x000083, (%rbx)          # 0..2 MiB: present, writable, large
        movq $0x200083, 8(%rbx)         # 2..4 MiB
        lea pdpt_low(%rip), %rax
        lea 3(%rbx), %rcx
        mov %rcx, (%rax)                # pdpt_low[0] -> pd
        lea pdpt_high(%rip), %rax
        mov %rcx, 510 * 8(%rax)         # pdpt_high[510] -> pd: 0xffffffff80000000
        lea pdpt_direct(%rip), %rax
        mov %rcx, (%rax)                # pdpt_direct[0] -> pd: 0xffff800000000000
        lea pml4(%rip), %rdi
        lea pdpt_low(%rip), %rax
        or $3, %rax
        mov %rax, (%rdi)                # slot 0: identity, for the jump
        lea pdpt_direct(%rip), %rax
        or $3, %rax
        mov %rax, 256 * 8(%rdi)         # slot 256: the direct map
        lea pdpt_high(%rip), %rax
        or $3, %rax
        mov %rax, 511 * 8(%rdi)         # slot 511: the kernel
#ifdef EVERY_SLOT
        lea pdpt_direct(%rip), %rax     # every other slot: physical memory once more
        or $3, %rax
        mov $512, %ecx
        mov %rdi, %rdx
1:      cmpq $0, (%rdx)
        jne 2f
        mov %rax, (%rdx)
2:      add $8, %rdx
        loop 1b
#endif
        mov %rdi, %cr3
        mov %cr0, %rax
        or $0x80000001, %eax            # PG (and PE, which PG needs)
        mov %rax, %cr0
        movabs $high, %rax
        jmp *%rax

# From here on the kernel runs at its link addresses.
high:
        movabs $stack_top, %rsp
        call gdt_init
        call idt_init
        movabs $msg_hello, %rdi
        call puts
        lea 0(%rip), %rdi
        call puthex
        call newline
        call direct_map_check
#ifdef SLOT_256
        call slot_510_check
#endif
        call user_space_init
        # Drop to the user program at CPL 3: SS, RSP, RFLAGS, CS, RIP.
        pushq $UDATA
        pushq $(USER_BASE + 0x90000)
        pushq $0x2
        pushq $UCODE
        movabs $user_program, %rax
        movabs $KERNEL_BASE, %rbx
        sub %rbx, %rax                  # its physical address ...
        add $USER_BASE, %rax            # ... seen through the user page
        push %rax
        iretq

# gdt_init: the TSS descriptor's base is a high address, split over three fields.
gdt_init:
        movabs $tss, %rax
        movabs $gdt_tss, %rdi
        movw $103, (%rdi)
        mov %ax, 2(%rdi)
        shr $16, %rax
        mov %al, 4(%rdi)
        movb $0x89, 5(%rdi)
        movb $0, 6(%rdi)
        mov %ah, 7(%rdi)
        shr $16, %rax
        mov %eax, 8(%rdi)
        movl $0, 12(%rdi)
        movabs $stack_top, %rax
        movabs $tss, %rdi
        mov %rax, 4(%rdi)               # TSS.rsp0: the high kernel stack
        movabs $gdtr, %rax
        lgdt (%rax)
        mov $TSS_SEL, %ax
        ltr %ax
        # Reload CS and SS with an iretq at CPL 0.
        mov %rsp, %rax
        pushq $KDATA
        push %rax
        pushq $0x2
        pushq $KCODE
        movabs $1f, %rax
        push %rax
        iretq
1:      mov $KDATA, %eax
        mov %eax, %ds
        mov %eax, %es
        ret

# idt_init: gates 13 (#GP), 14 (#PF) and 64 (system call, DPL 3) with 64-bit high offsets.
idt_init:
        mov $13, %edi
        movabs $gp_handler, %rsi
        mov $0x8e, %edx
        call set_gate
        mov $14, %edi
        movabs $pf_handler, %rsi
        mov $0x8e, %edx
        call set_gate
        mov $T_SYSCALL, %edi
        movabs $syscall_handler, %rsi
        mov $0xee, %edx
        call set_gate
        movabs $idtr, %rax
        lidt (%rax)
        ret

# set_gate(vector = %edi, handler = %rsi, type/DPL = %dl)
set_gate:
        shl $4, %edi
        movabs $idt, %rax
        add %rdi, %rax
        mov %si, (%rax)
        movw $KCODE, 2(%rax)
        movb $0, 4(%rax)
        mov %dl, 5(%rax)
        shr $16, %rsi
        mov %si, 6(%rax)
        shr $16, %rsi
        mov %esi, 8(%rax)
        movl $0, 12(%rax)
        ret

# direct_map_check: write a message through the direct map (slot 256), read it
# back through the kernel's own addresses (slot 511) and print it.
direct_map_check:
        movabs $msg_direct, %rsi
        movabs $buffer, %rdi
        movabs $KERNEL_BASE, %rax
        sub %rax, %rdi                  # the buffer's physical address ...
        movabs $DIRECT_MAP, %rax
        add %rax, %rdi                  # ... in the direct map
1:      movb (%rsi), %al
        movb %al, (%rdi)
        inc %rsi
        inc %rdi
        test %al, %al
        jnz 1b
        movabs $buffer, %rdi
        call puts
        ret

#ifdef SLOT_256
# slot_510_check: map physical memory a third time, at slot 510, and print the
# message direct_map_check left in the buffer through it.
slot_510_check:
        movabs $pdpt_direct, %rax
        movabs $KERNEL_BASE, %rbx
        sub %rbx, %rax
        or $3, %rax
        movabs $pml4, %rdi
        mov %rax, 510 * 8(%rdi)         # slot 510 -> pdpt_direct (its entry 0 -> pd)
        movabs $msg_slot_510, %rdi
        call puts
        movabs $buffer, %rdi
        sub %rbx, %rdi
        movabs $SLOT_510, %rax
        add %rax, %rdi
        call puts
        ret

#endif
# user_space_init: slot 0 becomes the user's: one 2 MiB user page at USER_BASE.
user_space_init:
        movabs $pd_user, %rax
        movq $0x000087, 16(%rax)        # pd_user[2] = 0x400000: physical 0, present, writable, user, large
        movabs $KERNEL_BASE, %rbx
        sub %rbx, %rax
        or $7, %rax
        movabs $pdpt_user, %rdi
        mov %rax, (%rdi)                # pdpt_user[0] -> pd_user
        sub %rbx, %rdi
        or $7, %rdi
        movabs $pml4, %rax
        mov %rdi, (%rax)                # slot 0 -> pdpt_user: the identity map is gone
        mov %cr3, %rax
        mov %rax, %cr3
        ret

# The system call: print the user's string at %rdi, then the frame's RIP and RSP.
syscall_handler:
        mov %rdi, %rbx
        movabs $msg_syscall, %rdi
        call puts
        mov %rbx, %rdi
        call puts
        movabs $msg_frame, %rdi
        call puts
        mov (%rsp), %rdi
        call puthex
        movabs $msg_rsp, %rdi
        call puts
        mov %rsp, %rdi
        call puthex
        call newline
        iretq

pf_handler:
        movabs $msg_pf, %rdi
        call puts
        mov %cr2, %rdi
        call puthex
        movabs $msg_err, %rdi
        call puts
        mov (%rsp), %rdi
        call puthex
        movabs $msg_rip, %rdi
        call puts
        mov 8(%rsp), %rdi
        call puthex
        call newline
        movabs $msg_bye, %rdi
        call puts
        mov $0, %al
        out %al, $SHUTDOWN
        hlt

gp_handler:
        movabs $msg_gp, %rdi
        call puts
        mov (%rsp), %rdi
        call puthex
        call newline
        mov $13, %al
        out %al, $SHUTDOWN
        hlt

# puts(s = %rdi), puthex(v = %rdi), newline: serial output.
puts:
1:      movb (%rdi), %al
        test %al, %al
        jz 2f
        call putc
        inc %rdi
        jmp 1b
2:      ret

puthex:
        mov %rdi, %rsi
        mov $'0', %al
        call putc
        mov $'x', %al
        call putc
        mov $16, %ecx
1:      rol $4, %rsi
        mov %esi, %eax
        and $15, %eax
        cmp $10, %eax
        jb 2f
        add $('a' - 10 - '0'), %eax
2:      add $'0', %eax
        call putc
        dec %ecx
        jnz 1b
        ret

newline:
        mov $'\n', %al
        call putc
        ret

putc:
        push %rdx
        mov $COM1, %edx
        out %al, %dx
        pop %rdx
        ret

# The user program, at CPL 3, at USER_BASE + its physical address: one system
# call, then a load from an unmapped address.
user_program:
        lea msg_user(%rip), %rdi
        mov $T_SYSCALL, %eax
        int $T_SYSCALL
#ifdef SLOT_256
        # Slot 509, which this kernel leaves empty: where both hosts keep their
        # region in the end (its TSS page, under the xk kernel). A page fault, as
        # on the bare machine: the host's region is not there for the guest.
        movabs $0xfffffe8000003000, %rbx
        mov (%rbx), %rax
#else
        mov 0x1000, %rax
#endif
        hlt

msg_user:    .asciz "user: hello from CPL 3\n"

        .data
msg_hello:   .asciz "high: running at "
#ifdef SLOT_256
msg_direct:  .asciz "high: written through 0xffffffff80000000, read at the kernel's 0xffff800000000000\n"
msg_slot_510: .asciz "high: through slot 510: "
#else
msg_direct:  .asciz "high: written through the direct map at 0xffff800000000000, read at 0xffffffff80000000\n"
#endif
msg_syscall: .asciz "high: system call from CPL 3: "
msg_frame:   .asciz "high: frame rip "
msg_rsp:     .asciz " on the kernel stack at "
msg_pf:      .asciz "high: page fault at "
msg_err:     .asciz " error "
msg_rip:     .asciz " rip "
msg_bye:     .asciz "high: shutdown\n"
msg_gp:      .asciz "high: general protection fault, error "
        .balign 16
gdt:    .quad 0
        .quad 0x00209a0000000000        # 0x08 kernel code
        .quad 0x0000920000000000        # 0x10 kernel data
        .quad 0x0000f20000000000        # 0x18 user data
        .quad 0x0020fa0000000000        # 0x20 user code
gdt_tss: .quad 0, 0                     # 0x28 TSS (gdt_init)
gdt_end:
gdtr:   .short gdt_end - gdt - 1
        .quad gdt
idtr:   .short 65 * 16 - 1
        .quad idt

        .bss
        .balign 4096
pml4:        .skip 4096
pdpt_low:    .skip 4096
pdpt_high:   .skip 4096
pdpt_direct: .skip 4096
pdpt_user:   .skip 4096
pd:          .skip 4096
pd_user:     .skip 4096
idt:         .skip 4096
tss:         .skip 4096
buffer:      .skip 256
        .balign 16
boot_stack:  .skip 4096
boot_stack_top:
stack:       .skip 8192
stack_top:
