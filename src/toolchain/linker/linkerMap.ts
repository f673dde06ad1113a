// The linker map (-Map FILE or -M): where everything ended up.
//
// It lists the segments, then each output section with the input sections it was
// made from (object, address, size) and the symbols defined in each, by address.

import { PF_R, PF_W, PF_X, PT_LOAD } from '../elf/elfTypes.js';
import type { Layout } from './layout.js';

function hex(n: number, width = 16): string {
  return '0x' + n.toString(16).padStart(width, '0');
}

function flagText(flags: number): string {
  return (flags & PF_R ? 'R' : '-') + (flags & PF_W ? 'W' : '-') + (flags & PF_X ? 'X' : '-');
}

export interface MapSymbol { name: string; address: number; object: string; section: string }

export function linkerMap(layout: Layout, entry: { name: string; address: number }, symbols: MapSymbol[]): string {
  const lines: string[] = [];
  lines.push(`Entry point: ${entry.name} at ${hex(entry.address)}`, '');
  lines.push('Program headers (segments):');
  lines.push('  type   flags  vaddr               file offset  filesz      memsz');
  for (const p of layout.segments) {
    const type = p.type === PT_LOAD ? 'LOAD  ' : 'STACK ';
    lines.push(`  ${type} ${flagText(p.flags)}    ${hex(p.vaddr)}  ${hex(p.offset, 8)}   ${hex(p.filesz, 8)}  ${hex(p.memsz, 8)}`);
  }
  // Symbols grouped by the input section that defines them.
  const byInput = new Map<string, MapSymbol[]>();
  for (const s of symbols) {
    const key = `${s.object}\0${s.section}`;
    const list = byInput.get(key);
    if (list === undefined) byInput.set(key, [s]);
    else list.push(s);
  }
  lines.push('', 'Sections:');
  for (const out of layout.sections.values()) {
    if (out.size === 0) continue;
    lines.push('', `${out.name.padEnd(16)}${hex(out.address)}  size ${hex(out.size, 8)}`);
    for (const input of out.inputs) {
      lines.push(` ${input.section.name.padEnd(15)}${hex(input.address)}  size ${hex(input.section.size, 8)}  ${input.object.name}`);
      const inHere = (byInput.get(`${input.object.name}\0${input.section.name}`) ?? [])
        .filter((s) => s.address >= input.address && s.address <= input.address + input.section.size);
      for (const s of inHere.sort((a, b) => a.address - b.address || a.name.localeCompare(b.name))) {
        lines.push(`${''.padEnd(16)}${hex(s.address)}        ${s.name}`);
      }
    }
    for (const c of out.commons) {
      lines.push(` ${'COMMON'.padEnd(15)}${hex(c.symbol.address)}  size ${hex(c.symbol.size, 8)}  ${c.symbol.name}`);
    }
  }
  lines.push('', 'Linker-defined symbols:');
  for (const s of symbols.filter((x) => x.object === '')) lines.push(`${''.padEnd(16)}${hex(s.address)}        ${s.name}`);
  return lines.join('\n') + '\n';
}
