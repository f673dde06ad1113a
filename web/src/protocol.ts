// Messages between the page (main.ts) and the worker that runs xk (worker.ts).

/** One trip into the kernel and back, for the picture: its steps by layer. */
export interface PathPicture {
  title: string;
  pid: number;
  steps: PathStep[];
  /** The trap frame on the kernel stack when trap() was entered, field by field (monitor `tf`). */
  trapFrame?: string;
  /** 'syscall', 'signal' (a delivery: kernel -> handler -> trampoline -> sigreturn) or 'vm' (a guest app's system call under the monitor). */
  kind: 'syscall' | 'signal' | 'vm';
}

export interface PathStep {
  count: number;
  /** The lane: user/cpu/entry/kernel for xk's own paths; guest-app/host/monitor/guest-kernel for the VM path. */
  layer: 'user' | 'cpu' | 'entry' | 'kernel' | 'guest-app' | 'host' | 'monitor' | 'guest-kernel';
  step: string;
  text: string;
  /** xk's disassembly at the CPU's rip when the step was recorded. */
  code: string;
}

/** The machine when paused: what the "machine" panel shows. */
export interface MachineView {
  instructions: number;
  registers: string;
  /** The next instructions at rip, by xk's disassembler. */
  code: string;
  /** The process table (monitor `ps`). */
  processes: string;
  /** The page-table walk for `address` (monitor `pt`). */
  walk: string;
}

export type ToWorker =
  /** A fresh machine, booted to the shell. */
  | { kind: 'boot' }
  /** Keys typed in the terminal, as bytes in a string (one char per byte). */
  | { kind: 'input'; text: string }
  /** Ctrl-C: SIGINT to the foreground process. */
  | { kind: 'interrupt' }
  /** Assemble and link the editor's program, then run it (traced: show each system call's path). */
  | { kind: 'run'; source: string; fileName: string; trace: boolean; guest?: boolean }
  /** Stop the machine between instructions and show it; resume; run N instructions while paused. */
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'step'; count: number }
  /** The page-table walk for an address (hex) while paused. */
  | { kind: 'inspect'; address: string };

export type FromWorker =
  | { kind: 'output'; text: string }
  | { kind: 'status'; text: string }
  /** The program did not build; line is 1-based in the editor, 0 when unknown. */
  | { kind: 'buildError'; line: number; message: string }
  | { kind: 'trace'; text: string; paths: PathPicture[]; perfetto: string; vmEvents?: string }
  | { kind: 'machine'; view: MachineView }
  | { kind: 'exited'; status: number | null; message: string };
