// The signal frame: what delivery writes on the user stack and sigreturn reads back.
//
// Like the trap frame an interrupt leaves on the kernel stack, the signal frame
// holds the interrupted registers; here it is a copy of the trap frame, placed on
// the USER stack (or the alternate signal stack) where the handler can see it.
//
//   frame + 0     return address: sa_restorer, the user trampoline that calls sigreturn
//   frame + 8     ucontext_t (224 bytes, 16-byte aligned)     <- %rdx for the handler
//                   +0  uc_flags   +8 uc_link (0)
//                   +16 uc_stack   { void *ss_sp; int ss_flags; size_t ss_size; }
//                   +40 uc_sigmask (the mask to restore)
//                   +48 uc_mcontext: struct trap_frame, 176 bytes, trapFrame.ts order
//   frame + 232   siginfo_t (24 bytes)                         <- %rsi
//                   +0 si_signo  +4 si_errno  +8 si_code  +12 si_pid  +16 si_addr
//   frame + 256
// The handler is entered with %rsp = frame, as if `call handler` had pushed the
// trampoline's address, so %rsp + 8 is 16-byte aligned as the ABI wants.

export const UC_FLAGS = 0;
export const UC_STACK = 16;
export const UC_SIGMASK = 40;
export const UC_MCONTEXT = 48;
export const UCONTEXT_SIZE = 224;

export const SI_SIGNO = 0;
export const SI_ERRNO = 4;
export const SI_CODE = 8;
export const SI_PID = 12;
export const SI_ADDR = 16;
export const SIGINFO_SIZE = 24;

export const FRAME_UCONTEXT = 8;
export const FRAME_SIGINFO = FRAME_UCONTEXT + UCONTEXT_SIZE;
export const SIGNAL_FRAME_SIZE = FRAME_SIGINFO + SIGINFO_SIZE; // 256

/** struct sigaction { void *sa_handler; unsigned long sa_flags; void *sa_restorer; sigset_t sa_mask; } */
export const SIGACTION_SIZE = 32;
/** stack_t { void *ss_sp; int ss_flags; size_t ss_size; } */
export const STACK_T_SIZE = 24;
/** sigset_t: unsigned long (only the low 32 bits are signals). */
export const SIGSET_SIZE = 8;
/** Smallest alternate stack sigaltstack accepts: room for one frame and a little handler. */
export const MINSIGSTKSZ = 1024;
/** The red zone below a user %rsp that the frame must not overwrite. */
export const RED_ZONE = 128;
