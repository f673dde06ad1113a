# The first code of every user program.
# exec starts it at _start with argc in %rdi and argv in %rsi: exactly where
# main(int argc, char **argv) expects them, so crt0 only has to align the
# stack, call main, and pass main's result to exitstatus.

  .text
  .globl _start
  .type _start, @function
_start:
  xorl %ebp, %ebp        # no caller frame: ends frame-pointer walks
  andq $-16, %rsp        # the ABI wants %rsp 16-byte aligned at each call
  call main
  movl %eax, %edi        # exitstatus(main's return value)
  call exitstatus
1:
  jmp 1b                 # exit does not return
