// GNU as and objdump as the oracle: assemble AT&T lines, return the .text bytes and
// objdump's own view of every instruction (address, length, text).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ObjdumpInstruction {
  address: number;
  length: number;
  /** objdump's text with runs of whitespace collapsed. */
  text: string;
}

export interface Assembled {
  bytes: Uint8Array;
  instructions: ObjdumpInstruction[];
}

/** Collapses whitespace so texts compare modulo objdump's column padding. */
export function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} failed: ${(err.stderr ?? err.message).split('\n').slice(0, 20).join('\n')}`);
  }
}

/**
 * Assembles `lines` (one GNU as batch; the first instruction is labelled `start`) and
 * disassembles the result with objdump, the section placed at `vma`.
 */
export function assembleAndDump(lines: readonly string[], vma: number): Assembled {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-disasm-'));
  try {
    const src = path.join(dir, 'in.s');
    const obj = path.join(dir, 'in.o');
    const bin = path.join(dir, 'text.bin');
    fs.writeFileSync(src, ['.text', '.globl start', 'start:', ...lines, ''].join('\n'));
    run('as', ['--64', '-o', obj, src]);
    run('objcopy', ['-O', 'binary', '-j', '.text', obj, bin]);
    const bytes = new Uint8Array(fs.readFileSync(bin));
    const dump = run('objdump', ['-d', '-w', `--adjust-vma=0x${vma.toString(16)}`, obj]);
    const instructions: ObjdumpInstruction[] = [];
    for (const line of dump.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/.exec(line);
      if (m) instructions.push({ address: parseInt(m[1], 16), length: m[2].trim().split(' ').length, text: normalize(m[3]) });
    }
    return { bytes, instructions };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
