// Booting xk: lay out the processor's tables in memory, load the kernel's entry
// code, set up paging, program the devices, and start the first process.
//
// xk has no boot loader: boot() plays its part and leaves the processor as a
// 64-bit kernel would after `lgdt`, `lidt`, `ltr`, `mov %rax,%cr3`: long mode,
// paging on with the kernel's page table, CPL 0. From then on everything the
// processor does happens by executing instructions, and the TypeScript kernel
// runs only inside trap() (the host call at the `trap` label).

import {
  codeSegment64, dataSegment, interruptGate, nullDescriptor, tssDescriptor, writeTss, TSS_SIZE,
} from '../../machine/descriptors.js';
import { COM1 } from '../../machine/devices/serial.js';
import { TIMER_CONTROL, TIMER_RELOAD } from '../../machine/devices/timer.js';
import type { PhysicalMemory } from '../../machine/memory.js';
import type { TraceSink } from '../traceEvents.js';
import type { FileLayer } from '../files/fileLayer.js';
import { PageAllocator } from '../mem/kalloc.js';
import { Kernel, type EntryPoints, type Hardware } from '../kernel.js';
import {
  FREE_MEMORY_PHYS, GDT_ENTRIES, GDT_PHYS, IDLE_STACK_TOP_PHYS, IDT_PHYS, KERNEL_CS, KERNEL_DS,
  KERNEL_TEXT_LIMIT_PHYS, KERNEL_TEXT_PHYS, T_SYSCALL, TSS_PHYS, TSS_SELECTOR, p2v,
} from '../mem/kernelLayout.js';
import { assembleKernelText, trapPathInstructions, type AssemblerChoice } from '../trap/kernelText.js';
import { execImage } from '../proc/exec.js';
import { ProcTable, type Proc } from '../proc/proc.js';
import type { VirtualMachineMonitorFactory } from '../proc/virtualMachine.js';
import { schedule } from '../proc/scheduler.js';
import { wakeup } from '../proc/sleep.js';
import { trapEntry } from '../trap/trap.js';
import { VECTOR_COUNT } from '../trap/trapVectors.js';
import { buildKernelAddressSpace } from '../mem/vm.js';
import { DiskDriver, type DiskRequest } from '../drivers/diskDriver.js';
import { QUEUE_DEPTH } from '../../machine/devices/disk.js';
import { BLOCK_SIZE } from '../fs/layout.js';
import { PAGE_SIZE } from '../mem/kernelLayout.js';

/** CR0.PE | CR0.WP | CR0.PG, CR4.PAE, EFER.LME | EFER.LMA: 64-bit mode with paging. */
const CR0_LONG = 0x1 | 0x10000 | 0x80000000;
const CR4_PAE = 0x20;
const EFER_LONG = 0x100 | 0x400;
const EFER_SCE = 0x1; // system-call extensions: syscall/sysret enabled

/** Instructions between timer interrupts (the scheduling quantum). */
export const DEFAULT_TIMER_INTERVAL = 10000;

export interface BootOptions {
  files: FileLayer;
  /** `xk run PROGRAM`: run this executable as the first process (fds 0-2 on the console). Else /init. */
  program?: { path: string; image: Uint8Array; argv: string[] };
  timerInterval?: number;
  /** Which assembler builds trap/trapEntry.S ('gnu' only in tests). */
  assembler?: AssemblerChoice;
  /** The text of trap/trapEntry.S, when the caller has it (the web page bundles it); else it is read from the repository. */
  entrySource?: string;
  trace?: TraceSink;
  /** The file system is on the machine's timed disk (IRQ 14): attach the disk driver. */
  timedDisk?: boolean;
  /** The virtual-machine monitor vmrun uses (src/vmm/kernelProcess.ts's kernelMonitor); none: vmrun fails. */
  monitor?: VirtualMachineMonitorFactory;
}

export class BootError extends Error {}

