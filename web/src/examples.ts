// The editor's example programs: assembly that xk's own assembler builds in the
// page and xk's linker links with crt0 and the user library (printf, open, ...).

export interface Example {
  name: string;
  fileName: string;
  source: string;
}

export const examples: Example[] = [
  {
    name: 'hello: a system call by hand',
    fileName: 'hello.s',
    source: `# hello: write(1, msg, len) by hand -- what the write() stub does.
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
msg:    .ascii "hello from user mode\\n"
        .set len, . - msg
`,
  },
  {
    name: 'open() and read() a file',
    fileName: 'openread.s',
    source: `# open("/README", O_RDONLY), read up to 120 bytes, write them to the console.
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
`,
  },
  {
    name: 'a signal handler (SIGALRM)',
    fileName: 'alarm.s',
    source: `# signal(SIGALRM, handler); alarm(2): the kernel interrupts the loop below
# with an upcall to handler, which returns through sigreturn.
        .text
        .globl main
main:
        pushq %rbx
        movl $14, %edi          # SIGALRM
        leaq handler(%rip), %rsi
        call signal
        movl $2, %edi           # in 2 timer ticks
        call alarm
        xorl %ebx, %ebx
spin:   incq %rbx               # compute until the handler sets done
        cmpl $0, done(%rip)
        je spin
        leaq fmt(%rip), %rdi
        movq %rbx, %rsi
        xorl %eax, %eax
        call printf
        xorl %eax, %eax
        popq %rbx
        ret

handler:                        # called by the kernel's signal frame
        movl $1, done(%rip)
        ret                     # to the trampoline: sigreturn

        .section .rodata
fmt:    .asciz "SIGALRM arrived after %ld loop iterations\\n"
        .data
done:   .long 0
`,
  },
  {
    name: 'a bad pointer: the kernel says no',
    fileName: 'badpointer.s',
    source: `# write(1, <a kernel address>, 16): copyin refuses, the call returns -1,
# and nothing leaks. Then the same with an unmapped address.
        .text
        .globl main
main:
        subq $8, %rsp
        movl $1, %edi
        movabsq $0xffff800000100000, %rsi   # kernel memory
        movl $16, %edx
        call write
        leaq fmt(%rip), %rdi
        movl %eax, %esi
        xorl %eax, %eax
        call printf
        movl $1, %edi
        movl $0x70000000, %esi              # not mapped
        movl $16, %edx
        call write
        leaq fmt(%rip), %rdi
        movl %eax, %esi
        xorl %eax, %eax
        call printf
        xorl %eax, %eax
        addq $8, %rsp
        ret

        .section .rodata
fmt:    .asciz "write returned %d\\n"
`,
  },
];
