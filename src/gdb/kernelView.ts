// What `monitor` commands may read of the xk kernel, as one small interface,
// and its adapter over the Kernel object. The stub never walks kernel data
// structures itself: if the kernel's insides move, only kernelView() changes.

import type { Kernel } from '../kernel/kernel.js';
import { TRAP_FRAME_FIELDS } from '../kernel/trap/trapFrame.js';
import { existingSignalState, signalName, NSIG, sigbit } from '../kernel/signals/signals.js';

export interface ProcessInfo { pid: number; name: string; state: string; parent: number | null; current: boolean }

export interface KernelView {
  processes(): ProcessInfo[];
  /** The running process's pid, or null when the processor idles. */
  currentPid(): number | null;
  /** The trap frame at the top of a process's kernel stack, field by field. */
  trapFrame(pid: number): [string, bigint][] | null;
  /** Open file descriptors: fd and a description. */
  openFiles(pid: number): [number, string][] | null;
  /** Pending and blocked signals, by name. */
  signals(pid: number): { pending: string[]; blocked: string[] } | null;
  /** Linear addresses of the kernel's assembly entry points (alltraps, trapret, iret, trap, idle, vector64). */
  entryPoints(): [string, number][];
  /** Every entry stub by its assembly name (vector0..vector255 too), for a symbol file. */
  entrySymbols(): [string, number][];
}

const TYPE_NAMES: Record<number, string> = { 1: 'directory', 2: 'file', 3: 'device' };

export function kernelView(k: Kernel): KernelView {
  const proc = (pid: number) => k.procs.live().find((p) => p.pid === pid);
  const names = (set: number): string[] => {
    const out: string[] = [];
    for (let s = 1; s < NSIG; s++) if ((set & sigbit(s)) !== 0) out.push(signalName(s));
    return out;
  };
  return {
    processes: () => k.procs.live().map((p) => ({
      pid: p.pid, name: p.name, state: p.state, parent: p.parent?.pid ?? null, current: p === k.current,
    })),
    currentPid: () => k.current?.pid ?? null,
    entryPoints: () => [
      ['alltraps', k.entry.alltraps], ['trapret', k.entry.trapret], ['iret', k.entry.iret], ['trap', k.entry.trap],
      ['idle', k.entry.idle], ['vector14', k.entry.vectors[14]], ['vector32', k.entry.vectors[32]], ['vector64', k.entry.vectors[64]],
    ],
    entrySymbols: () => [
      ['alltraps', k.entry.alltraps], ['trapret', k.entry.trapret], ['iret', k.entry.iret], ['trap', k.entry.trap],
      ['idle', k.entry.idle], ['syscall_entry', k.entry.syscallEntry], ['sysret', k.entry.sysret],
      ...k.entry.vectors.map((a, n): [string, number] => [`vector${n}`, a]),
    ],
    trapFrame(pid) {
      const p = proc(pid);
      return p ? TRAP_FRAME_FIELDS.map((f) => [f, p.tf.big(f)] as [string, bigint]) : null;
    },
    openFiles(pid) {
      const p = proc(pid);
      if (!p) return null;
      const out: [number, string][] = [];
      p.ofile.forEach((f, fd) => {
        if (!f) return;
        const st = k.files.stat(f);
        out.push([fd, typeof st === 'number' ? 'pipe' : `${TYPE_NAMES[st.type] ?? `type ${st.type}`} inode ${st.ino}, ${st.size} bytes`]);
      });
      return out;
    },
    signals(pid) {
      const p = proc(pid);
      if (!p) return null;
      const s = existingSignalState(p);
      return { pending: names(s?.pending ?? 0), blocked: names(s?.mask ?? 0) };
    },
  };
}