export async function boot(hw: Hardware, options: BootOptions): Promise<Kernel> {
  const mem = hw.memory;
  const cpu = hw.cpu;

  // 1. The kernel's entry code: vectors, alltraps, trapret, idle.
  const text = await assembleKernelText(options.assembler ?? 'xk', options.entrySource);
  if (KERNEL_TEXT_PHYS + text.bytes.length > KERNEL_TEXT_LIMIT_PHYS) throw new BootError('kernel text too large');
  mem.bytes.set(text.bytes, KERNEL_TEXT_PHYS);
  cpu.invalidateDecodeCache();
  const at = (name: string): number => p2v(KERNEL_TEXT_PHYS) + text.symbols.get(name)!;
  const entry: EntryPoints = {
    alltraps: at('alltraps'), trapret: at('trapret'), iret: at('iret'), trap: at('trap'), idle: at('idle'),
    vectors: Array.from({ length: VECTOR_COUNT }, (_, n) => at(`vector${n}`)),
    syscallEntry: at('syscall_entry'), sysret: at('sysret'),
    slowret: at('slowret'), trapPath: trapPathInstructions(text),
  };

  // 2. Physical pages and the kernel's page table (the direct map).
  const allocator = new PageAllocator(mem, FREE_MEMORY_PHYS, mem.size);
  allocator.invalidate = (page) => cpu.invalidateDecodeCache(page);
  allocator.flushTlb = () => hw.mmu.flush();
  const kernelVm = buildKernelAddressSpace(mem, allocator);

  // 3. GDT: null, kernel code, kernel data, user data, user code, TSS (two slots).
  const gdt = [nullDescriptor(), codeSegment64(0), dataSegment(0), dataSegment(3), codeSegment64(3), tssDescriptor(p2v(TSS_PHYS))];
  let offset = GDT_PHYS;
  for (const d of gdt) {
    mem.bytes.set(d, offset);
    offset += d.length;
  }
  // 4. TSS: rsp0 is rewritten at every switch to the running process's kernel stack.
  writeTss(mem, TSS_PHYS, p2v(IDLE_STACK_TOP_PHYS));
  // 5. IDT: an interrupt gate per vector; only int $64 may be used from user mode (DPL 3).
  for (let v = 0; v < VECTOR_COUNT; v++) {
    mem.bytes.set(interruptGate(entry.vectors[v], KERNEL_CS, v === T_SYSCALL ? 3 : 0), IDT_PHYS + 16 * v);
  }

  // 6. The processor: 64-bit mode, paging with the kernel page table, tables loaded, CPL 0.
  cpu.cr0 = CR0_LONG;
  cpu.cr4 = CR4_PAE;
  cpu.efer = EFER_LONG;
  cpu.cr3 = kernelVm.root;
  cpu.gdtrBase = p2v(GDT_PHYS);
  cpu.gdtrLimit = GDT_ENTRIES * 8 - 1;
  cpu.idtrBase = p2v(IDT_PHYS);
  cpu.idtrLimit = VECTOR_COUNT * 16 - 1;
  cpu.trSelector = TSS_SELECTOR;
  cpu.tssBase = p2v(TSS_PHYS);
  cpu.tssLimit = TSS_SIZE - 1;
  cpu.cs = KERNEL_CS;
  cpu.ss = cpu.ds = cpu.es = KERNEL_DS;
  cpu.cpl = 0;
  cpu.setRflags(2);
  // The `syscall` road (issue 17; machine/systemCall.ts, trap/trapEntry.S):
  // EFER.SCE on; STAR[47:32] = KERNEL_CS (syscall: CS 0x08, SS 0x10),
  // STAR[63:48] = 0x10 (sysretq: SS = 0x18|3 = USER_DS, CS = 0x20|3 = USER_CS,
  // which is why the GDT has user data BEFORE user code); LSTAR = the stub;
  // SFMASK clears TF, IF, DF, NT and AC on entry (as Linux); KERNEL_GS_BASE =
  // the per-CPU area the stub reaches after swapgs (the TSS page).
  cpu.efer = (EFER_LONG | EFER_SCE) >>> 0;
  cpu.starHi = ((0x10 << 16) | KERNEL_CS) >>> 0;
  cpu.lstar = entry.syscallEntry;
  cpu.sfmask = 0x47700;
  cpu.kernelGsBase = p2v(TSS_PHYS);
  hw.mmu.flush();

  const procs = new ProcTable(mem, allocator, kernelVm);
  const k = new Kernel(hw, allocator, kernelVm, procs, options.files, entry);
  if (options.trace) k.trace = options.trace;
  if (options.monitor) k.monitor = options.monitor(mem);
  cpu.hostCalls.set(entry.trap, () => trapEntry(k));

  // 7. Devices: the timer drives preemption; the serial port interrupts on input.
  k.timerInterval = options.timerInterval ?? DEFAULT_TIMER_INTERVAL;
  hw.ports.out(TIMER_RELOAD, 4, k.timerInterval);
  hw.ports.out(TIMER_CONTROL, 1, 1);
  hw.ports.out(COM1 + 1, 1, 1);
  options.files.setWakeup((channel) => wakeup(k, channel));
  options.files.setConsoleOutput((bytes) => {
    for (const b of bytes) hw.ports.out(COM1, 1, b);
  });
  if (options.timedDisk) attachDiskDriver(k, mem);

  // 8. The first process, then into it through trapret.
  startFirstProcess(k, options);
  schedule(k);
  return k;
}

