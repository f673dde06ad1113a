// The JIT tier (src/machine/jit/) against the block tier and the interpreter:
// the same registers, flags, RIP and retired instruction count at every stop,
// with every block translated at its first run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { buildProgram, loadElf } from './cpuProgramSupport.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { pageWalkLoop } from './helpers/jitLockstep.js';
import { identityPaging } from './helpers/identityPaging.js';

const CODE = 0x10000;

/** Assembles AT&T text with GNU as into raw bytes (the .text section). */
const asm = assembleText;

function state(m: Machine): string {
  return JSON.stringify({ regs: [...m.cpu.regs], rip: m.cpu.rip, flags: m.cpu.getRflags(), count: m.cpu.instructionCount, halted: m.cpu.halted });
}

/** Three machines: JIT (every block translated at once), block tier alone, interpreter alone. */
function trio(setup: (m: Machine) => void): Machine[] {
  return [[true, true], [true, false], [false, false]].map(([blocks, jit]) => {
    const m = new Machine({ memoryBytes: 8 << 20 });
    setup(m);
    m.cpu.blocksEnabled = blocks;
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = jit;
    m.cpu.jitThreshold = 1;
    return m;
  });
}

function lockstep(ms: Machine[], chunk: number, max: number): void {
  for (let done = 0; done < max && !ms.every((m) => m.cpu.halted); done += chunk) {
    const r = ms.map((m) => m.run(chunk));
    assert.equal(r[0], r[1]); assert.equal(r[0], r[2]);
    const s = ms.map(state);
    assert.equal(s[0], s[1], `jit vs blocks after ${done + chunk} instructions`);
    assert.equal(s[0], s[2], `jit vs interpreter after ${done + chunk} instructions`);
  }
}

