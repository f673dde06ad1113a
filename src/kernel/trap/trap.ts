// trap(struct trap_frame *tf): the TypeScript kernel's single entry point.
//
// alltraps calls it with %rdi = the trap frame's address; the CPU's host-call gate
// (cpu.hostCalls at the address of the `trap` label) runs this function instead.
// It handles the trap, then leaves the processor at trapret with %rsp at the trap
// frame of whichever process runs next: the same one (like `ret`), or another one
// (a context switch, scheduler.ts), or the idle loop.

import { COM1, LSR_DATA_READY } from '../../machine/devices/serial.js';
import { PIC_COMMAND, PIC_EOI } from '../../machine/devices/pic.js';
import { joinAddress } from '../../machine/descriptors.js';
import { T_IRQ0, T_IRQ_DISK, T_IRQ_SERIAL, T_PAGE_FAULT, T_SYSCALL, p2v, v2p } from '../mem/kernelLayout.js';
import type { Kernel } from '../kernel.js';
import { exitProcess } from '../proc/exit.js';
import { enterProcess, schedule } from '../proc/scheduler.js';
import { wakeup } from '../proc/sleep.js';
import { syscall } from '../syscall/syscall.js';
import type { TrapFrame } from './trapFrame.js';
import { hex } from '../traceEvents.js';
import { deliverPendingSignals } from '../signals/signalDelivery.js';
import { faultToSignal } from '../signals/signalFaults.js';
import { signalTick } from '../signals/signalTimers.js';
import { interruptForeground } from '../signals/consoleInterrupt.js';
import { repairUserPageFault } from '../mem/pageFault.js';

const RDI = 7;

/** The host-call handler installed at the address of `trap`. */
export function trapEntry(k: Kernel): void {
  const tfAddress = joinAddress(k.cpu.regs[2 * RDI], k.cpu.regs[2 * RDI + 1]);
  trap(k, k.trapFrameAt(v2p(tfAddress - k.kernelOffset))); // a VM may see the kernel's half elsewhere (scheduler.ts)
}

export function trap(k: Kernel, tf: TrapFrame): void {
  const trapno = tf.lo('trapno');
  const fromUser = (tf.lo('cs') & 3) === 3;
  const p = fromUser ? k.current : null;
  if (k.trace) {
    k.emit(p, 'kernel', 'trap', `trap(tf = ${hex(p2v(tf.phys))}): trapno ${trapno}`, {
      trapno, rax: tf.hex('rax'), rip: tf.hex('rip'), rsp: tf.hex('rsp'), cs: tf.hex('cs'), ss: tf.hex('ss'),
    });
  }

  if (p?.guest && p.guest.trap(k, tf)) {
    // A virtual machine's trap, handled by the monitor (proc/virtualMachine.ts).
  } else if (trapno === T_SYSCALL && p) {
    if (p.killed) exitProcess(k, p, -1);
    else syscall(k, p);
  } else if (trapno === T_IRQ0) {
    k.ticks++;
    k.hw.ports.out(PIC_COMMAND, 1, PIC_EOI);
    wakeup(k, k.ticksChannel);
    k.onClockTick?.(); // asynchronous I/O (syscall/sysaio.ts)
    signalTick(k, p); // alarm and setitimer (signalTimers.ts)
    if (p && p.state === 'running') p.state = 'runnable'; // preempted: round robin moves on
  } else if (trapno === T_IRQ_DISK && k.disk) {
    // The disk finished requests (drivers/diskDriver.ts): sleepers wake up, commits go on.
    k.emit(p, 'kernel', 'disk-irq', 'disk interrupt (IRQ 14)');
    k.disk.interrupt();
    k.onDiskInterrupt?.();
  } else if (trapno === T_IRQ_SERIAL) {
    k.hw.ports.out(PIC_COMMAND, 1, PIC_EOI);
    consoleInterrupt(k);
  } else if (p && trapno === T_PAGE_FAULT && repairUserPageFault(k, p, tf)) {
    // Copy-on-write or stack growth (pageFault.ts): the instruction runs again.
  } else if (p && faultToSignal(k, p, tf, trapno)) {
    // The program has a handler for the fault's signal (signalFaults.ts): it runs on the way out.
  } else if (p) {
    // A fault in user mode kills only that process.
    if (trapno === T_PAGE_FAULT) k.pageFaults++;
    const addr = trapno === T_PAGE_FAULT ? hex(k.cpu.cr2) : '0x0';
    k.print(`pid ${p.pid} (${p.name}): trap ${trapno} err ${tf.lo('err')} on cpu 0 rip ${tf.hex('rip')} addr ${addr} -- kill proc\n`);
    p.killed = true;
  } else {
    k.print(`kernel panic: trap ${trapno} err ${tf.lo('err')} rip ${tf.hex('rip')} cr2 ${hex(k.cpu.cr2)}\n`);
    k.hw.stop(`kernel panic: trap ${trapno} at rip ${tf.hex('rip')}`);
    return;
  }

  if (p && p.killed && p.state !== 'zombie' && !p.pending) exitProcess(k, p, -1);
  if (p && p.state === 'running' && deliverPendingSignals(k, p)) enterProcess(k, p); // straight back to the same process
  else schedule(k);
}

/** Serial input: hand the received bytes to the console (the file layer); ^C interrupts the foreground. */
function consoleInterrupt(k: Kernel): void {
  const bytes: number[] = [];
  while (k.hw.ports.in(COM1 + 5, 1) & LSR_DATA_READY) bytes.push(k.hw.ports.in(COM1, 1));
  if (bytes.length > 0 && k.files.consoleInput(Uint8Array.from(bytes))) interruptForeground(k);
}
