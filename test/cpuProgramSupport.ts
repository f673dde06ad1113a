// Helpers for running test/oracle/program.c natively and on xk: build it with
// gcc, load the static ELF into a flat-mode machine, run it. Shared by
// test/cpuProgram.test.ts and bench/run.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** test/oracle in the source tree (this file runs from dist/test or dist/bench's import of it). */
export const ORACLE_DIR = path.resolve(HERE, '../../test/oracle');

export const FREESTANDING_FLAGS = ['-ffreestanding', '-fno-pic', '-mno-sse', '-mno-mmx', '-mno-80387', '-fno-stack-protector', '-fno-tree-loop-distribute-patterns'];

export { have } from './helpers/tools.js';

/**
 * Build program.c at `opt` into a native and an xk executable in `dir`. `loop`: the benchmark's entry points,
 * which call compute() REPEAT times (true: 300 times, about 98 M instructions on xk; a number: that many).
 */
export function buildProgram(dir: string, opt: string, loop: boolean | number = false): { native: string; xk: string } {
  const obj = path.join(dir, `program${opt}.o`);
  execFileSync('gcc', ['-c', `-${opt}`, ...FREESTANDING_FLAGS, '-o', obj, path.join(ORACLE_DIR, 'program.c')]);
  const native = path.join(dir, `native${opt}`), xk = path.join(dir, `xk${opt}`);
  const loopFlag = loop === false ? [] : [`-DREPEAT=${loop === true ? 300 : loop}`];
  execFileSync('gcc', ['-static', '-nostdlib', '-no-pie', ...loopFlag, '-o', native, obj, path.join(ORACLE_DIR, 'startNative.S')]);
  execFileSync('gcc', ['-static', '-nostdlib', '-no-pie', ...loopFlag, '-o', xk, obj, path.join(ORACLE_DIR, 'startXk.S')]);
  return { native, xk };
}

/**
 * Load a static ELF64 executable into physical memory at its virtual
 * addresses (flat mode, no paging): copy each PT_LOAD segment's file bytes,
 * the rest of p_memsz stays zero. Returns the entry point.
 */
export function loadElf(machine: Machine, image: Uint8Array): number {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (v.getUint32(0, false) !== 0x7f454c46 || image[4] !== 2 || image[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const entry = Number(v.getBigUint64(24, true));
  const phoff = Number(v.getBigUint64(32, true));
  const phentsize = v.getUint16(54, true), phnum = v.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (v.getUint32(ph, true) !== 1) continue; // PT_LOAD
    const offset = Number(v.getBigUint64(ph + 8, true));
    const vaddr = Number(v.getBigUint64(ph + 16, true));
    const filesz = Number(v.getBigUint64(ph + 32, true));
    machine.loadPhysical(vaddr, image.subarray(offset, offset + filesz));
  }
  return entry;
}

/** Run the xk build of the program; returns the 64-bit result and the instruction count. */
export function runOnXk(file: string): { result: bigint; instructions: number } {
  const machine = new Machine({ memoryBytes: 8 << 20 });
  machine.cpu.rip = loadElf(machine, new Uint8Array(fs.readFileSync(file)));
  const stop = machine.run(200_000_000);
  if (stop !== 'halted') throw new Error(`program stopped with ${stop}: ${machine.stopMessage}`);
  return { result: machine.cpu.getReg64(0), instructions: machine.cpu.instructionCount };
}