test('jit: the gcc -O2 program stops at exactly the same state after every slice of 997 (and 13) instructions', (t) => {
  if (!have('gcc')) { t.skip('gcc not installed'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-jit-'));
  try {
    const image = new Uint8Array(fs.readFileSync(buildProgram(dir, 'O2', false).xk));
    for (const chunk of [997, 13]) {
      const before = jitStats.compiled;
      const ms = trio((m) => { m.cpu.rip = loadElf(m, image); });
      lockstep(ms, chunk, chunk === 13 ? 200_000 : 2_000_000);
      assert.ok(jitStats.compiled > before, 'blocks were translated by the JIT');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('jit: random register ALU loops (add sub and or xor cmp test mov lea, 32 and 64 bits, every jcc) match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
  const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const OPS = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test', 'mov'];
  const JCC = ['jo', 'jno', 'jb', 'jae', 'je', 'jne', 'jbe', 'ja', 'js', 'jns', 'jp', 'jnp', 'jl', 'jge', 'jle', 'jg'];
  const imms = ['$0', '$1', '$-1', '$0x7fffffff', '$-0x80000000', '$0x55', '$-3'];
  const lines: string[] = [];
  for (let i = 0; i < R64.length; i++) lines.push(`movabs $${(BigInt(rnd(1 << 30)) * 0x9e3779b9n) & 0xffffffffffffffffn}, ${R64[i]}`);
  for (let loop = 0; loop < 48; loop++) {
    lines.push(`mov $${5 + rnd(20)}, %ecx`, `h${loop}:`);
    for (let k = 0; k < 2 + rnd(6); k++) {
      const wide = rnd(2) === 0, regs = wide ? R64 : R32;
      const op = OPS[rnd(OPS.length)];
      const src = rnd(3) === 0 && op !== 'test' ? imms[rnd(imms.length)] : regs[rnd(regs.length)];
      if (rnd(7) === 0) lines.push(`${rnd(2) ? 'inc' : 'dec'}${wide ? 'q' : 'l'} ${regs[rnd(regs.length)]}`);
      else if (rnd(5) === 0) lines.push(`${['shl', 'shr', 'sar'][rnd(3)]}${wide ? 'q' : 'l'} $${rnd(wide ? 64 : 32)}, ${regs[rnd(regs.length)]}`);
      else if (rnd(6) === 0) lines.push(`lea ${rnd(100) - 50}(${R64[rnd(8)]},${R64[rnd(8)]},${1 << rnd(4)}), ${regs[rnd(regs.length)]}`);
      else lines.push(`${op}${wide ? 'q' : 'l'} ${src}, ${regs[rnd(regs.length)]}`);
    }
    // A data-dependent branch inside the loop body's block chain, then the counted back edge.
    if (rnd(2) === 0) lines.push(`inc %r9`);
    lines.push(`${JCC[rnd(16)]} s${loop}`, `add %rax, %rbx`, `s${loop}:`, `sub $1, %ecx`, `jne h${loop}`);
  }
  lines.push('hlt');
  const code = asm(lines.join('\n'));
  const before = jitStats.compiled;
  const ms = trio((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); });
  lockstep(ms, 7, 40_000);
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
  assert.equal(ms[0].cpu.halted, true);
});

test('jit: a store that faults in the middle of a translated loop leaves registers, flags, RIP and count as the interpreter does', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // (%rbx) walks up to the end of the canonical range: the store raises #GP in the fifth round
  // (through the base + displacement path, then through the indexed one).
  for (const store of ['-8(%rbx)', '-72(%rbx,%rcx,1)']) {
  const code = asm(`
    movabs $0x00007fffffffff00, %rbx
    mov $0x40, %ecx
    mov $100, %edx
    mov $7, %eax
  1: add %ecx, %eax
    mov %rax, ${store}
    mov (%rsp), %rsi
    mov %rsi, -16(%rsp,%rcx,2)
    mov 8(%rsp,%rdx,8), %edi
    add %rcx, %rbx
    cmp $3, %eax
    mov %rsi, 8(%rsp)
    sub $1, %edx
    jne 1b
    hlt`);
  const before = jitStats.compiled;
  const ms = trio((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); });
  const faults = ms.map((m) => {
    for (;;) {
      try { m.cpu.runSlice(m.cpu.instructionCount + 1000); } catch (e) { return `${(e as Error).message} ${state(m)}`; }
      if (m.cpu.halted) return `halted ${state(m)}`;
      m.cpu.interruptCheck = false;
    }
  });
  assert.match(faults[0], /non-canonical/);
  assert.equal(faults[0], faults[1]);
  assert.equal(faults[0], faults[2]);
  assert.ok(jitStats.compiled > before, 'the loop was translated');
  }
});

test('jit: a jcc or jmp of a translated loop to a non-canonical target stops before the branch as the interpreter does', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // The code in the last canonical page (linear 0x7ffffffff000, physical CODE): the branch leaves the
  // loop for 0x800000000100 in the 31st round, raising #GP at the branch (count, RIP, flags as before it).
  const HIGH = 0x7ffffffff000, PDPT = 0xf4000, PD = 0xf5000, PT = 0xf6000;
  for (const leave of ['cmp $31, %eax\n    je high', 'cmp $31, %eax\n    jne 1b\n    jmp high', 'cmp $31, %eax\n    jne 1b\n    xor %ecx, %ecx\n    jmp high']) {
  const code = asm(`
    mov $0, %eax
    mov $5, %edx
  1: add $1, %eax
    add %eax, %edx
    sub $2, %edx
    ${leave}
    jmp 1b
    .org 0x1100
  high:`).subarray(0, 0x100);
  const before = jitStats.compiled;
  const ms = trio((m) => {
    m.loadPhysical(CODE, code);
    identityPaging(m, -1);
    m.memory.write32(0xf0000 + 8 * 255, PDPT | 7);
    m.memory.write32(PDPT + 8 * 511, PD | 7);
    m.memory.write32(PD + 8 * 511, PT | 7);
    m.memory.write32(PT + 8 * 511, CODE | 7);
    m.mmu.flush();
    m.cpu.rip = HIGH; m.cpu.setReg64(4, 0x80000n);
  });
  const faults = ms.map((m) => {
    for (;;) {
      try { m.cpu.runSlice(m.cpu.instructionCount + 1000); } catch (e) { return `${(e as Error).message} ${state(m)}`; }
      if (m.cpu.halted) return `halted ${state(m)}`;
      m.cpu.interruptCheck = false;
    }
  });
  assert.match(faults[0], /canonical/, leave);
  assert.equal(faults[0], faults[1], leave);
  assert.equal(faults[0], faults[2], leave);
  assert.ok(jitStats.compiled > before, 'the loop was translated');
  }
});

test('jit: random loops with memory operands, movzx/movsx, imul, neg/not, push/pop, 8/16-bit ALU and every jcc match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  let seed = 777;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
  const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const R16 = ['%ax', '%bx', '%dx', '%si', '%di', '%r8w', '%r9w', '%r10w'];
  const R8 = ['%al', '%bl', '%dl', '%ah', '%bh', '%dh']; // no REX: ah bh dh stay encodable
  const JCC = ['jo', 'jno', 'jb', 'jae', 'je', 'jne', 'jbe', 'ja', 'js', 'jns', 'jp', 'jnp', 'jl', 'jge', 'jle', 'jg'];
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  // Memory: a 256-byte buffer at (%rbp) (and through %rsp for push/pop).
  const mem = (): string => (rnd(2) ? `${rnd(31) * 8}(%rbp)` : `${rnd(8) * 4}(%rbp,%rcx,4)`);
  const lines: string[] = ['mov $0x60000, %ebp'];
  for (let i = 0; i < R64.length; i++) lines.push(`movabs $${(BigInt(rnd(1 << 30)) * 0x9e3779b97f4an) & 0xffffffffffffffffn}, ${R64[i]}`);
  for (let i = 0; i < 32; i++) lines.push(`mov ${R64[i % 8]}, ${i * 8}(%rbp)`);
  for (let loop = 0; loop < 40; loop++) {
    lines.push(`mov $${4 + rnd(12)}, %ecx`, `h${loop}:`);
    for (let k = 0; k < 2 + rnd(7); k++) {
      const w = rnd(4), regs = [R8, R16, R32, R64][w], sfx = ['b', 'w', 'l', 'q'][w];
      switch (rnd(12)) {
        case 0: lines.push(`${pick(['add', 'sub', 'and', 'or', 'xor', 'cmp'])}${sfx} ${mem().replace('(%rbp,%rcx,4)', '(%rbp)')}, ${pick(regs)}`); break;
        case 1: lines.push(`${pick(['cmp', 'test'])}${sfx} ${pick(regs)}, ${mem()}`); break;
        case 2: lines.push(`cmp${sfx} $${rnd(2) ? rnd(100) : -rnd(100)}, ${mem()}`); break;
        case 3: { const q = rnd(2); lines.push(`${pick(['movzb', 'movsb', 'movzw', 'movsw'])}${q ? 'q' : 'l'} ${rnd(2) ? mem() : '%al'}, ${pick(q ? R64 : R32)}`.replace(/mov[zs]w([lq]) %al/, 'movzw$1 %ax')); break; }
        case 4: lines.push(`movslq ${rnd(2) ? mem() : pick(R32)}, ${pick(R64)}`); break;
        case 5: { const ws = rnd(2) ? R64 : R32; lines.push(rnd(2) ? `imul ${pick(ws)}, ${pick(ws)}` : `imul $${rnd(2000) - 1000}, ${pick(ws)}, ${pick(ws)}`); break; }
        case 6: lines.push(`${pick(['neg', 'not', 'inc', 'dec'])}${sfx} ${pick(regs)}`); break;
        case 7: lines.push(`push ${pick(R64)}`, `${pick(['add', 'xor', 'sub'])}q ${pick(R64)}, ${pick(R64)}`, `pop ${pick(R64)}`); break;
        case 8: lines.push(`mov${sfx} ${pick(regs)}, ${mem()}`); break;
        case 9: lines.push(`mov${sfx} ${mem()}, ${pick(regs)}`); break;
        case 10: lines.push(pick(['cdqe', 'cltd', 'cqto', 'nop']).replace('cdqe', 'cltq')); break;
        default: lines.push(`${pick(['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'])}${sfx} ${pick(regs)}, ${pick(regs)}`);
      }
    }
    lines.push(`${pick(JCC)} s${loop}`, `add %rax, %rbx`, `s${loop}:`, rnd(2) ? `dec %ecx` : `sub $1, %ecx`, `jne h${loop}`);
  }
  lines.push('hlt');
  // %rcx must stay the loop counter and %rsp/%rbp the pointers: keep them out of the random destinations above.
  const code = asm(lines.join('\n'));
  const before = jitStats.compiled;
  const ms = trio((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); });
  for (const chunk of [5, 61]) lockstep(ms, chunk, 20_000);
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
  const bytes = (m: Machine): string => Buffer.from(m.memory.slice(0x60000 - 0x100, 0x300)).toString('hex') + Buffer.from(m.memory.slice(0x80000 - 0x100, 0x100)).toString('hex');
  assert.equal(bytes(ms[0]), bytes(ms[2]), 'memory as the interpreter left it');
});

