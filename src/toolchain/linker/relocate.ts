// Relocation: patch every place the assembler left for the linker.
//
// In the formulas of the x86-64 psABI, S is the symbol's final address, A the
// addend stored in the relocation, P the address of the place being patched and
// G the address of the symbol's GOT slot:
//
//   R_X86_64_64        S + A       8 bytes
//   R_X86_64_32        S + A       4 bytes, must fit unsigned (zero-extended by the CPU)
//   R_X86_64_32S       S + A       4 bytes, must fit signed (sign-extended by the CPU)
//   R_X86_64_PC32      S + A - P   4 bytes, signed: rip-relative operands and call/jmp
//   R_X86_64_PLT32     S + A - P   (a static program has no PLT: the call goes straight to S)
//   R_X86_64_GOTPCREL  G + A - P   and its relaxable forms GOTPCRELX / REX_GOTPCRELX
//
// For `mov foo@GOTPCREL(%rip), %reg` (GOTPCRELX) the linker may rewrite the mov
// (opcode 0x8b) into `lea foo(%rip), %reg` (opcode 0x8d), as GNU ld does, and so
// skip the GOT; other GOT references read an 8-byte slot the linker fills with S.

import {
  R_X86_64_16, R_X86_64_32, R_X86_64_32S, R_X86_64_64, R_X86_64_8, R_X86_64_GOTPCREL,
  R_X86_64_GOTPCRELX, R_X86_64_NONE, R_X86_64_PC16, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PC8,
  R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX, relocationName,
} from '../elf/elfTypes.js';
import type { ElfRelocation } from '../elf/elfTypes.js';
import { LinkError, placeName } from './inputs.js';
import type { InputObject, InputSection } from './inputs.js';
import type { Layout } from './layout.js';
import { symbolValue } from './symbols.js';
import type { GlobalSymbol } from './symbols.js';

interface Patch { width: 1 | 2 | 4 | 8; min: number; max: number; pcRelative: boolean; viaGot: boolean }

const S8 = 2 ** 7, S16 = 2 ** 15, S32 = 2 ** 31;
const PATCHES = new Map<number, Patch>([
  [R_X86_64_64, { width: 8, min: -Infinity, max: Infinity, pcRelative: false, viaGot: false }],
  [R_X86_64_PC64, { width: 8, min: -Infinity, max: Infinity, pcRelative: true, viaGot: false }],
  [R_X86_64_32, { width: 4, min: 0, max: 2 ** 32 - 1, pcRelative: false, viaGot: false }],
  [R_X86_64_32S, { width: 4, min: -S32, max: S32 - 1, pcRelative: false, viaGot: false }],
  [R_X86_64_PC32, { width: 4, min: -S32, max: S32 - 1, pcRelative: true, viaGot: false }],
  [R_X86_64_PLT32, { width: 4, min: -S32, max: S32 - 1, pcRelative: true, viaGot: false }],
  [R_X86_64_GOTPCREL, { width: 4, min: -S32, max: S32 - 1, pcRelative: true, viaGot: true }],
  [R_X86_64_GOTPCRELX, { width: 4, min: -S32, max: S32 - 1, pcRelative: true, viaGot: true }],
  [R_X86_64_REX_GOTPCRELX, { width: 4, min: -S32, max: S32 - 1, pcRelative: true, viaGot: true }],
  [R_X86_64_16, { width: 2, min: -S16, max: 2 ** 16 - 1, pcRelative: false, viaGot: false }],
  [R_X86_64_PC16, { width: 2, min: -S16, max: S16 - 1, pcRelative: true, viaGot: false }],
  [R_X86_64_8, { width: 1, min: -S8, max: 2 ** 8 - 1, pcRelative: false, viaGot: false }],
  [R_X86_64_PC8, { width: 1, min: -S8, max: S8 - 1, pcRelative: true, viaGot: false }],
]);

const MOV_LOAD = 0x8b; // mov r/m64, r64
const LEA = 0x8d;

/** True when a GOT load can become a lea: `mov foo@GOTPCREL(%rip), %reg` against a defined symbol. */
function relaxesToLea(input: InputSection, r: ElfRelocation, defined: boolean): boolean {
  if (!defined || (r.type !== R_X86_64_GOTPCRELX && r.type !== R_X86_64_REX_GOTPCRELX)) return false;
  const s = input.section;
  if (r.offset < 2 || r.offset > s.size || s.size - r.offset < 4) return false;
  const opcodeAt = s.offset + r.offset - 2;
  const modrm = input.object.elf.bytes[opcodeAt + 1]!;
  // ModRM with mod=00, rm=101 is the rip-relative form.
  return input.object.elf.bytes[opcodeAt] === MOV_LOAD && (modrm & 0xc7) === 0x05;
}

