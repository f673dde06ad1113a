// xk cc in `npm run bench`:
//  1. compile speed: a large generated C file (many small integer functions)
//     through xk cc -O0 and -O1 to assembly, in lines per second;
//  2. run speed on xk of one integer program (sieve, sort, hashing) built by
//     xk cc -O0 and -O1 and by gcc -O0 and -O2 (gcc -S, then xk as and xk ld
//     with the same user library): wall time and instructions of each run on xk and the ratios,
//     all in this one run, and the ratios of the instructions each run
//     retires beyond an empty program's (the kernel's boot). Each time is the
//     best of RUNS runs.

import { execFileSync } from 'node:child_process';
import { compileC } from '../src/toolchain/cc/compile.js';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { linkWithUserLibrary } from '../src/build/userPrograms.js';
import { GEN_CFLAGS, gccVersion } from '../src/build/gcc.js';
import { runToCompletion } from '../src/kernel/boot/session.js';

const RUNS = 3;

function generatedFile(functions: number): string {
  const out: string[] = ['int printf(const char *, ...);', ''];
  for (let i = 0; i < functions; i++) {
    out.push(
      `static int f${i}(int a, int b) {`,
      `  int s = ${i};`,
      '  for (int k = 0; k < a; k++) {',
      `    if ((k ^ b) & ${(i % 7) + 1}) s += k * ${i % 13 + 2};`,
      '    else s -= b >> 1;',
      '  }',
      `  switch (s & 3) { case 0: s ^= ${i}; break; case 1: s += a; break; default: s -= b; }`,
      '  return s;',
      '}',
    );
  }
  out.push('int main(void) {', '  int t = 0;');
  for (let i = 0; i < functions; i++) out.push(`  t += f${i}(${i % 5}, ${i % 11});`);
  out.push('  printf("%d\\n", t);', '  return 0;', '}');
  return out.join('\n') + '\n';
}

function compileSpeed(optimize: number): void {
  const source = generatedFile(4000);
  const lines = source.split('\n').length - 1;
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    const result = compileC(source, 'big.c', { includeDirs: [], defines: {}, optimize, readFile: () => null });
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (result.assembly === undefined) throw new Error(result.errors.join('\n'));
    best = Math.min(best, t);
  }
  console.log(`xk cc -O${optimize} compile speed: ${lines} lines (${(source.length / 1e6).toFixed(1)} MB) in ${(best * 1000).toFixed(0)} ms = ${(lines / best / 1000).toFixed(0)} k lines/s`);
}

const PROGRAM = `
int printf(const char *, ...);
static unsigned char sieve[20000];
static int data[3000];
static unsigned hash(unsigned h, int v) { return (h ^ (unsigned)v) * 16777619u; }
int main(void) {
  unsigned h = 2166136261u;
  int primes = 0;
  for (int i = 2; i < 20000; i++) sieve[i] = 1;
  for (int i = 2; i < 20000; i++) {
    if (!sieve[i]) continue;
    primes++;
    for (int j = i + i; j < 20000; j += i) sieve[j] = 0;
  }
  unsigned x = 12345;
  for (int i = 0; i < 3000; i++) { x = x * 1103515245u + 12345u; data[i] = (int)(x >> 8) % 100000; }
  for (int i = 1; i < 3000; i++) {
    int v = data[i], j = i - 1;
    while (j >= 0 && data[j] > v) { data[j + 1] = data[j]; j--; }
    data[j + 1] = v;
  }
  for (int i = 0; i < 3000; i++) h = hash(h, data[i]);
  long sum = 0;
  for (int r = 0; r < 200; r++) for (int i = 0; i < 1000; i++) sum += (i * r) % 7 - (i & r);
  printf("%d %u %ld\\n", primes, h, sum);
  return 0;
}
`;

function xkccImage(optimize: number, program = PROGRAM): Uint8Array {
  const r = compileC(program, 'bench.c', { includeDirs: [], defines: {}, optimize, readFile: () => null });
  if (r.assembly === undefined) throw new Error(r.errors.join('\n'));
  return linkWithUserLibrary([{ name: 'bench.o', bytes: assemble(r.assembly, { fileName: 'bench.s' }).object }]);
}

function gccImage(level: string): Uint8Array {
  const flags = GEN_CFLAGS.filter((f) => !/^-O/.test(f));
  const asm = execFileSync('gcc', [...flags, level, '-w', '-x', 'c', '-S', '-o', '-', '-'], { input: PROGRAM }).toString();
  return linkWithUserLibrary([{ name: 'bench.o', bytes: assemble(asm, { fileName: 'bench.s' }).object }]);
}

async function runOnXk(image: Uint8Array): Promise<{ t: number; output: string; n: number }> {
  let best = Infinity, output = '', n = 0;
  for (let r = 0; r < RUNS; r++) {
    output = '';
    const t0 = process.hrtime.bigint();
    const res = await runToCompletion({
      program: { path: 'bench', image, argv: ['bench'] }, memoryBytes: 16 * 1024 * 1024,
      output: (b) => { output += Buffer.from(b).toString('latin1'); }, trace: () => {},
    }, 2_000_000_000);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    if (res.status !== 0) throw new Error(`bench exited ${res.status}: ${res.message}`);
    n = res.session.machine.cpu.instructionCount;
  }
  return { t: best, output: output.trim(), n };
}

export async function ccBench(): Promise<void> {
  compileSpeed(0);
  compileSpeed(1);
  // the instructions of booting the kernel and running an empty program, taken off the counts below
  const boot = (await runOnXk(xkccImage(1, 'int main(void) { return 0; }\n'))).n;
  const counts = new Map<string, number>();
  const builds: [string, Uint8Array][] = [['xk cc -O0', xkccImage(0)], ['xk cc -O1', xkccImage(1)]];
  if (gccVersion() !== null) builds.push(['gcc -O0', gccImage('-O0')], ['gcc -O2', gccImage('-O2')]);
  else console.log('gcc not installed: xk cc only');
  const times = new Map<string, number>();
  for (const [name, image] of builds) {
    const { t, output, n } = await runOnXk(image);
    times.set(name, t);
    counts.set(name, n - boot);
    console.log(`${name} program on xk: ${(t * 1000).toFixed(0)} ms, ${(n / 1e6).toFixed(1)} M instructions (kernel boot included; output ${output})`);
  }
  const per = (a: string, b: string): string => (counts.has(a) && counts.has(b) ? `${a} / ${b} = ${(counts.get(a)! / counts.get(b)!).toFixed(2)}x` : '');
  console.log(`instructions without the ${(boot / 1e3).toFixed(0)} k of boot and an empty program: ` + ['xk cc -O1 / xk cc -O0', 'xk cc -O1 / gcc -O0', 'xk cc -O1 / gcc -O2']
    .map((p) => { const [a, b] = p.split(' / '); return per(a, b); }).filter((x) => x).join('; '));
  const ratio = (a: string, b: string): string => (times.has(a) && times.has(b) ? `${a} / ${b} = ${(times.get(a)! / times.get(b)!).toFixed(2)}x the time` : '');
  console.log(['xk cc -O1 / xk cc -O0', 'xk cc -O0 / gcc -O0', 'xk cc -O1 / gcc -O2', 'xk cc -O0 / gcc -O2']
    .map((p) => { const [a, b] = p.split(' / '); return ratio(a, b); }).filter((s) => s).join('; '));
}