/** Run until a fault; the fault's vector, error code, CR2 and the whole state. */
function runToFault(m: Machine): string {
  for (;;) {
    try { m.cpu.runSlice(m.cpu.instructionCount + 1000); } catch (e) {
      const f = e as { vector?: number; errorCode?: number; message: string };
      return `${f.vector}/${f.errorCode} ${f.message} cr2=${m.cpu.cr2} ${state(m)}`;
    }
    if (m.cpu.halted) return `halted ${state(m)}`;
    m.cpu.interruptCheck = false;
  }
}

test('jit: a #PF in the middle of a translated block and of a multi-block region leaves rip, registers, flags, cr2 and count as the interpreter does', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // The loop walks %rbx up by 0x300 through pages 0x30000.. until it reaches the absent page 0x34000:
  // the load (then, in the second program, the store and the push) faults some rounds in.
  const programs = [
    'mov (%rbx), %rsi\n add %rsi, %rax',
    'mov %rax, 8(%rbx,%rcx,8)\n xor %rsi, %rax',
    'push %rax\n mov %rbx, %rsp\n add $0x100, %rsp\n pop %rdx',
  ];
  for (const body of programs) {
    const code = asm(pageWalkLoop(body));
    const ms = trio((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; identityPaging(m, 0x34000); });
    // A fourth machine: the JIT after 3 runs, regions of up to 8 blocks (the loop's blocks in one function).
    const region = new Machine({ memoryBytes: 8 << 20 });
    region.loadPhysical(CODE, code); region.cpu.rip = CODE; identityPaging(region, 0x34000);
    region.cpu.blockThreshold = 1; region.cpu.jitThreshold = 3; region.cpu.jitRegionBlocks = 8;
    const out = [...ms, region].map(runToFault);
    assert.match(out[2], /^14\//, `a page fault (${body})`);
    assert.equal(out[0], out[2], `jit vs interpreter (${body})`);
    assert.equal(out[1], out[2], `blocks vs interpreter (${body})`);
    assert.equal(out[3], out[2], `jit regions vs interpreter (${body})`);
  }
});

