// The playground page: an editor with example programs, a terminal attached to
// xk's console, and the picture of a traced system call's path. The machine runs
// in a Web Worker (worker.ts), so the page stays responsive.

import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { EditorView, basicSetup } from 'codemirror';
import { Decoration, type DecorationSet } from '@codemirror/view';
import { StateEffect, StateField } from '@codemirror/state';
import { examples } from './examples.js';
import { drawPath } from './pathPicture.js';
import type { FromWorker, PathPicture, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

// --- the worker
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker): void => worker.postMessage(m);

// --- the terminal: keys go to xk's console, which echoes them (its line discipline)
const terminal = new Terminal({ convertEol: true, screenReaderMode: true, rows: 30, cols: 80, fontSize: 13 });
terminal.open($('terminal'));
terminal.onData((data) => {
  if (data === '\x03') send({ kind: 'interrupt' });
  else send({ kind: 'input', text: data });
});
const fitTerminal = (): void => {
  const box = $('terminal').getBoundingClientRect();
  const cols = Math.max(20, Math.floor((box.width - 8) / 7.8));
  const rows = Math.max(5, Math.floor((box.height - 8) / 17));
  if (cols !== terminal.cols || rows !== terminal.rows) terminal.resize(cols, rows);
};
new ResizeObserver(fitTerminal).observe($('terminal'));

// --- the editor, with a mark on the line an error names
const setErrorLine = StateEffect.define<number>();
const errorLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const e of tr.effects) {
      if (!e.is(setErrorLine)) continue;
      if (e.value <= 0 || e.value > tr.state.doc.lines) return Decoration.none;
      return Decoration.set([Decoration.line({ class: 'cm-error-line' }).range(tr.state.doc.line(e.value).from)]);
    }
    return tr.docChanged ? Decoration.none : marks;
  },
  provide: (f) => EditorView.decorations.from(f),
});
const editor = new EditorView({ parent: $('editor'), extensions: [basicSetup, errorLine] });
const exampleSelect = $<HTMLSelectElement>('examples');
examples.forEach((ex, i) => exampleSelect.append(new Option(ex.name, String(i))));
const showExample = (i: number): void => {
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: examples[i].source } });
};
exampleSelect.addEventListener('change', () => showExample(Number(exampleSelect.value)));
showExample(0);

function run(trace: boolean): void {
  $('build-error').hidden = true;
  editor.dispatch({ effects: setErrorLine.of(0) });
  const ex = examples[Number(exampleSelect.value)];
  if (trace) {
    $('trace-pane').hidden = true; // until this run's trace arrives
    $('paths').replaceChildren();
  }
  send({ kind: 'run', source: editor.state.doc.toString(), fileName: ex.fileName, trace, guest: ex.guest });
  terminal.focus();
}
$('run').addEventListener('click', () => run(false));
$('trace').addEventListener('click', () => run(true));
$('reboot').addEventListener('click', () => {
  setPaused(false);
  terminal.reset();
  send({ kind: 'boot' });
  terminal.focus();
});

// --- pause, step: the machine stops between instructions, deterministically
let paused = false;
function setPaused(on: boolean): void {
  paused = on;
  $('pause').textContent = on ? 'Continue' : 'Pause';
  $('pause').setAttribute('aria-pressed', String(on));
  ($('step') as HTMLButtonElement).disabled = !on;
  $('machine-pane').hidden = !on;
}
$('pause').addEventListener('click', () => {
  setPaused(!paused);
  send(paused ? { kind: 'pause' } : { kind: 'resume' });
});
$('step').addEventListener('click', () => send({ kind: 'step', count: 1 }));
$('walk-form').addEventListener('submit', (e) => {
  e.preventDefault();
  send({ kind: 'inspect', address: $<HTMLInputElement>('walk-address').value });
});

// --- the trace: one picture per system call
let paths: PathPicture[] = [];
const pathSelect = $<HTMLSelectElement>('paths');
const showPath = (i: number): void => {
  const path = paths[i];
  $('picture').replaceChildren(...(path ? [drawPath(path)] : []));
  $('trap-frame').textContent = path?.trapFrame ?? (path?.kind === 'signal' ? 'a signal delivery: see the system calls around it'
    : path?.kind === 'vm' ? 'a guest system call under the monitor: click a step for the guest\'s code at its rip' : '');
  $('step-code').textContent = 'click a step of the picture to see the code at the CPU\'s rip then';
  $('picture').querySelectorAll<SVGCircleElement>('circle.step').forEach((dot, n) => {
    dot.addEventListener('click', () => {
      $('picture').querySelectorAll('circle.selected').forEach((d) => d.classList.remove('selected'));
      dot.classList.add('selected');
      const step = path!.steps[n];
      $('step-code').textContent = `${step.count}  ${step.layer}  ${step.text}\n\n${step.code}`;
    });
  });
};
pathSelect.addEventListener('change', () => showPath(Number(pathSelect.value)));

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.kind) {
    case 'output': terminal.write(m.text); break;
    case 'status': $('status').textContent = m.text; break;
    case 'buildError':
      $('build-error').textContent = m.message;
      $('build-error').hidden = false;
      editor.dispatch({ effects: setErrorLine.of(m.line) });
      $('status').textContent = 'the program did not build';
      break;
    case 'trace':
      paths = m.paths;
      pathSelect.replaceChildren(...paths.map((p, i) => new Option(`${p.kind === 'syscall' ? 'pid ' + p.pid + ': ' : ''}${p.title}`, String(i))));
      $('trace-text').textContent = m.text;
      $('vm-events').textContent = m.vmEvents ?? ''; // the monitor's own events (JSON), for tools and the tests
      $<HTMLAnchorElement>('perfetto').href = URL.createObjectURL(new Blob([m.perfetto], { type: 'application/json' }));
      $('trace-pane').hidden = false;
      showPath(0);
      break;
    case 'machine':
      $('instructions').textContent = String(m.view.instructions);
      $('registers').textContent = m.view.registers;
      $('code').textContent = m.view.code;
      $('processes').textContent = m.view.processes;
      $('walk').textContent = m.view.walk;
      break;
    case 'exited':
      $('status').textContent = m.status === null ? `stopped: ${m.message}` : `exited with status ${m.status}`;
      terminal.write(`\r\n\x1b[2m--- ${m.status === null ? m.message || 'stopped' : `exit status ${m.status}`} ---\x1b[0m\r\n`);
      break;
  }
};
worker.onerror = (e) => { $('status').textContent = `the worker failed: ${e.message}`; };

send({ kind: 'boot' });
terminal.focus();
