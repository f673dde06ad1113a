// The interpreter's block tier (src/machine/blocks.ts) against the interpreter
// one instruction at a time: the same registers, flags, RIP and retired
// instruction count at every stop, through slices that end inside blocks,
// faults in the middle of a block, code that rewrites itself, and rdtsc. Each
// test runs twice: with the JIT off (the blocks' generated functions), and with
// the JIT on but never translating (the blocks' interpreted runs, which blocks
// have until the JIT looks at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { CpuFault } from '../src/machine/exceptions.js';
import { buildProgram, loadElf } from './cpuProgramSupport.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';

const HAVE_AS = have('as') && have('objcopy');
const CODE = 0x10000;

/** Assembles AT&T text with GNU as into raw bytes (the .text section). */
const asm = assembleText;

/** The two ways a block runs: its generated function (JIT off), or the interpreted run (JIT on, no translation yet). */
const MODES = [{ name: 'generated', jit: false }, { name: 'interpreted', jit: true }];
type Mode = (typeof MODES)[number];

/** Blocks on (each made at its first run) as in `mode`, or off. */
function setBlocks(m: Machine, blocks: boolean, mode: Mode): void {
  m.cpu.blocksEnabled = blocks;
  m.cpu.blockThreshold = 1;
  m.cpu.jitEnabled = mode.jit;
  m.cpu.jitThreshold = 1e9;
}

/** Two flat-mode machines with the same code: one with blocks, one without. */
function pair(mode: Mode, code: Uint8Array, at = CODE): [Machine, Machine] {
  return [true, false].map((blocks) => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.loadPhysical(at, code);
    m.cpu.rip = at;
    m.cpu.setReg64(4, 0x80000n);
    setBlocks(m, blocks, mode);
    return m;
  }) as [Machine, Machine];
}

function state(m: Machine): string {
  return JSON.stringify({ regs: [...m.cpu.regs], rip: m.cpu.rip, flags: m.cpu.getRflags(), count: m.cpu.instructionCount, halted: m.cpu.halted });
}

/** Run both in slices of `chunk` instructions and compare after each. */
function lockstep(a: Machine, b: Machine, chunk: number, max: number): void {
  for (let done = 0; done < max && !(a.cpu.halted && b.cpu.halted); done += chunk) {
    const ra = a.run(chunk), rb = b.run(chunk);
    assert.equal(ra, rb);
    assert.equal(state(a), state(b), `after ${done + chunk} instructions`);
  }
}