test('jit: multi-block regions (XK_JIT_REGION) run the gcc -O2 program in lockstep with the interpreter', (t) => {
  if (!have('gcc')) { t.skip('gcc not installed'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-jit-'));
  try {
    const image = new Uint8Array(fs.readFileSync(buildProgram(dir, 'O2', false).xk));
    const before = jitStats.blocks - jitStats.compiled;
    const ms = [true, false].map((jit) => {
      const m = new Machine({ memoryBytes: 8 << 20 });
      m.cpu.rip = loadElf(m, image);
      m.cpu.blockThreshold = 1;
      m.cpu.jitEnabled = jit;
      m.cpu.jitThreshold = 3;
      m.cpu.jitRegionBlocks = 8;
      return m;
    });
    for (const chunk of [997, 13]) {
      for (let done = 0; done < (chunk === 13 ? 150_000 : 1_500_000) && !ms[0].cpu.halted; done += chunk) {
        ms.forEach((m) => m.run(chunk));
        assert.equal(state(ms[0]), state(ms[1]), `regions vs interpreter after ${done + chunk} instructions`);
      }
    }
    assert.ok(jitStats.blocks - jitStats.compiled > before, 'some translations covered more than one block');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('jit: a loop that stays inside one block is translated while it runs (its rounds count toward the threshold) and stays in lockstep', () => {
  // mov $30000,%ecx; 1: add %rcx,%rax; imul $3,%rax,%rdx; xor %rdx,%rax; shr %rdx; dec %rcx; jnz 1b; hlt
  const code = [0xb9, 0x30, 0x75, 0, 0, 0x48, 0x01, 0xc8, 0x48, 0x6b, 0xd0, 0x03, 0x48, 0x31, 0xd0, 0x48, 0xd1, 0xea, 0x48, 0xff, 0xc9, 0x75, 0xee, 0xf4];
  const before = jitStats.compiled;
  const ms = [true, false].map((jit) => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.loadPhysical(CODE, Uint8Array.from(code));
    m.cpu.rip = CODE;
    m.cpu.jitEnabled = jit; // default thresholds: the block tier first, then the JIT
    return m;
  });
  for (let done = 0; !ms[0].cpu.halted && done < 400_000; done += 9973) {
    ms.forEach((m) => m.run(9973));
    assert.equal(state(ms[0]), state(ms[1]), `jit vs interpreter after ${done + 9973} instructions`);
  }
  assert.ok(ms[0].cpu.halted);
  assert.equal(jitStats.compiled, before + 1, 'the loop was translated');
});

test('jit: random loops with setcc, cmovcc (register and memory sources), shifts by %cl (counts 0, 1, 31, 32, 63...), mul and bswap match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  let seed = 4242;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
  const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const R8 = ['%al', '%bl', '%dl', '%sil', '%dil', '%r8b', '%r9b', '%r10b'];
  const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const lines: string[] = ['mov $0x60000, %ebp'];
  for (let i = 0; i < R64.length; i++) lines.push(`movabs $${(BigInt(rnd(1 << 30)) * 0x9e3779b97f4an) & 0xffffffffffffffffn}, ${R64[i]}`);
  for (let i = 0; i < 32; i++) lines.push(`mov ${R64[i % 8]}, ${i * 8}(%rbp)`);
  for (let loop = 0; loop < 40; loop++) {
    lines.push(`mov $${3 + rnd(10)}, %r11d`, `h${loop}:`);
    for (let k = 0; k < 2 + rnd(7); k++) {
      const q = rnd(2), regs = q ? R64 : R32;
      switch (rnd(10)) {
        case 0: lines.push(`set${pick(CC)} ${pick(R8)}`); break;
        case 1: lines.push(`cmov${pick(CC)} ${rnd(2) ? `${rnd(32) * 8}(%rbp)` : pick(regs)}, ${pick(regs)}`); break;
        case 2: lines.push(rnd(2) ? `mov $${pick([0, 1, 2, 31, 32, 33, 63, 64, rnd(256)])}, %ecx` : `mov ${pick(R32)}, %ecx`, `${pick(['shl', 'shr', 'sar', 'sal'])} %cl, ${pick(regs)}`); break;
        case 3: lines.push(`${pick(['shl', 'shr', 'sar', 'sal'])} %cl, ${pick(regs)}`); break;
        case 4: lines.push(`${pick(['inc', 'dec', 'neg'])} ${pick(regs)}`); break;
        case 5: lines.push(`imul ${pick(regs)}, ${pick(regs)}`); break;
        case 6: lines.push(rnd(2) ? `mul ${pick(regs)}` : `mul${q ? 'q' : 'l'} ${rnd(32) * 8}(%rbp)`); break;
        case 7: lines.push(`bswap ${pick(regs)}`); break;
        default: lines.push(`${pick(['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'])} ${pick(regs)}, ${pick(regs)}`);
      }
    }
    lines.push(`j${pick(CC)} s${loop}`, `add %rax, %rbx`, `s${loop}:`, `dec %r11d`, `jne h${loop}`);
  }
  lines.push('hlt');
  const code = asm(lines.join('\n'));
  const before = jitStats.compiled;
  const ms = trio((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); });
  for (const chunk of [5, 61]) lockstep(ms, chunk, 20_000);
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
});

test('jit: call and ret translated (a return address modified on the stack, a nested call, ret $imm, a #PF on the pushed return address), alone and in regions', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const code = asm(`
    mov $300, %r12d
  top:
    mov %r12d, %edi
    call f
    add %rax, %rbx
    call g            # g returns past the next instruction (it adds 3 to its return address)
    xor $0x55, %ebx   # 3 bytes, skipped
    add $7, %rbx
    push %r12
    call h            # h returns with ret $8 (drops the pushed value)
    dec %r12d
    jne top
    mov $0x7000, %rsp # a stack page that is not present: the call's push faults
    call f
    hlt
  f: lea 1(%rdi,%rdi,2), %rax
    test $1, %edi
    je 1f
    call k
  1: ret
  k: imul $5, %rax, %rax
    ret
  g: addq $3, (%rsp)
    mov %rbx, %rax
    shr $3, %rax
    ret
  h: mov 8(%rsp), %rcx
    add %rcx, %rbx
    ret $8
  `);
  const before = jitStats.compiled;
  const ms = [[true, 1], [true, 8], [false, 1]].map(([jit, region]) => {
    const m = new Machine({ memoryBytes: 8 << 20 });
    m.loadPhysical(CODE, code);
    identityPaging(m, 0x6000);
    m.cpu.rip = CODE;
    m.cpu.setReg64(4, 0x80000n);
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = jit as boolean;
    m.cpu.jitThreshold = 2;
    m.cpu.jitRegionBlocks = region as number;
    return m;
  });
  for (const chunk of [7, 61]) {
    for (let done = 0; done < 12_000; done += chunk) {
      const out = ms.map((m) => { try { m.run(chunk); return `${m.cpu.halted} ${state(m)}`; } catch (e) { return `fault ${(e as Error).message} cr2=${m.cpu.cr2} ${state(m)}`; } });
      assert.equal(out[0], out[2], `jit vs interpreter after ${done + chunk}`);
      assert.equal(out[1], out[2], `jit regions vs interpreter after ${done + chunk}`);
      if (out[2].startsWith("fault")) break;
    }
    ms.forEach((m) => { m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); m.cpu.halted = false; });
  }
  assert.ok(jitStats.compiled > before + 4, 'the code was translated');
});

