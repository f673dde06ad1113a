// gdb's `monitor CMD` (qRcmd) for a target running the xk kernel. The kernel's
// C-level part is TypeScript, so gdb cannot print its structures; these
// commands print them at the stop instead:
//   ps                 the process table
//   tf [PID]           the trap frame on a process's kernel stack (default: current)
//   pt ADDR            the page-table walk for a linear address under the current CR3
//   files [PID]        open file descriptors
//   signals [PID]      pending and blocked signals
//   entry              the kernel's entry stubs (alltraps, trapret, vector64...) as gdb commands
//   symbols PATH       write an ELF file naming every entry stub, for `add-symbol-file PATH`
//   help               this list

import type { Machine } from '../machine/machine.js';
import { EFER_NXE, PTE_P, PTE_U, PTE_W, PTE_HI_XD } from '../machine/mmu.js';
import type { KernelView } from './kernelView.js';
import { kernelSymbolFile } from './kernelSymbols.js';

const hex = (v: bigint | number): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);
export const MONITOR_HELP = 'monitor commands: ps | entry | symbols PATH | tf [PID] | pt ADDR | files [PID] | signals [PID] | help\n';

/**
 * The `monitor` commands of a kernel run. `writeFile` is the host's way to write
 * a file (the CLI passes node:fs's; the page has none, so `symbols` says so).
 */
export function kernelMonitor(
  view: KernelView,
  machine: Machine,
  writeFile?: (path: string, bytes: Uint8Array) => void,
): (command: string) => string | null {
  return (command) => {
    const [name, arg] = command.split(/\s+/);
    const pidOf = (): number | string => {
      if (arg === undefined) return view.currentPid() ?? 'no process is running (the processor idles): give a PID';
      const n = Number(arg);
      return Number.isInteger(n) ? n : `not a pid: '${arg}'`;
    };
    switch (name) {
      case 'help': case '': return MONITOR_HELP;
      case 'ps': {
        const lines = view.processes().map((p) =>
          `${p.current ? '*' : ' '} ${String(p.pid).padStart(4)} ${String(p.parent ?? '-').padStart(5)}  ${p.state.padEnd(9)} ${p.name}`);
        return ['  PID  PPID  STATE     NAME', ...lines].join('\n') + '\n';
      }
      case 'tf': {
        const pid = pidOf();
        if (typeof pid === 'string') return pid + '\n';
        const tf = view.trapFrame(pid);
        if (!tf) return `no process ${pid}\n`;
        return `trap frame of pid ${pid}:\n` + tf.map(([f, v]) => `  ${f.padEnd(7)} ${hex(v)}`).join('\n') + '\n';
      }
      case 'files': {
        const pid = pidOf();
        if (typeof pid === 'string') return pid + '\n';
        const files = view.openFiles(pid);
        if (!files) return `no process ${pid}\n`;
        return files.length === 0 ? `pid ${pid} has no open files\n` : files.map(([fd, d]) => `  fd ${fd}: ${d}`).join('\n') + '\n';
      }
      case 'signals': {
        const pid = pidOf();
        if (typeof pid === 'string') return pid + '\n';
        const s = view.signals(pid);
        if (!s) return `no process ${pid}\n`;
        return `pid ${pid}: pending ${s.pending.join(' ') || 'none'}; blocked ${s.blocked.join(' ') || 'none'}\n`;
      }
      case 'entry':
        // Printed as gdb commands, so that `monitor entry` output can be pasted (or sourced) to name them.
        return view.entryPoints().map(([n, a]) => `set $${n} = ${hex(a)}`).join('\n') + '\n';
      case 'symbols': {
        if (arg === undefined) return 'symbols needs a file to write, e.g. monitor symbols /tmp/xk-entry.elf\n';
        if (!writeFile) return 'symbols: this host cannot write files\n';
        const points = view.entrySymbols();
        try {
          writeFile(arg, kernelSymbolFile(points));
        } catch (e) {
          return `symbols: cannot write ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`;
        }
        return `wrote ${points.length} entry-stub symbols to ${arg}; load them with: add-symbol-file ${arg}\n`;
      }
      case 'pt': return pageWalk(machine, arg);
      default: return null;
    }
  };
}

/** The four-level walk of `text` (a linear address) under the current CR3, entry by entry. */
function pageWalk(machine: Machine, text: string | undefined): string {
  if (text === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(text)) return `pt needs an address, got '${text ?? ''}'\n`;
  const linear = BigInt.asUintN(48, BigInt(text.startsWith('0x') ? text : '0x' + text));
  const { cpu, memory } = machine;
  const lines = [`walk of ${hex(linear)} under cr3 ${hex(cpu.cr3)}${(cpu.efer & EFER_NXE) !== 0 ? ' (NX on)' : ''}:`];
  let table = cpu.cr3 - (cpu.cr3 % 4096);
  const levels = ['PML4', 'PDPT', 'PD', 'PT'];
  for (let level = 0; level < 4; level++) {
    const index = Number((linear >> BigInt(39 - 9 * level)) & 511n);
    const at = table + index * 8;
    if (at + 8 > memory.size) { lines.push(`  ${levels[level]}[${index}] at phys ${hex(at)}: outside physical memory`); break; }
    const lo = memory.read32(at), hi = memory.read32(at + 4);
    const flags = [(lo & PTE_P) ? 'P' : '-', (lo & PTE_W) ? 'W' : '-', (lo & PTE_U) ? 'U' : '-', (hi & PTE_HI_XD) ? 'XD' : ''].join('');
    lines.push(`  ${levels[level]}[${index}] at phys ${hex(at)} = ${hex((BigInt(hi) << 32n) | BigInt(lo))} ${flags}`);
    if ((lo & PTE_P) === 0) { lines.push('  not present'); break; }
    table = ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * 2 ** 32;
    if (level === 3 || (lo & 0x80) !== 0) {
      const size = 2 ** (39 - 9 * level);
      lines.push(`  -> phys ${hex(table - (table % size) + Number(linear % BigInt(size)))}`);
      break;
    }
  }
  return lines.join('\n') + '\n';
}
