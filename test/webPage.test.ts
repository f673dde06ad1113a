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
import { repositoryRoot } from '../src/kernel/trap/kernelTextFiles.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = CHROMIUM ? false : 'Chromium is not installed (apt-get install chromium; .ci/run installs it)';
if (!CHROMIUM && process.env.CI) throw new Error('CI must have Chromium for the page tests: .ci/run installs it');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
let outDir = '';
let server: Server | undefined;
let browser: Browser | undefined;
let url = '';
const pageErrors: string[] = [];
/** Screenshots of each state, to look at: dist/test-artifacts/web/. */
const ARTIFACTS = join(repositoryRoot(), 'dist', 'test-artifacts', 'web');
const shot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
};

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

/** Requests made after the page (and its worker) loaded: intercepted, refused and recorded. Must stay empty. */
const lateRequests: string[] = [];

async function openPage(): Promise<Page> {
  const context = await browser!.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('#terminal .xterm-accessibility-tree');
  // From here on nothing may touch the network: every request (the page's or its worker's) is aborted and recorded.
  await context.route('**/*', (route) => { lateRequests.push(route.request().url()); return route.abort(); });
  return page;
}

/** The JSON the "export for Perfetto" link downloads (a blob: URL made in the page, no request). */
async function perfettoExport(page: Page): Promise<{ traceEvents: { name: string; ph: string; ts?: number; cat?: string; tid?: number }[] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#perfetto')]);
  const path = await download.path();
  return JSON.parse(readFileSync(path, 'utf8'));
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

test('the page boots xk to the shell; ls and a pipeline run; Ctrl-C interrupts cat; vm guest.elf runs the guest kernel; a user test passes', { skip, timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const page = await openPage();
  await waitForTerminal(page, /^\$ $/m);
  const promptMs = Date.now() - started;
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
  t.diagnostic(`first contentful paint ${Math.round(paint)} ms; shell prompt ${promptMs} ms after navigation (measured, not asserted)`);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await shot(page, '1-shell-prompt');
  await page.click('#terminal');
  await page.keyboard.type('echo hi | wc\n');
  await waitForTerminal(page, /^\s*1 1 3\s*$/m);
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
  await page.keyboard.type('filetest\n'); // a user test, as the course runs them
  await waitForTerminal(page, /filetest[\s\S]*PASS[\s\S]*\$ $/m, 120_000);
  await shot(page, '2-shell-commands-and-vm');
  // The terminal resizes with the window (60vh): fewer rows in a shorter window, as its DOM rows show.
  const rowsNow = (): Promise<number> => page.evaluate(() => document.querySelector('#terminal .xterm-accessibility-tree')?.children.length ?? 0);
  const tallRows = await rowsNow();
  await page.setViewportSize({ width: 1280, height: 500 });
  await page.waitForFunction((n) => (document.querySelector('#terminal .xterm-accessibility-tree')?.children.length ?? n) < n, tallRows);
  assert.ok(await rowsNow() < tallRows);
  await page.setViewportSize({ width: 1280, height: 720 });

  // Reset: a fresh machine boots to the shell again, and runs commands as before.
  await page.click('#reboot');
  await waitForTerminal(page, /^(?![\s\S]*filetest)[\s\S]*^\$ $/m); // cleared, then a new prompt
  await page.click('#terminal');
  await page.keyboard.type('echo hi | wc\n');
  await waitForTerminal(page, /^\s*1 1 3\s*$/m);
  assert.deepEqual(requests, [], 'the page makes no network request after load');
  assert.deepEqual(lateRequests, [], 'no request reached the network interception after load');
  // The interception is armed: a request the test makes from the page is caught and refused.
  assert.equal(await page.evaluate(() => fetch('/probe').then(() => 'fetched', () => 'refused')), 'refused');
  assert.deepEqual(lateRequests.splice(0), [`${url}probe`]);
  const probeError = pageErrors.findIndex((e) => /ERR_FAILED/.test(e)); // the console's note of that refused probe
  if (probeError >= 0) pageErrors.splice(probeError, 1);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('Run builds the editor\'s assembly with xk as/ld in the page; Trace draws each system call\'s path; an error marks its line', { skip, timeout: 180_000 }, async () => {
  const page = await openPage();
  await waitForTerminal(page, /^\$ $/m);
  await page.click('#run');
  await waitForTerminal(page, /hello from user mode[\s\S]*exit status 0/);
  await shot(page, '3-run-hello');

  // Trace of hello: the write's path, step for step as `xk trace` prints it for the same source.
  await page.click('#trace');
  await page.waitForSelector('#trace-pane:not([hidden]) svg.path-picture', { timeout: 60_000 });
  const helloTitles = await page.$$eval('#paths option', (options) => options.map((o) => o.textContent ?? ''));
  const writeTitle = helloTitles.find((t) => /write\(1, 0x[0-9a-f]+, 21\) = 21/.test(t));
  assert.ok(writeTitle, helloTitles.join('\n'));
  await page.selectOption('#paths', { label: writeTitle });
  const writeSteps = await page.$$eval('#picture circle.step', (dots) => dots.map((d) => d.getAttribute('data-step')));
  const dir = mkdtempSync(join(tmpdir(), 'xk-web-hello-'));
  writeFileSync(join(dir, 'hello.s'), readFileSync(join(repositoryRoot(), 'web/examples/hello.s')));
  const cli = spawnSync(process.execPath, [join(repositoryRoot(), 'bin', 'xk.js'), 'trace', join(dir, 'hello.s')], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  const episode = cli.stdout.split('\n\n').find((b) => /^pid \d+: write\(/.test(b.trim()));
  assert.ok(episode, cli.stdout);
  const cliSteps = episode.trim().split('\n').slice(1);
  assert.equal(writeSteps.length, cliSteps.length, `picture: ${writeSteps.join(' ')}\nxk trace:\n${episode}`);
  for (const s of ['int', 'alltraps', 'trap', 'syscall', 'sys', 'iretq']) assert.ok(writeSteps.includes(s), `${s} in ${writeSteps.join(' ')}`);
  assert.match(await page.textContent('#trap-frame') ?? '', /rax\s+0x10\b/, 'the trap frame shows rax = 16 (write)');
  await page.click('#picture circle.step[data-step="alltraps"]');
  assert.match(await page.textContent('#step-code') ?? '', /alltraps[\s\S]*push/);
  await shot(page, '4-trace-write');
  // Export for Perfetto: the same trace as Chrome trace JSON, its instant events the picture's steps.
  const exported = await perfettoExport(page);
  const instants = exported.traceEvents.filter((e) => e.ph === 'i').map((e) => e.name);
  for (const s of ['int', 'alltraps', 'trap', 'syscall', 'sys', 'iretq']) assert.ok(instants.includes(s), `${s} exported`);
  assert.ok(exported.traceEvents.some((e) => e.ph === 'X' && /^write\(1, 0x[0-9a-f]+, 21\) = 21/.test(e.name)), 'the write as a slice');

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
  const firstTrace = await page.textContent('#trace-text');
  await page.click('#trace'); // the same run gives the same trace every time
  await page.waitForSelector('#trace-pane:not([hidden]) svg.path-picture', { timeout: 60_000 });
  assert.equal(await page.textContent('#trace-text'), firstTrace);

  // A signal: delivery -> handler -> sigreturn, as a path of its own.
  await page.selectOption('#examples', { label: 'a signal handler (SIGALRM)' });
  await page.click('#trace');
  await page.waitForFunction(() => [...document.querySelectorAll('#paths option')].some((o) => o.textContent?.startsWith('signal:')), undefined, { timeout: 60_000 });
  const signalTitle = (await page.$$eval('#paths option', (o) => o.map((x) => x.textContent ?? ''))).find((t) => t.startsWith('signal:'))!;
  await page.selectOption('#paths', { label: signalTitle });
  const signalSteps = await page.$$eval('#picture circle.step', (dots) => dots.map((d) => d.getAttribute('data-step')));
  assert.equal(signalSteps[0], 'signal-deliver', signalSteps.join(' '));
  assert.ok(signalSteps.includes('sigreturn'), signalSteps.join(' '));
  await shot(page, '5-trace-signal');

  // Pause and step: one instruction at a time, the machine panel follows.
  await waitForTerminal(page, /SIGALRM arrived[\s\S]*exit status 0[\s\S]*\$ $/m);
  await page.click('#pause');
  await page.waitForFunction(() => Number(document.querySelector('#instructions')?.textContent) > 0);
  const before = Number(await page.textContent('#instructions'));
  await page.click('#step');
  await page.waitForFunction((n) => Number(document.querySelector('#instructions')?.textContent) === n + 1, before);
  assert.match(await page.textContent('#registers') ?? '', /rip\s+0x[0-9a-f]{16}/);
  assert.match(await page.textContent('#processes') ?? '', /PID\s+PPID[\s\S]*sh/);
  await page.fill('#walk-address', '0xffff800000100000');
  await page.click('#walk-form button');
  await page.waitForFunction(() => (document.querySelector('#walk')?.textContent ?? '') !== '');
  await shot(page, '6-paused-machine');
  await page.click('#pause'); // continue

  // The guest kernel's user program, edited in the page, runs in a VM under the xk kernel.
  await page.selectOption('#examples', { label: "the guest kernel's user program (in a VM)" });
  const guestSource = await page.evaluate(() => document.querySelector('#editor .cm-content')?.textContent ?? '');
  assert.match(guestSource, /main_a/);
  await page.click('#run');
  await waitForTerminal(page, /\[guest\] shutdown\s*\nvm: guest\.elf powered off with status 0/, 120_000);
  await shot(page, '7-guest-user-program');

  // Trace of the guest: the VM path drawn from the monitor's own events of that run.
  await page.click('#trace');
  await page.waitForSelector('#trace-pane:not([hidden]) svg.path-picture', { timeout: 120_000 });
  type Raw = { kind: string; count: number; rip: string; cpl: number; trapno?: number; mnemonic?: string; nextCpl?: number; nextRip?: string; vector?: number };
  const raw = JSON.parse(await page.textContent('#vm-events') ?? '[]') as Raw[];
  // The guest app's first system call, found in the events by the test itself: from its exit to the app's next resume.
  const first = raw.findIndex((e) => e.kind === 'exit' && e.trapno === 64 && e.cpl === 3);
  assert.ok(first >= 0, `no int $64 from the guest app among ${raw.length} events`);
  const last = raw.findIndex((e, i) => i > first && e.kind === 'resume' && e.cpl === 3);
  assert.ok(last > first);
  const trip = raw.slice(first, last + 1);
  const vmTitles = await page.$$eval('#paths option', (options) => options.map((o) => o.textContent ?? ''));
  assert.match(vmTitles[0], new RegExp(`^guest system call at ${trip[0].rip}:`), vmTitles.join('\n'));
  await page.selectOption('#paths', { index: 0 });
  const dots = await page.$$eval('#picture circle.step', (ds) => ds.map((d) => ({ step: d.getAttribute('data-step'), layer: d.getAttribute('data-layer'), count: Number(d.getAttribute('data-count')) })));
  const texts = await page.$$eval('#picture text.step-text', (ts) => ts.map((t) => t.textContent ?? ''));
  assert.equal(dots.length, trip.length, `picture: ${dots.map((d) => d.step).join(' ')}`);
  const laneOf = (e: Raw): string => e.kind === 'exit' ? 'host' : e.kind === 'resume' ? (e.cpl === 3 ? 'guest-app' : 'guest-kernel') : 'monitor';
  trip.forEach((e, i) => {
    assert.deepEqual(dots[i], { step: e.kind, layer: laneOf(e), count: e.count }, `step ${i}`);
    assert.ok(texts[i].includes(e.rip), `step ${i} names rip ${e.rip}: ${texts[i]}`);
  });
  // The lecture's path: guest app -> host -> the monitor runs the int through the guest's IDT -> guest kernel -> ... -> iretq emulated -> guest app.
  const int = trip.find((e) => e.kind === 'emulate' && e.mnemonic === 'int');
  assert.ok(int && int.cpl === 3 && int.nextCpl === 0, JSON.stringify(trip));
  assert.ok(trip.some((e) => e.kind === 'resume' && e.cpl === 0 && e.rip === int.nextRip), `the guest kernel runs its handler: ${JSON.stringify(trip)}`);
  const iret = trip.filter((e) => e.kind === 'emulate' && e.cpl === 0 && e.nextCpl === 3);
  assert.equal(iret.length, 1, JSON.stringify(trip));
  assert.match(iret[0].mnemonic ?? '', /^iret/);
  assert.equal(BigInt(trip[trip.length - 1].rip), BigInt(trip[0].rip) + 2n, 'the app resumes after its int $64');
  assert.deepEqual(new Set(dots.map((d) => d.layer)), new Set(['guest-app', 'host', 'monitor', 'guest-kernel']));
  await page.click('#picture circle.step >> nth=0'); // the exit: the guest app's own int $64, disassembled
  assert.match(await page.textContent('#step-code') ?? '', new RegExp(`${trip[0].rip.slice(2)}:\\s+int\\s+\\$0x40`));
  await shot(page, '7b-trace-guest-vm-path');
  const vmExport = await perfettoExport(page);
  const vmInstants = vmExport.traceEvents.filter((e) => e.ph === 'i');
  assert.equal(vmInstants.length, raw.length, 'every monitor event exported');
  assert.deepEqual(vmInstants.slice(first, last + 1).map((e) => [e.name, e.ts]), trip.map((e) => [e.kind, e.count]));

  await page.selectOption('#examples', { label: 'a signal handler (SIGALRM)' });
  // A broken program: the error names the line, and the editor marks it.
  await page.click('#editor .cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n        movq %rax, %%nonsense\n');
  await page.click('#run');
  await page.waitForSelector('#build-error:not([hidden])');
  const message = await page.textContent('#build-error');
  assert.match(message ?? '', /alarm\.s:\d+:\d+: error:/);
  assert.equal(await page.locator('.cm-error-line').count(), 1);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(lateRequests, [], 'no network request after load');
  await page.close();
});

test('C in the editor: xk cc compiles hello.c and open()+read() in the page; Trace draws the C program\'s open(); a compile error marks its line', { skip, timeout: 120_000 }, async () => {
  const page = await openPage();
  await waitForTerminal(page, /^\$ $/m);
  await page.selectOption('#examples', { label: 'hello in C (xk cc)' });
  await page.click('#run');
  await waitForTerminal(page, /hello from C on xk, pid 1\s*\n[\s\S]*exit status 0/);
  await page.selectOption('#examples', { label: 'open() and read() in C (xk cc)' });
  await page.click('#run');
  await waitForTerminal(page, /read 120 bytes from fd 3:\s*\nThis is the xk file system\.[\s\S]*exit status 0/);
  await shot(page, '8-run-c');
  await page.click('#trace');
  await page.waitForSelector('#trace-pane:not([hidden]) svg.path-picture', { timeout: 60_000 });
  const titles = await page.$$eval('#paths option', (options) => options.map((o) => o.textContent ?? ''));
  const open = titles.find((t) => /open\("\/README", 0\) = 3/.test(t));
  assert.ok(open, titles.join('\n'));
  await page.selectOption('#paths', { label: open });
  const steps = await page.$$eval('#picture circle.step', (dots) => dots.map((d) => d.getAttribute('data-step')));
  for (const s of ['int', 'alltraps', 'trap', 'syscall', 'sys', 'iretq', 'user']) assert.ok(steps.includes(s), `${s} in ${steps.join(' ')}`);

  // A compile error: xk cc's message names hello.c's line, and the editor marks that line.
  await page.selectOption('#examples', { label: 'hello in C (xk cc)' });
  await page.click('#editor .cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\nint broken(void) { return 1 + ; }\n');
  await page.click('#run');
  await page.waitForSelector('#build-error:not([hidden])');
  const message = await page.textContent('#build-error') ?? '';
  const at = /^hello\.c:(\d+):\d+: error:/m.exec(message);
  assert.ok(at, message);
  const lineCount = (await page.evaluate(() => document.querySelector('#editor .cm-content')?.children.length ?? 0));
  const marked = await page.evaluate(() => [...document.querySelectorAll('#editor .cm-content > .cm-line')].findIndex((l) => l.classList.contains('cm-error-line')) + 1);
  assert.equal(marked, Number(at[1]), `the error is on line ${at[1]} of ${lineCount}; the editor marks line ${marked}`);
  assert.equal(await page.locator('.cm-error-line').count(), 1);
  await shot(page, '9-c-compile-error');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(lateRequests, [], 'no network request after load');
  await page.close();
});
