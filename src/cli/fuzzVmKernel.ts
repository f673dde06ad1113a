// `xk fuzz --vm --kernel`: the monitor fuzzer's guests as processes of the xk
// kernel. Each guest becomes a boot image for the kernel's `vm` program
// (guestElf.ts); a shell session runs up to 100 of them one after another
// (`vm g0.elf`, `vm g1.elf`, ...), and as each VM stops the same guest runs on
// the bare machine and everything is compared: stop reason, status, clock,
// serial output, registers and guest memory (kernelGuests.ts), and the
// kernel's memory outside the VM's own pages must be unchanged
// (kernelHostMemory.ts). The host must live through the session: no panic,
// every VM ends, the shell's last line runs.

import { runToCompletion } from '../kernel/boot/session.js';
import { buildUserPrograms } from '../build/userPrograms.js';
import { BareRunner } from '../vmm/fuzz/differential.js';
import { generateGuest, guestRegions, patchable, type FuzzGuest } from '../vmm/fuzz/guestGenerator.js';
import { guestElf } from '../vmm/fuzz/guestElf.js';
import { KernelGuestChecker, type KernelHostHook } from '../vmm/fuzz/kernelGuests.js';

/** Guests per shell session: the root file system holds about 117 of their 66 KB images. */
const PER_SESSION = 100;

/** A guest whose run as a kernel process differed from the bare machine's (or a session the host did not survive). */
export interface KernelVmFinding {
  seed: number;
  guest: FuzzGuest | null;
  difference: string;
}

export interface KernelVmFuzzReport {
  /** Guests compared, and the seeds looked at to find them (skipped: not patchable, or never ending by themselves). */
  guests: number;
  seedsTried: number;
  sessions: number;
  findings: KernelVmFinding[];
}

/**
 * Compare `count` guests, from seed `seed` on, as processes of the xk kernel
 * with the bare machine. The kernel's `vm` runs a guest without an instruction
 * limit and loads it patched, so only patchable guests that end by themselves
 * on the bare machine are taken.
 */
export async function fuzzVmUnderKernel(seed: number, count: number, hook?: KernelHostHook): Promise<KernelVmFuzzReport> {
  const report: KernelVmFuzzReport = { guests: 0, seedsTried: 0, sessions: 0, findings: [] };
  const bare = new BareRunner(true);
  let batch: Array<[number, FuzzGuest]> = [];
  for (let s = seed; report.guests < count; s++) {
    report.seedsTried++;
    const g = generateGuest(s);
    if (!patchable(g) || bare.run(guestRegions(g)).reason === 'limit') continue;
    batch.push([s, g]);
    report.guests++;
    if (batch.length === PER_SESSION || report.guests === count) {
      report.findings.push(...(await runSession(batch, hook)));
      report.sessions++;
      batch = [];
    }
  }
  return report;
}

/** One shell session running `guests` in turn: what differed from the bare machine. */
async function runSession(guests: Array<[number, FuzzGuest]>, hook?: KernelHostHook): Promise<KernelVmFinding[]> {
  const programs = new Map(buildUserPrograms());
  const checker = new KernelGuestChecker(hook);
  let input = '';
  guests.forEach(([, g], i) => {
    programs.set(`g${i}.elf`, guestElf(g));
    checker.guests.set(`g${i}.elf`, g);
    input += `vm g${i}.elf\n`;
  });
  let output = '';
  const run = await runToCompletion({
    program: { path: 'sh', image: programs.get('sh')!, argv: ['sh'] },
    programs, input: input + 'echo host alive\n', inputEnds: true, memoryBytes: 64 * 1024 * 1024,
    monitor: checker.monitor, trace: () => {},
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
  });
  const findings: KernelVmFinding[] = [];
  const first = guests[0][0], last = guests[guests.length - 1][0];
  const hostFailure = run.status !== 0 ? `the shell ended with status ${run.status} (${run.message})`
    : /kernel panic|cannot boot/.test(output) ? (output.match(/.*(kernel panic|cannot boot).*/)?.[0] ?? 'kernel panic')
    : !output.includes('host alive\n') ? 'the shell never ran its last line' : null;
  if (hostFailure !== null) findings.push({ seed: first, guest: null, difference: `host, session of seeds ${first}..${last}: ${hostFailure}` });
  guests.forEach(([seed, g], i) => {
    const name = `g${i}.elf`;
    if (!checker.results.has(name)) findings.push({ seed, guest: g, difference: 'the VM never stopped' });
    else {
      const d = checker.results.get(name);
      if (d != null) findings.push({ seed, guest: g, difference: d });
    }
  });
  return findings;
}
