// Messages between the page (main.ts) and the worker that runs xk (worker.ts).

/** One trip into the kernel and back, for the picture: its steps by layer. */
export interface PathPicture {
  title: string;
  pid: number;
  steps: { count: number; layer: 'user' | 'cpu' | 'entry' | 'kernel'; step: string; text: string }[];
}

export type ToWorker =
  /** A fresh machine, booted to the shell. */
  | { kind: 'boot' }
  /** Keys typed in the terminal, as bytes in a string (one char per byte). */
  | { kind: 'input'; text: string }
  /** Ctrl-C: SIGINT to the foreground process. */
  | { kind: 'interrupt' }
  /** Assemble and link the editor's program, then run it (traced: show each system call's path). */
  | { kind: 'run'; source: string; fileName: string; trace: boolean };

export type FromWorker =
  | { kind: 'output'; text: string }
  | { kind: 'status'; text: string }
  /** The program did not build; line is 1-based in the editor, 0 when unknown. */
  | { kind: 'buildError'; line: number; message: string }
  | { kind: 'trace'; text: string; paths: PathPicture[] }
  | { kind: 'exited'; status: number | null; message: string };
