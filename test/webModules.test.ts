// The page runs src/ itself (issue 16): every module the page and its worker
// import statically must be free of Node.js -- no node: import, no Buffer, no
// process (but for a `typeof process` guard). Host-only paths are loaded with a
// dynamic import() that the page never takes (kernelTextFiles.ts, hostFiles.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { repositoryRoot } from '../src/kernel/trap/kernelTextFiles.js';

const ROOT = repositoryRoot();
const ENTRIES = ['web/src/main.ts', 'web/src/worker.ts'];

/** The static (non-type) imports of a TypeScript file. */
function staticImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)) out.push(m[1]);
  return out;
}

/** Every src/ and web/ module reachable from the page's entry points by static imports. */
function pageModules(): string[] {
  const seen = new Set<string>();
  const stack = [...ENTRIES];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(readFileSync(join(ROOT, file), 'utf8'))) {
      if (!spec.startsWith('.') || spec.includes('?')) continue;
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), spec))).replace(/\.js$/, '.ts');
      if (existsSync(join(ROOT, target))) stack.push(target);
    }
  }
  return [...seen].sort();
}

test('the page imports no Node.js API from src/: no node: modules, no Buffer, no process', () => {
  const modules = pageModules();
  assert.ok(modules.includes('src/kernel/boot/session.ts') && modules.includes('src/machine/cpu.ts') && modules.includes('src/vmm/kernelProcess.ts'),
    `the walk reaches the machine, the kernel and the monitor (${modules.length} modules)`);
  const found: string[] = [];
  for (const file of modules.filter((f) => f.startsWith('src/'))) {
    const code = readFileSync(join(ROOT, file), 'utf8').split('\n');
    code.forEach((line, i) => {
      const text = line.replace(/\/\/.*$/, '');
      if (/from 'node:/.test(text) || /\bBuffer\b/.test(text) || (/\bprocess\./.test(text) && !/typeof process/.test(text))) {
        found.push(`${file}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(found, []);
  assert.ok(modules.length > 100, `${modules.length} modules`);
});
