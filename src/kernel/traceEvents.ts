// Trace events: one step on the path of a system call (or an interrupt), stamped
// with the machine's instruction count, the deterministic clock of xk.
//
// Layers, from the user program down and back:
//   user      the program and its stub (movl $15,%eax; int $64; ret)
//   cpu       what the processor does by itself: the IDT gate, the stack switch, iretq
//   entry     the kernel's assembly: vectorN, alltraps, trapret
//   kernel    the TypeScript kernel: trap(), syscall(), sys_open(), the operation
// and, for a virtual machine's path (src/vmm/vmTrace.ts):
//   guest     the guest's application and the guest's kernel (virtual CPL 3 and 0)
//   vmm       the host's trap handler and the monitor: what it emulates and delivers

export type TraceLayer = 'user' | 'cpu' | 'entry' | 'kernel' | 'guest' | 'vmm';

export interface TraceEvent {
  /** Instructions retired when the step happened. */
  count: number;
  /** The process it happened in (0 = none, e.g. the idle loop). */
  pid: number;
  layer: TraceLayer;
  /** Short name of the step: 'int', 'vector', 'alltraps', 'trap', 'syscall', 'sys', 'op', 'return', 'trapret', 'iretq', 'user'... */
  step: string;
  /** One line for humans. */
  text: string;
  /** Machine-readable details (addresses as hex strings, numbers as numbers). */
  args?: Record<string, string | number>;
}

export type TraceSink = (event: TraceEvent) => void;

/** Hex rendering of a signed-canonical 64-bit number (0xffff8000... for kernel addresses). */
export function hex(n: number | bigint): string {
  const v = typeof n === 'bigint' ? BigInt.asUintN(64, n) : BigInt.asUintN(64, BigInt(n));
  return '0x' + v.toString(16);
}
