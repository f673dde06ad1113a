// Benchmark of the VM path trace and of moving a VM (src/vmm/vmTrace.ts,
// vmState.ts): the guest kernel (guest/) and its system-call loop under xk vm,
// untraced and traced (the tracer's events, then the text and JSON renderings),
// best of RUNS runs each; and a state saved half way, whole-host vs portable:
// file size, save and resume time. Run: node dist/bench/vmTrace.js (after tsc).

import { pathToFileURL } from 'node:url';
import { buildGuest } from '../test/guestBuild.js';
import { prepareVm } from '../src/vmm/vmRunner.js';
import { virtualClock } from '../src/vmm/monitor.js';
import { VmPathTracer } from '../src/vmm/vmTrace.js';
import { loadVmState, savePortableState, saveVmState } from '../src/vmm/vmState.js';
import { renderText } from '../src/trace/textRenderer.js';
import { renderChromeTrace } from '../src/trace/chromeTrace.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';

const RUNS = 3;

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;

export function vmTraceBench(): void {
  for (const [name, defines] of [['guest kernel', []], ['syscall loop', ['BENCH_SYSCALLS']]] as [string, string[]][]) {
    const elf = buildGuest(defines).elf;
    let plain = Infinity, traced = Infinity, render = Infinity, events = 0, text = 0;
    for (let run = 0; run < RUNS; run++) {
      plain = Math.min(plain, seconds(() => { prepareVm(elf, 'guest.elf').run(50_000_000); }));
      const list: TraceEvent[] = [];
      traced = Math.min(traced, seconds(() => {
        list.length = 0;
        const host = prepareVm(elf, 'guest.elf');
        host.vm.onEvent = new VmPathTracer((e) => list.push(e), { host: 'vmhost', count: virtualClock, guestClock: virtualClock, pid: () => 1 }).listener;
        host.run(50_000_000);
      }));
      events = list.length;
      render = Math.min(render, seconds(() => { text = renderText(list).length; renderChromeTrace(list); }));
    }
    console.log(`vm trace ${name}: untraced ${ms(plain)}, traced ${ms(traced)} (${(traced / plain).toFixed(2)}x; ${events} events), ` +
      `rendering text (${(text / 1024).toFixed(0)} KiB) and JSON ${ms(render)}`);
  }
  const elf = buildGuest().elf;
  const host = prepareVm(elf, 'guest.elf');
  host.run(68_000);
  for (const [kind, save] of [['whole-host', () => saveVmState(host)], ['portable', () => savePortableState(host.portableParts())]] as [string, () => Uint8Array][]) {
    let file: Uint8Array = new Uint8Array(0), saving = Infinity, resuming = Infinity;
    for (let run = 0; run < RUNS; run++) {
      saving = Math.min(saving, seconds(() => { file = save(); }));
      resuming = Math.min(resuming, seconds(() => { loadVmState(file); }));
    }
    console.log(`vm state ${kind} (16 MiB guest at instruction 68000): ${(file.length / 1024).toFixed(0)} KiB, save ${ms(saving)}, resume ${ms(resuming)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) vmTraceBench();
