// Issue 6: one door for user memory, enforced structurally. Only the files below may
// touch emulated physical memory or walk page tables; everywhere else, physical
// memory may be touched only at a trap frame (kernel stack). A new file that needs
// more must be reviewed and added here with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../src/kernel/trap/kernelText.js';

const ALLOWED: Record<string, string> = {
  'mem/copyin.ts': 'the door: copyin, copyout, copyinstr walk the process page table',
  'mem/vm.ts': 'builds and walks page tables (kernel memory)',
  'mem/kalloc.ts': 'zeroes freshly allocated pages',
  'mem/pageFault.ts': 'copy-on-write and stack growth: copies a shared page, finds the stack bottom (the door calls it too)',
  'boot/boot.ts': 'writes the GDT, IDT, TSS and kernel text',
  'trap/trapFrame.ts': 'reads and writes trap frames on kernel stacks',
};
/** Direct physical-memory access, or a page-table walk that could reach user pages. */
const TOUCH = /\bmem\.(bytes|read|write)|userPhysical|readEntry|\.walk\(|vm\.lookup\(/;

function kernelSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fuzz' ? [] : kernelSources(path); // fuzz/ is the test harness
    return name.endsWith('.ts') ? [path] : [];
  });
}

test('only the door (and kernel-structure code) touches physical memory; other code only at trap frames', () => {
  const root = join(repositoryRoot(), 'src', 'kernel');
  const offenders: string[] = [];
  for (const file of kernelSources(root)) {
    const name = file.slice(root.length + 1);
    if (ALLOWED[name]) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (TOUCH.test(line) && !/\btf\.phys\b/.test(line)) offenders.push(`${name}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('system calls get user pointers as numbers: no sys* file imports the page-table walker', () => {
  const root = join(repositoryRoot(), 'src', 'kernel');
  for (const file of kernelSources(root)) {
    const text = readFileSync(file, 'utf8');
    if (/^sys|syscall|exec|signal/.test(file.slice(root.length + 1))) {
      assert.doesNotMatch(text, /import[^;]*\b(userPhysical|readEntry|tableIndices)\b[^;]*from/, file);
    }
  }
});
