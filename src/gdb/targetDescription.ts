// The register set gdb sees, as a target description (qXfer:features:read).
// The first two features are gdb's own x86-64 layout (core and sse, the names
// and order gdb's amd64 support requires); fs_base/gs_base come in the
// segments feature; the control registers are an extra feature gdb simply
// lists (`info registers cr3`). Registers are numbered in the order below.

export interface RegisterInfo { name: string; bits: number }

const gpr = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export const CORE: RegisterInfo[] = [
  ...gpr.map((name) => ({ name, bits: 64 })),
  { name: 'rip', bits: 64 }, { name: 'eflags', bits: 32 },
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((name) => ({ name, bits: 32 })),
  ...Array.from({ length: 8 }, (_, i) => ({ name: `st${i}`, bits: 80 })),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((name) => ({ name, bits: 32 })),
];
export const SSE: RegisterInfo[] = [
  ...Array.from({ length: 16 }, (_, i) => ({ name: `xmm${i}`, bits: 128 })), { name: 'mxcsr', bits: 32 },
];
export const SEGMENTS: RegisterInfo[] = [{ name: 'fs_base', bits: 64 }, { name: 'gs_base', bits: 64 }];
export const CONTROL: RegisterInfo[] = ['cr0', 'cr2', 'cr3', 'cr4', 'efer'].map((name) => ({ name, bits: 64 }));

/** Every register, in gdb's numbering. */
export const REGISTERS: RegisterInfo[] = [...CORE, ...SSE, ...SEGMENTS, ...CONTROL];
export const registerNumber = (name: string): number => REGISTERS.findIndex((r) => r.name === name);

function typeOf(r: RegisterInfo): string {
  if (r.name === 'rip') return 'code_ptr';
  if (r.name === 'rsp' || r.name === 'rbp') return 'data_ptr';
  if (r.bits === 80) return 'i387_ext';
  if (r.bits === 128) return 'uint128';
  return r.bits === 64 ? 'int64' : 'int32';
}

function feature(name: string, regs: RegisterInfo[], group?: string): string {
  const lines = regs.map((r) => `    <reg name="${r.name}" bitsize="${r.bits}" type="${typeOf(r)}"${group ? ` group="${group}"` : ''}/>`);
  return `  <feature name="${name}">\n${lines.join('\n')}\n  </feature>`;
}

export const TARGET_XML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386:x86-64</architecture>
${feature('org.gnu.gdb.i386.core', CORE)}
${feature('org.gnu.gdb.i386.sse', SSE)}
${feature('org.gnu.gdb.i386.segments', SEGMENTS)}
${feature('org.xk.x86-64.control', CONTROL, 'system')}
</target>
`;