/**
 * The disk driver and its DMA buffers: one block per hardware tag plus one for
 * the immediate commands, in kernel pages that are never freed.
 */
function attachDiskDriver(k: Kernel, mem: PhysicalMemory): void {
  const perPage = PAGE_SIZE / BLOCK_SIZE;
  const pages: number[] = [];
  for (let i = 0; i < Math.ceil((QUEUE_DEPTH + 1) / perPage); i++) {
    const page = k.allocator.alloc();
    if (page < 0) throw new BootError('no memory for the disk buffers');
    pages.push(page);
  }

  const driver = new DiskDriver(k.hw.ports, {
    buffer: (i) => pages[Math.floor(i / perPage)] + (i % perPage) * BLOCK_SIZE,
    read: (phys, length) => mem.slice(phys, length),
    write: (phys, data) => mem.load(phys, data),
  }, BLOCK_SIZE);
  // Tracing: a request belongs to the process that was running when it was
  // submitted (it may start later, from the interrupt, when the queue was full).
  const requester = new WeakMap<DiskRequest, Proc | null>();
  const submit = driver.submit.bind(driver);
  driver.submit = (r) => {
    if (k.trace) requester.set(r, k.current);
    submit(r);
  };
  driver.onEvent = (what, r, ok) => {
    if (!k.trace) return;
    const op = r.write ? 'write' : 'read';
    const p = requester.has(r) ? requester.get(r)! : k.current;
    if (what === 'start') k.emit(p, 'kernel', 'disk-request', `disk request: ${op} block ${r.block} (tag ${r.tag})`, { block: r.block });
    else k.emit(p, 'kernel', 'disk-done', `disk: ${op} of block ${r.block} done${ok ? '' : ' (error)'}`, { block: r.block });
  };
  k.disk = driver;
  k.files.attachDisk(driver);
}

function startFirstProcess(k: Kernel, options: BootOptions): void {
  const p = k.procs.alloc(options.program ? options.program.path : 'init');
  if (!p) throw new BootError('cannot allocate the first process');
  p.cwd = k.files.rootDirectory();
  let path: string;
  let image: Uint8Array | number;
  let argv: string[];
  if (options.program) {
    ({ path, image, argv } = options.program);
    const console = k.files.openConsole();
    p.ofile[0] = console;
    p.ofile[1] = k.files.dup(console);
    p.ofile[2] = k.files.dup(console);
  } else {
    path = '/init';
    argv = ['init'];
    image = k.files.readFile(path, p.cwd);
    if (typeof image === 'number') throw new BootError(`cannot read ${path} from the file system`);
  }
  if (execImage(k, p, path, image, argv) < 0) throw new BootError(`cannot run ${path}: not a valid xk executable`);
  p.state = 'runnable';
  k.initProc = p;
}