for (const mode of MODES) {
  test(`block tier (${mode.name}): the gcc -O2 program stops at exactly the same state after every slice of 997 instructions`, (t) => {
    if (!have('gcc')) { t.skip('gcc not installed'); return; }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-block-'));
    try {
      const image = new Uint8Array(fs.readFileSync(buildProgram(dir, 'O2', false).xk));
      const [a, b] = [true, false].map((blocks) => {
        const m = new Machine({ memoryBytes: 8 << 20 });
        m.cpu.rip = loadElf(m, image);
        setBlocks(m, blocks, mode);
        return m;
      });
      lockstep(a, b, 997, 2_000_000);
      assert.equal(a.cpu.halted, true);
      assert.ok(a.cpu.decodeCache.blocks > 10, 'blocks were generated');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`block tier (${mode.name}): a store into the running block takes effect at the next instruction`, (t) => {
    if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
    // The loop body rewrites the immediate of the `add $1, %ebx` right after the store.
    const [a, b] = pair(mode, asm(`
      mov $100, %ecx
      xor %ebx, %ebx
      lea patch+2(%rip), %rdi
    1: lea 3(%rcx), %eax
      mov %al, (%rdi)
    patch: add $1, %ebx
      dec %ecx
      jnz 1b
      hlt`));
    lockstep(a, b, 1_000_000, 1_000_000);
    assert.equal(a.cpu.halted, true);
    // ebx = the sum of ecx + 3 for ecx = 100 .. 1 (stale code would add the previous round's value)
    assert.equal(a.cpu.getReg64(3), 5350n);
  });

  test(`block tier (${mode.name}): a fault in the middle of a hot block leaves RIP at it and counts the instructions before it`, (t) => {
    if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
    // After 100 good rounds, rsi becomes non-canonical and the load faults (#GP).
    const [a, b] = pair(mode, asm(`
      mov $0x20000, %esi
      mov $100, %ecx
    1: add $1, %eax
      mov (%rsi), %edx
      add $2, %eax
      dec %ecx
      jnz 1b
      movabs $0x8000000000000000, %rsi
      jmp 1b`));
    const faults = [a, b].map((m) => {
      m.cpu.interruptCheck = false;
      try { m.cpu.runSlice(1_000_000); } catch (e) { if (e instanceof CpuFault) return e.vector; throw e; }
      return -1;
    });
    assert.deepEqual(faults, [13, 13]);
    assert.equal(state(a), state(b));
    assert.equal(a.cpu.rip, a.cpu.instructionStart);
    assert.equal(a.cpu.instructionCount, 2 + 100 * 5 + 2 + 1);
  });

  test(`block tier (${mode.name}): rdtsc at the end of a block reads the count of the instructions before it`, (t) => {
    if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
    const [a, b] = pair(mode, asm(`
      mov $50, %ecx
    1: inc %ebx
      add %ebx, %esi
      rdtsc
      add %eax, %edi
      dec %ecx
      jnz 1b
      hlt`));
    lockstep(a, b, 1_000_000, 1_000_000);
    assert.equal(a.cpu.halted, true);
    assert.ok(a.cpu.decodeCache.blocks > 0, 'blocks were generated');
  });

  test(`block tier (${mode.name}): a host call registered after the block was generated still runs in its place`, () => {
    // mov $1,%eax ; add $1,%eax ; add $1,%eax ; dec %ecx ; jnz -> a loop of blocks; then a host call on the second add.
    const code = Uint8Array.from([0xb9, 0x64, 0, 0, 0, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0x83, 0xc0, 0x01, 0xff, 0xc9, 0x75, 0xf6, 0xf4]);
    const [a] = pair(mode, code);
    a.run(500);
    const before = a.cpu.getReg64(0);
    assert.equal(before, 200n);
    assert.equal(a.cpu.halted, true);
    const [m] = pair(mode, code);
    m.run(200); // 50 rounds: blocks exist
    assert.ok(m.cpu.decodeCache.blocks > 0);
    let calls = 0;
    m.cpu.hostCalls.set(CODE + 10, (cpu) => { calls++; cpu.rip = CODE + 13; }); // skips the second add
    m.run(10_000);
    assert.equal(m.cpu.halted, true);
    assert.equal(calls, 50, 'the host call ran in the last 50 rounds');
    assert.equal(m.cpu.getReg64(0), 200n - BigInt(calls));
  });

  test(`block tier (${mode.name}): a loop of one block runs inside its function and still stops at the exact instruction`, (t) => {
    if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
    // `2: loop 2b` and a three-instruction loop: slices of 7 and 1000 end in the middle of rounds.
    const text = `
      mov $5000, %ecx
    2: loop 2b
      mov $3000, %ecx
    3: add %ecx, %eax
      imul $7, %rax, %rdx
      dec %ecx
      jnz 3b
      hlt`;
    for (const chunk of [7, 1000]) {
      const [a, b] = pair(mode, asm(text));
      lockstep(a, b, chunk, 100_000);
      assert.equal(a.cpu.halted, true);
      assert.equal(a.cpu.instructionCount, 1 + 5000 + 1 + 4 * 3000 + 1);
    }
  });
}

test('block tier: with the JIT on, a block runs interpreted until the JIT looks at it, then translated or, if the JIT cannot, generated', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  // Block 1 (xadd, loop: nothing the JIT translates) is rejected; block 2 (add, dec, jnz) is translated.
  const text = `
    mov $3000, %ecx
  1: xadd %eax, %ebx
    loop 1b
    mov $3000, %ecx
  2: add %ecx, %eax
    dec %ecx
    jnz 2b
    hlt`;
  const code = asm(text);
  const [a, b] = pair(MODES[1], code);
  a.cpu.jitThreshold = 4;
  const runOf = (offset: number): string | undefined => a.cpu.decodeCache.cachedEntry(a.cpu, CODE + offset)?.block?.run.name;
  lockstep(a, b, 2, 4);
  assert.equal(runOf(5), '', 'interpreted at first (no generated function)');
  lockstep(a, b, 7, 100_000);
  assert.equal(a.cpu.halted, true);
  assert.equal(a.cpu.instructionCount, 1 + 2 * 3000 + 1 + 3 * 3000 + 1);
  assert.equal(runOf(5), 'block', 'the JIT could not translate it: its generated function');
  assert.equal(runOf(15), 'jit', 'translated');
});
