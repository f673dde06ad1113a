// The playground page in real Chromium: Vite builds web/ (the same src/ as the
// CLI, in a Web Worker), a static server serves the build, and Chromium, driven
// by playwright-core, types at xk's shell and runs and traces the editor's
// programs. The terminal's text is read from the DOM (xterm's screen-reader
// rows), as assistive technology reads it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repositoryRoot } from '../src/kernel/trap/kernelText.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = CHROMIUM ? false : 'Chromium is not installed (apt-get install chromium; .ci/run installs it)';
if (!CHROMIUM && process.env.CI) throw new Error('CI must have Chromium for the page tests: .ci/run installs it');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
let outDir = '';
let server: Server | undefined;
let browser: Browser | undefined;
let url = '';
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  outDir = mkdtempSync(join(tmpdir(), 'xk-web-'));
  const { build } = await import('vite');
  await build({ configFile: join(repositoryRoot(), 'web/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(outDir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(outDir) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await browser!.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(url);
  return page;
}

/** The terminal's text as the DOM holds it. */
const terminalText = (page: Page): Promise<string> =>
  page.evaluate(() => [...(document.querySelector('#terminal .xterm-accessibility-tree')?.children ?? [])]
    .map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n').trimEnd() + ' ');

async function waitForTerminal(page: Page, pattern: RegExp, timeout = 60_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await terminalText(page);
    if (pattern.test(text)) return text;
    await page.waitForTimeout(200);
  }
  assert.fail(`the terminal never showed ${pattern}; it shows:\n${text}`);
}

test('the page boots xk to the shell; ls and a pipeline run; Ctrl-C interrupts cat; vm guest.elf runs the guest kernel', { skip, timeout: 180_000 }, async () => {
  const page = await openPage();
  await waitForTerminal(page, /^\$ $/m);
  await page.click('#terminal');
  await page.keyboard.type('ls\n');
  await waitForTerminal(page, /README[\s\S]*small\.txt|small\.txt[\s\S]*README/);
  await page.keyboard.type('cat README | grep xk | wc\n');
  await waitForTerminal(page, /wc\n?\s*\d+ \d+ \d+/);
  await page.keyboard.type('cat\n');
  await page.waitForTimeout(500);
  await page.keyboard.press('Control+C');
  await page.keyboard.type('echo after ctrl-c\n');
  const text = await waitForTerminal(page, /\^C[\s\S]*after ctrl-c\s*\n[\s\S]*\$/);
  assert.match(text, /\^C/);
  await page.keyboard.type('vm guest.elf\n'); // the guest kernel, built in the page, as a VM under xk's monitor
  await waitForTerminal(page, /\[guest\] shutdown\s*\nvm: guest\.elf powered off with status 0/, 120_000);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('Run builds the editor\'s assembly with xk as/ld in the page; Trace draws each system call\'s path; an error marks its line', { skip, timeout: 180_000 }, async () => {
  const page = await openPage();
  await waitForTerminal(page, /^\$ $/m);
  await page.click('#run');
  await waitForTerminal(page, /hello from user mode[\s\S]*exit status 0/);

  await page.selectOption('#examples', { label: 'open() and read() a file' });
  await page.click('#trace');
  await page.waitForSelector('#trace-pane:not([hidden]) svg.path-picture', { timeout: 60_000 });
  const titles = await page.$$eval('#paths option', (options) => options.map((o) => o.textContent ?? ''));
  assert.ok(titles.some((t) => /open\("\/README", 0\) = 3/.test(t)), titles.join('\n'));
  await page.selectOption('#paths', { label: titles.find((t) => t.includes('open('))! });
  // The open() path crosses all four lanes, in the lecture's order.
  const steps = await page.$$eval('#picture circle.step', (dots) => dots.map((d) => d.getAttribute('data-step')));
  const order = ['int', 'vector', 'alltraps', 'trap', 'syscall', 'sys', 'trapret', 'iretq', 'user'];
  const at = order.map((s) => steps.indexOf(s));
  assert.ok(at.every((i) => i >= 0), `steps: ${steps.join(' ')}`);
  assert.deepEqual([...at].sort((a, b) => a - b), at, `in order: ${steps.join(' ')}`);
  const lanes = await page.$$eval('#picture circle.step', (dots) => [...new Set(dots.map((d) => d.getAttribute('class')))]);
  assert.equal(lanes.length, 4, lanes.join(' '));

  // A broken program: the error names the line, and the editor marks it.
  await page.click('#editor .cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n        movq %rax, %%nonsense\n');
  await page.click('#run');
  await page.waitForSelector('#build-error:not([hidden])');
  const message = await page.textContent('#build-error');
  assert.match(message ?? '', /openread\.s:\d+:\d+: error:/);
  assert.equal(await page.locator('.cm-error-line').count(), 1);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
