// The JIT's translations of the one-operand multiply and divide, the bit scans
// and counts, rotates, and read-modify-write memory operands (src/machine/jit/
// translateMulDiv.ts, translateBitScan.ts, translateRotate.ts, translateMemoryOps.ts) against the
// interpreter: random operands in lockstep (registers, flags, RIP, count and
// memory after every slice), #DE at the dividing instruction (zero divisor,
// quotient overflow, INT_MIN / -1), and #PF on each read-modify-write form,
// in single-block translations and in multi-block regions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../src/machine/machine.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { TIERS, identityPaging, machineState, machines, pageWalkLoop, runChunk } from './helpers/jitLockstep.js';

const CODE = 0x10000;
const noAs = !have('as') || !have('objcopy');

function load(code: Uint8Array): (m: Machine) => void {
  return (m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); };
}

test('jit: random loops with mul/imul/div/idiv (one operand), bsf/bsr/tzcnt/lzcnt/popcnt, rol/ror and read-modify-write memory operands match the interpreter', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  let seed = 9001;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
  const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const R16 = ['%ax', '%bx', '%dx', '%si', '%di', '%r8w', '%r9w', '%r10w'];
  const R8 = ['%al', '%bl', '%dl', '%sil', '%dil', '%r8b', '%r9b', '%r10b'];
  // Divisors: not rAX or rDX (rDX is set just before the divide).
  const D64 = ['%rbx', '%rsi', '%rdi', '%r8', '%r9', '%r10'], D32 = ['%ebx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  const mem = (): string => (rnd(2) ? `${rnd(31) * 8}(%rbp)` : `${rnd(8) * 4}(%rbp,%r11,4)`);
  const lines: string[] = ['mov $0x60000, %ebp'];
  for (let i = 0; i < R64.length; i++) lines.push(`movabs $${(BigInt(rnd(1 << 30)) * 0x9e3779b97f4an) & 0xffffffffffffffffn}, ${R64[i]}`);
  for (let i = 0; i < 32; i++) lines.push(`mov ${R64[(i * 3) % 8]}, ${i * 8}(%rbp)`, i % 5 === 0 ? `shrq $${i + 20}, ${i * 8}(%rbp)` : 'nop');
  for (let loop = 0; loop < 48; loop++) {
    lines.push(`mov $${3 + rnd(8)}, %r11d`, `h${loop}:`);
    for (let k = 0; k < 2 + rnd(6); k++) {
      const q = rnd(2), regs = q ? R64 : R32, sfx = q ? 'q' : 'l', divisors = q ? D64 : D32;
      switch (rnd(13)) {
        case 0: lines.push(`${pick(['mul', 'imul'])}${sfx} ${rnd(2) ? mem() : pick(regs)}`); break;
        case 1: {
          // Unsigned: rDX 0, or below the divisor (a 128/64 or 64/32 dividend).
          const dv = pick(divisors);
          lines.push(`or${sfx} $${rnd(2) ? 1 : 0x100}, ${dv}`, 'mov %r9d, %edx', 'and $0xff, %edx');
          lines.push(`test${sfx} $-256, ${dv}`, `jne d${loop}_${k}`, 'xor %edx, %edx', `d${loop}_${k}:`, `div${sfx} ${dv}`);
          break;
        }
        case 2: { const dv = pick(divisors); lines.push(`or${sfx} $1, ${dv}`, q ? 'cqto' : 'cltd', `idiv${sfx} ${dv}`); break; }
        case 3: { const at = `${rnd(31) * 8}(%rbp)`; lines.push(`or${sfx} $3, ${at}`, q ? 'cqto' : 'cltd', `idiv${sfx} ${at}`); break; }
        case 4: lines.push(rnd(4) === 0 ? `xor ${pick(R32)}, ${pick(R32)}` : 'nop', `${pick(['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt'])}${sfx} ${rnd(2) ? mem() : pick(regs)}, ${pick(regs)}`); break;
        case 5: { const w = rnd(4), rs = [R8, R16, R32, R64][w], s = 'bwlq'[w]; lines.push(`${pick(['add', 'sub', 'and', 'or', 'xor'])}${s} ${rnd(2) ? pick(rs) : `$${rnd(200) - 100}`}, ${mem()}`); break; }
        case 6: lines.push(`${pick(['inc', 'dec', 'neg', 'not'])}${'bwlq'[rnd(4)]} ${mem()}`); break;
        case 7: lines.push(`${pick(['shl', 'shr', 'sar', 'sal'])}${sfx} $${1 + rnd(q ? 63 : 31)}, ${mem()}`); break;
        case 8: lines.push(rnd(2) ? `set${pick(CC)} ${pick(R8)}` : `push $${pick([rnd(200) - 100, -0x80000000, 0x7fffffff, rnd(1 << 30)])}`, rnd(2) ? `pop ${pick(R64)}` : 'popq 8(%rbp)'); break;
        case 9: lines.push(`cmp${sfx} ${pick(regs)}, ${mem()}`); break;
        case 10: lines.push(rnd(2) ? `mov $${pick([0, 1, 2, 31, 32, 33, 63, 64, rnd(256)])}, %ecx` : 'nop', `${pick(['rol', 'ror'])}${sfx} ${rnd(2) ? '%cl' : `$${rnd(q ? 64 : 32)}`}, ${pick(regs)}`); break;
        default: lines.push(`${pick(['add', 'sub', 'xor'])}${sfx} ${pick(regs)}, ${pick(regs)}`);
      }
    }
    lines.push(`j${pick(CC)} s${loop}`, `add %rax, %rbx`, `s${loop}:`, `dec %r11d`, `jne h${loop}`);
  }
  lines.push('hlt');
  const code = assembleText(lines.join('\n'));
  const before = jitStats.compiled;
  const ms = machines([TIERS.jit, TIERS.regions, TIERS.interpreter], load(code));
  const bytes = (m: Machine): string => Buffer.from(m.memory.slice(0x60000, 0x60200)).toString('hex');
  for (const chunk of [5, 61]) {
    for (let done = 0; done < 30_000 && !ms[2].cpu.halted; done += chunk) {
      const out = ms.map((m) => runChunk(m, chunk));
      assert.doesNotMatch(out[2], /^fault/, 'the program divides without #DE');
      assert.equal(out[0], out[2], `jit vs interpreter after ${done + chunk}`);
      assert.equal(out[1], out[2], `jit regions vs interpreter after ${done + chunk}`);
      assert.equal(bytes(ms[0]), bytes(ms[2]), `memory (jit) after ${done + chunk}`);
      assert.equal(bytes(ms[1]), bytes(ms[2]), `memory (regions) after ${done + chunk}`);
    }
  }
  assert.equal(ms[2].cpu.halted, true);
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
});

