// The kernel's monitor with state files (vmState.ts's portable states): `vm
// STATE` in xk's shell resumes a VM saved by xk vm (or by this monitor), and a
// VM can be saved to move elsewhere. Separate from kernelProcess.ts, which the
// web page loads: the state format needs node:zlib.

import { spawnVm, type SpawnVmOptions, type VmStateCodec } from './kernelProcess.js';
import { isVmStateFile, loadPortableState, portableHeader, savePortableState } from './vmState.js';
import type { VirtualMachineMonitorFactory } from '../kernel/proc/virtualMachine.js';

export const vmStateCodec: VmStateCodec = {
  isState: isVmStateFile,
  header: portableHeader,
  load: (file, target) => loadPortableState(file, target),
  save: (vm) => savePortableState(vm),
};

/** kernelProcess.ts's kernelMonitor, resuming state files too; `options` for every VM it boots. */
export function kernelMonitorWithStates(options: (k: Parameters<typeof spawnVm>[0]) => Omit<SpawnVmOptions, 'parent' | 'states'> = () => ({})): VirtualMachineMonitorFactory {
  return (memory) => ({ spawn: (k, elf, name, parent) => spawnVm(k, memory, elf, name, { ...options(k), parent, states: vmStateCodec }) });
}
