// vmrun(path): start the bootable guest image at `path` as a virtual machine, a
// child process of the caller, booted by the kernel's monitor (proc/virtualMachine.ts). Returns the child's pid; wait()
// collects the guest's shutdown status (-1 if the monitor had to stop it).

import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';
import { argPath, traceArgs, traceOperation, type SyscallFunction } from './args.js';

function sysVmrun(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  if (path === -1) return -1;
  traceArgs(k, p, 'vmrun', [path]);
  if (!k.monitor) {
    traceOperation(k, p, 'vmrun: this kernel was booted without a virtual-machine monitor');
    return -1;
  }
  const image = k.files.readFile(path, p.cwd!);
  if (typeof image === 'number') return image;
  try {
    const child = k.monitor.spawn(k, image, path, p);
    traceOperation(k, p, `vmrun: pid ${child.pid} boots ${path} as a virtual machine`);
    return child.pid;
  } catch (e) {
    // A bad image, or no memory: the caller gets -1 (the trace says why).
    traceOperation(k, p, `vmrun: ${e instanceof Error ? e.message : String(e)}`);
    return -1;
  }
}

export const VM_SYSCALLS: ReadonlyMap<string, SyscallFunction> = new Map<string, SyscallFunction>([['vmrun', sysVmrun]]);