/** Each kept section's relocations, with the section they patch. */
function* allRelocations(inputs: InputObject[]): Generator<{ input: InputSection; r: ElfRelocation }> {
  for (const object of inputs) {
    for (const [target, rs] of object.relocations) {
      const input = object.kept.get(target);
      if (input === undefined) continue; // patches a section that is not loaded (debug info)
      for (const r of rs.relocations) yield { input, r };
    }
  }
}

/** A GOT slot is keyed by global name, or by object and symbol index for locals. */
function gotKey(object: InputObject, index: number, global: GlobalSymbol | undefined): string {
  return global !== undefined ? `global:${global.name}` : `local:${object.index}:${index}`;
}

/** Decides which symbols need GOT slots, before layout (the GOT's size is part of the layout). */
export function planGot(inputs: InputObject[], globals: Map<string, GlobalSymbol>): Map<string, number> {
  const slots = new Map<string, number>();
  for (const { input, r } of allRelocations(inputs)) {
    if (!PATCHES.get(r.type)?.viaGot) continue;
    const sv = symbolValue(input.object, r.symbol, globals);
    if (relaxesToLea(input, r, sv.defined)) continue;
    const key = gotKey(input.object, r.symbol, sv.global);
    if (!slots.has(key)) slots.set(key, slots.size);
  }
  return slots;
}

/** Applies all relocations into the output sections' bytes and fills the GOT. */
export function applyRelocations(
  inputs: InputObject[], globals: Map<string, GlobalSymbol>, layout: Layout, got: Map<string, number>,
): void {
  const problems: string[] = [];
  const reported = new Set<string>();
  const gotData = new DataView(layout.sections.get('.got')!.data.buffer);
  for (const { input, r } of allRelocations(inputs)) {
    const object = input.object;
    const where = placeName(object, input.section, r.offset);
    if (r.type === R_X86_64_NONE) continue;
    const patch = PATCHES.get(r.type);
    if (patch === undefined) {
      problems.push(`${where}: unsupported relocation ${relocationName(r.type)}`);
      continue;
    }
    if (r.offset > input.section.size || patch.width > input.section.size - r.offset) {
      problems.push(`${where}: ${relocationName(r.type)} patches ${patch.width} bytes past the end of the section (size 0x${input.section.size.toString(16)})`);
      continue;
    }
    const sv = symbolValue(object, r.symbol, globals);
    if (!sv.defined) {
      const weakOnly = sv.global !== undefined && !sv.global.strongReference;
      if (!weakOnly) {
        const key = `${object.name}\0${sv.name}`;
        if (!reported.has(key)) {
          reported.add(key);
          problems.push(`${object.name}: undefined reference to '${sv.name}'`);
        }
        continue;
      }
      // An undefined weak symbol has the value 0.
    }
    const out = layout.sections.get(input.output)!;
    const view = new DataView(out.data.buffer);
    const at = input.outputOffset + r.offset;
    const P = input.address + r.offset;
    let S = sv.value;
    if (patch.viaGot) {
      if (relaxesToLea(input, r, sv.defined)) {
        out.data[at - 2] = LEA;
      } else {
        const slot = got.get(gotKey(object, r.symbol, sv.global))!;
        gotData.setBigUint64(slot * 8, BigInt.asUintN(64, BigInt(S)), true);
        S = layout.gotAddress + slot * 8;
      }
    }
    const value = S + r.addend - (patch.pcRelative ? P : 0);
    if (value < patch.min || value > patch.max) {
      const shown = value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
      problems.push(`relocation ${relocationName(r.type)} against '${sv.name}' out of range: value ${shown} in ${where}`);
      continue;
    }
    switch (patch.width) {
      case 8: view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true); break;
      case 4: view.setUint32(at, value >>> 0, true); break;
      case 2: view.setUint16(at, value & 0xffff, true); break;
      case 1: view.setUint8(at, value & 0xff); break;
    }
  }
  if (problems.length > 0) throw new LinkError(problems.join('\n'));
}
