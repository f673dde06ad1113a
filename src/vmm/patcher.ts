// Making the unprivileged sensitive instructions trap, without the machine's
// help (real x86 semantics, no --strict).
//
// popf, pushf, sgdt, sidt, smsw, str and mov from a segment register do not
// trap at CPL 3 on x86, yet what they do depends on (or silently fails to
// change) the privileged state the monitor virtualizes: a deprivileged guest
// kernel's `popf` cannot set IF, and its `pushf` shows the real IF, not its own.
//
// When the monitor loads guest code it decodes the executable segments from
// start to end (a linear sweep: it assumes code segments hold only code) and
// overwrites the first byte of each such instruction with int3 (0xcc). int3
// reaches the monitor as a #GP (the monitor's IDT gates are DPL 0); the monitor
// looks the address up in the patch map, emulates the ORIGINAL instruction
// (whose bytes the map keeps) and continues after it. The rest of the original
// bytes stay in place and are never executed. A guest int3 that is not in the
// map is the guest's own breakpoint and is reflected as usual. The map is keyed
// by guest-physical address, so code the guest kernel maps elsewhere (its user
// image at 0x40000000) is covered too. Limits: code generated or copied by the
// guest at run time is not patched, and a patched page the guest later reuses
// for other code keeps its (now stale) map entries.

import { decodeBytes } from '../isa/decode.js';

/** Mnemonics that are sensitive but do not trap at CPL 3 on real x86. */
export const UNPRIVILEGED_SENSITIVE = new Set(['pushf', 'popf', 'sgdt', 'sidt', 'smsw', 'str']);

export interface Patch {
  /** Address of the instruction: `address` + its offset in `code` (the loader passes the guest-physical one). */
  address: number;
  mnemonic: string;
  /** The original bytes of the whole instruction. */
  original: Uint8Array;
}

/**
 * Patch `code` (loaded at guest-virtual `address`) in place; returns the patches made.
 */
export function patchSensitiveInstructions(code: Uint8Array, address: number): Patch[] {
  const patches: Patch[] = [];
  let at = 0;
  while (at < code.length) {
    const d = decodeBytes(code, at);
    const length = d.length > 0 ? d.length : 1;
    const form = d.form;
    if (form !== null && d.fault === 0 &&
        (UNPRIVILEGED_SENSITIVE.has(form.mnemonic) || (form.mnemonic === 'mov' && d.operands[1]?.type === 'sreg'))) {
      patches.push({ address: address + at, mnemonic: form.mnemonic, original: code.slice(at, at + length) });
      code[at] = 0xcc;
    }
    at += length;
  }
  return patches;
}
