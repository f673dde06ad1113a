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
  send({ kind: 'run', source: editor.state.doc.toString(), fileName: ex.fileName, trace });
  terminal.focus();
}
$('run').addEventListener('click', () => run(false));
$('trace').addEventListener('click', () => run(true));
$('reboot').addEventListener('click', () => { terminal.reset(); send({ kind: 'boot' }); terminal.focus(); });

// --- the trace: one picture per system call
let paths: PathPicture[] = [];
const pathSelect = $<HTMLSelectElement>('paths');
const showPath = (i: number): void => {
  $('picture').replaceChildren(...(paths[i] ? [drawPath(paths[i])] : []));
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
      pathSelect.replaceChildren(...paths.map((p, i) => new Option(`pid ${p.pid}: ${p.title}`, String(i))));
      $('trace-text').textContent = m.text;
      $('trace-pane').hidden = false;
      showPath(0);
      break;
    case 'exited':
      $('status').textContent = m.status === null ? `stopped: ${m.message}` : `exited with status ${m.status}`;
      terminal.write(`\x1b[2m--- ${m.status === null ? m.message || 'stopped' : `exit status ${m.status}`} ---\x1b[0m\r\n`);
      break;
  }
};
worker.onerror = (e) => { $('status').textContent = `the worker failed: ${e.message}`; };

send({ kind: 'boot' });
terminal.focus();
