// How the JIT tier goes from one translation to the next (src/machine/jit/,
// Cpu.runSlice): a region entered at any of its blocks, and the chaining of
// translations. Each program runs in lockstep on the JIT (regions of up to 8
// blocks and single blocks), the block tier and the interpreter, stopped after
// every slice of a few instructions (the deadline lands at every place of a
// chain): registers, flags, RIP and count must be the same at every stop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/machine/machine.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText as asm } from './helpers/gnuAs.js';

const CODE = 0x10000;

function state(m: Machine): string {
  return JSON.stringify({ regs: [...m.cpu.regs], rip: m.cpu.rip, flags: m.cpu.getRflags(), count: m.cpu.instructionCount, halted: m.cpu.halted });
}

/** JIT regions, JIT single blocks (translated after 3 runs), the block tier alone, the interpreter alone. */
function machines(setup: (m: Machine) => void): Machine[] {
  return ([[true, true, 8], [true, true, 1], [true, false, 1], [false, false, 1]] as const).map(([blocks, jit, region]) => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    setup(m);
    m.cpu.blocksEnabled = blocks;
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = jit;
    m.cpu.jitThreshold = 3;
    m.cpu.jitRegionBlocks = region;
    return m;
  });
}

const NAMES = ['jit regions', 'jit blocks', 'blocks'];

/** Run all in slices of `chunk` instructions until the interpreter halts; compare after each (and faults' vectors). */
function lockstep(ms: Machine[], chunk: number, max: number): void {
  for (let done = 0; done < max && !ms[3].cpu.halted; done += chunk) {
    const out = ms.map((m) => {
      try { return m.run(chunk); } catch (e) { return `fault ${(e as { vector?: number }).vector}`; }
    });
    const s = ms.map((m, i) => `${out[i]} ${state(m)} cr2=${m.cpu.cr2}`);
    for (let i = 0; i < 3; i++) assert.equal(s[i], s[3], `${NAMES[i]} vs interpreter after ${done + chunk} instructions (slices of ${chunk})`);
  }
  assert.ok(ms[3].cpu.halted, 'the program ran to its end');
}

test('jit chain: a loop region entered in its middle block (every other round) runs in lockstep with the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const code = asm(`
    mov $300, %r8d
  outer:
    mov $9, %ecx
    test $1, %r8d
    jne mid              # odd rounds enter the loop at its second block
  top:
    add %rcx, %rax
    imul $3, %rax, %rdx
    cmp $4, %ecx
    jb mid
    xor %rdx, %rax
  mid:
    add $5, %rbx
    sub %rax, %rbx
    dec %ecx
    jne top
    dec %r8d
    jne outer
    hlt`);
  for (const chunk of [5, 7, 13, 997]) {
    const before = jitStats.blocks - jitStats.compiled;
    lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 40_000);
    assert.ok(jitStats.blocks - jitStats.compiled > before, 'a translation covered more than one block');
  }
});
