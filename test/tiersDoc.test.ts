// docs/tiers.md's "One translated block" is what the JIT makes today: the page's
// JavaScript is jitSource's output for the page's four instructions, and that
// translation, compiled as compileJit compiles it, runs the loop to the result
// the interpreter gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './guestBuild.js';
import { Machine } from '../src/machine/machine.js';
import { jitSource } from '../src/machine/jit/translate.js';
import type { CacheEntry } from '../src/machine/decodeCache.js';

// add %rcx,%rax; xor %edx,%eax; sub $1,%ecx; jne <start>
const CODE = [0x48, 0x01, 0xc8, 0x31, 0xd0, 0x83, 0xe9, 0x01, 0x75, 0xf6];
const AT = 0x1000;

function machineWithLoop(): { machine: Machine; entries: CacheEntry[] } {
  const machine = new Machine({ memoryBytes: 1 << 20 });
  CODE.forEach((b, i) => { machine.memory.bytes[AT + i] = b; });
  const entries: CacheEntry[] = [];
  for (let off = 0; entries.length < 4;) {
    const e = machine.cpu.decodeCache.fetch(machine.cpu, AT + off);
    entries.push(e);
    off += e.length;
  }
  return { machine, entries };
}

test('docs/tiers.md: the translated block shown is jitSource\'s output, and it runs the loop as the interpreter does', () => {
  const page = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'tiers.md'), 'utf8');
  const section = page.slice(page.indexOf('## One translated block'));
  const shown = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(shown, 'docs/tiers.md has the example');
  const { machine, entries } = machineWithLoop();
  const source = jitSource(entries);
  assert.equal(`${source}\n`, shown);

  // The shown function, run: 100 rounds of the loop from rcx = 100.
  const cpu = machine.cpu;
  cpu.setReg64(0, 5n); cpu.setReg64(1, 100n); cpu.setReg64(2, 0x1234n);
  cpu.rip = AT + CODE.length;
  const run = new Function(source as string)() as (c: typeof cpu, s: number, limit: number) => number;
  run(cpu, AT, 400);
  const viaJit = { rax: cpu.getReg64(0), rcx: cpu.getReg64(1), rip: cpu.rip, count: cpu.instructionCount, rflags: cpu.flags.get() };

  const plain = machineWithLoop().machine;
  plain.cpu.jitEnabled = false; plain.cpu.blocksEnabled = false;
  plain.cpu.setReg64(0, 5n); plain.cpu.setReg64(1, 100n); plain.cpu.setReg64(2, 0x1234n);
  plain.cpu.rip = AT;
  while (plain.cpu.instructionCount < 400) plain.cpu.step();
  assert.deepEqual(viaJit, { rax: plain.cpu.getReg64(0), rcx: plain.cpu.getReg64(1), rip: plain.cpu.rip, count: plain.cpu.instructionCount, rflags: plain.cpu.flags.get() });
  assert.equal(viaJit.rcx, 0n);
  assert.equal(viaJit.count, 400);
});
