// The guest's own breakpoints on the real CPU. While the guest runs, its host
// (host.ts, or the xk kernel: kernelProcess.ts) loads the guest's DR0-DR3 and
// DR7 into the real debug registers, so that they fire where the guest's code
// runs, and the monitor reflects the #DB through the guest's IDT.
//
// Two things stay off the real CPU:
//   - DR7.GD: it stays virtual (every mov to or from %dbN traps at real CPL 3
//     anyway and runs on the guest's processor).
//   - a breakpoint on an address in the host's own PML4 slot. The guest never
//     reaches that slot on the real CPU (its accesses there run on the guest's
//     processor, which checks all four breakpoints), but the host's trap path
//     does while the guest's breakpoints are still armed: the frame the CPU
//     pushes onto the host's stack, the kernel's entry stubs. A #DB there would
//     be raised in the host, at CPL 0: a guest could stop its monitor or panic
//     the kernel by pointing a breakpoint at the host's stack.

import { isCanonical, toSignedLinear } from '../machine/address.js';
import { DR7_GD } from '../machine/debugRegisters.js';
import type { ShadowPaging } from './shadowPaging.js';
import type { Vcpu } from './vcpu.js';

/** The DR7 to load into the real CPU for the guest (see above). */
export function realDr7(vcpu: Vcpu, shadow: ShadowPaging): number {
  let dr7 = vcpu.dr7 & ~DR7_GD;
  if ((dr7 & 0xff) === 0) return dr7 >>> 0; // no breakpoint enabled (most exits)
  for (let n = 0; n < 4; n++) {
    const io = ((vcpu.dr7 >>> (16 + 4 * n)) & 3) === 2; // a port number, not an address
    const lo = vcpu.dr[2 * n], hi = vcpu.dr[2 * n + 1];
    if (!io && isCanonical(lo, hi) && shadow.inReservedSlot(toSignedLinear(lo, hi))) dr7 &= ~(3 << (2 * n));
  }
  return dr7 >>> 0;
}