test('jit: a loop that rewrites an immediate of its own next instruction sees each new value at once (single blocks and regions)', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const code = asm(`
    mov $300, %ecx
  top:
    mov %ecx, %eax
    and $0x7f, %eax
    movb %al, patch+2(%rip)   # the imm8 of the add below
  patch:
    add $1, %ebx
    test $3, %ecx
    jne 1f
    add %ebx, %edx
  1: dec %ecx
    jne top
    hlt
  `);
  const before = jitStats.compiled;
  const ms = [[true, 1], [true, 8], [false, 1]].map(([jit, region]) => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.loadPhysical(CODE, code);
    m.cpu.rip = CODE;
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = jit as boolean;
    m.cpu.jitThreshold = 1;
    m.cpu.jitRegionBlocks = region as number;
    return m;
  });
  for (let done = 0; done < 4000 && !ms[2].cpu.halted; done += 13) {
    ms.forEach((m) => m.run(13));
    assert.equal(state(ms[0]), state(ms[2]), `jit vs interpreter after ${done + 13}`);
    assert.equal(state(ms[1]), state(ms[2]), `jit regions vs interpreter after ${done + 13}`);
  }
  assert.ok(ms[2].cpu.halted);
  assert.ok(jitStats.compiled > before, 'the loop was translated');
});