/** Run until a fault or hlt, in slices of 1000. */
function runToEnd(m: Machine): string {
  for (let i = 0; i < 1000; i++) {
    const s = runChunk(m, 1000);
    if (s.startsWith('fault') || m.cpu.halted) return s;
  }
  return `still running ${machineState(m)}`;
}

test('jit: div and idiv raise #DE at the instruction (zero divisor, quotient overflow, INT64_MIN / -1, INT32_MIN / -1) with the state the interpreter leaves', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Each loop divides successfully for some rounds (counter %ecx from 6 down), then faults.
  const programs: Record<string, string> = {
    'divq by a register that reaches 0': 'mov %rcx, %rbx\n sub $2, %rbx\n mov %rdi, %rax\n xor %edx, %edx\n divq %rbx',
    'divl by memory that reaches 0': 'lea -2(%rcx), %eax\n mov %eax, 0x100(%rbp)\n mov %edi, %eax\n xor %edx, %edx\n divl 0x100(%rbp)',
    'divq quotient overflow (rdx >= divisor)': 'mov $4, %ebx\n mov $9, %edx\n sub %rcx, %rdx\n mov %rdi, %rax\n divq %rbx',
    'divl quotient overflow': 'mov $4, %ebx\n mov $9, %edx\n sub %ecx, %edx\n mov %edi, %eax\n divl %ebx',
    'idivq INT64_MIN / -1': 'mov $7, %rbx\n mov $-1, %r8\n cmp $3, %ecx\n cmove %r8, %rbx\n movabs $0x8000000000000000, %rax\n cqto\n idivq %rbx',
    'idivl INT32_MIN / -1': 'mov $7, %ebx\n mov $-1, %r8d\n cmp $3, %ecx\n cmove %r8d, %ebx\n mov $0x80000000, %eax\n cltd\n idivl %ebx',
    'idivq by a register that reaches 0': 'mov %rcx, %rbx\n sub $2, %rbx\n mov %rdi, %rax\n cqto\n idivq %rbx',
  };
  for (const [name, body] of Object.entries(programs)) {
    const code = assembleText(`
      mov $0x60000, %ebp
      mov $6, %ecx
      movabs $0x123456789abcdef, %rdi
    1: add $5, %esi       # flags before the divide: the fault must leave them
      ${body}
      add %rax, %r9
      add %rdx, %r10
      dec %ecx
      jne 1b
      hlt`);
    const out = machines([TIERS.jit, TIERS.regions, TIERS.interpreter], load(code)).map(runToEnd);
    assert.match(out[2], /^fault 0\//, `#DE (${name})`);
    assert.equal(out[0], out[2], `jit vs interpreter (${name})`);
    assert.equal(out[1], out[2], `jit regions vs interpreter (${name})`);
  }
});

test('jit: a #PF on the load or the store of each read-modify-write form leaves registers, flags, memory, cr2 and count as the interpreter does', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  const forms = ['addl $5, (%rbx)', 'subq %rsi, 8(%rbx)', 'andw %si, (%rbx)', 'orb $3, (%rbx)', 'xorq %rax, (%rbx,%rcx,8)',
    'incl (%rbx)', 'decq (%rbx)', 'negl (%rbx)', 'notq (%rbx)', 'shlq $3, (%rbx)', 'sarl $1, (%rbx)', 'addq $5, -4(%rbx)',
    'mulq (%rbx)', 'bsfq (%rbx), %rsi', 'popcntl (%rbx), %esi'];
  const before = jitStats.compiled;
  for (const form of forms) {
    // %rbx walks up by 0x300 from 0x30000 until it reaches page 0x34000 (absent, or read-only).
    const code = assembleText(pageWalkLoop(form));
    for (const [absent, readOnly] of [[[0x34000], []], [[], [0x34000]]]) {
      const ms = machines([TIERS.jit, TIERS.regions, TIERS.interpreter], (m) => { load(code)(m); identityPaging(m, absent, readOnly); });
      const out = ms.map(runToEnd);
      const what = `${form}, page ${absent.length ? 'absent' : 'read-only'}`;
      if (absent.length || !/^(mul|bsf|popcnt)/.test(form)) assert.match(out[2], /^fault 14\//, `a page fault (${what})`);
      assert.equal(out[0], out[2], `jit vs interpreter (${what})`);
      assert.equal(out[1], out[2], `jit regions vs interpreter (${what})`);
      const bytes = (m: Machine): string => Buffer.from(m.memory.slice(0x30000, 0x35000)).toString('hex');
      assert.ok(bytes(ms[0]) === bytes(ms[2]) && bytes(ms[1]) === bytes(ms[2]), `memory as the interpreter left it (${what})`);
    }
  }
  assert.ok(jitStats.compiled > before + 10, 'the loops were translated');
});
