// The part of the C preprocessor that assembler sources (.S) use: #include,
// #define (with arguments and ## token pasting), #undef, #ifdef/#ifndef/#if/
// #elif/#else/#endif, and C comments. Each output line remembers the file and
// line it came from, so errors point at the source the programmer wrote.

import { AssemblyError } from './assemblyError.js';
import { tokenize } from './lexer.js';
import { evaluate, parseExpression } from './expression.js';

export interface SourceLine {
  text: string;
  file: string;
  line: number;
}

interface Macro {
  params: string[] | null; // null: object-like
  body: string;
}

export interface PreprocessOptions {
  fileName: string;
  includeDirs?: string[];
  defines?: Record<string, string>;
  /** Reads an included file (throws if there is none); without it, #include is an error. */
  readFile?: (path: string) => string;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Removes /* *\/ and // comments (outside strings), keeping line breaks. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
      out += text.slice(start, i);
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += ' ' + text.slice(i, stop).replace(/[^\n]/g, '');
      i = stop;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

class Preprocessor {
  readonly macros = new Map<string, Macro>();
  readonly lines: SourceLine[] = [];
  readonly errors: AssemblyError[] = [];
  private depth = 0;

  constructor(private options: PreprocessOptions) {
    // what gcc predefines for assembler sources that headers shared with C test for
    for (const name of ['__ASSEMBLER__', '__x86_64__', '__x86_64', '__amd64__', '__ELF__', '__LP64__']) this.macros.set(name, { params: null, body: '1' });
    for (const [name, value] of Object.entries(options.defines ?? {})) this.macros.set(name, { params: null, body: value });
  }

  private read(file: string): string {
    if (!this.options.readFile) throw new Error('no file reader');
    return this.options.readFile(file);
  }

  run(text: string, file: string): void {
    if (++this.depth > 50) {
      this.errors.push(new AssemblyError({ file, line: 1, column: 1 }, '#include nested too deeply'));
      return;
    }
    const raw = stripComments(text).split('\n');
    // conditional stack: is this branch live, has any branch of the group been taken
    const stack: { live: boolean; taken: boolean; parentLive: boolean }[] = [];
    const live = () => stack.every((s) => s.live);
    for (let n = 0; n < raw.length; n++) {
      let line = raw[n];
      const lineNo = n + 1;
      // backslash-newline joins lines
      while (line.endsWith('\\') && n + 1 < raw.length) {
        line = line.slice(0, -1) + raw[++n];
        this.lines.push({ text: '', file, line: lineNo });
      }
      const error = (msg: string, column = 1) => this.errors.push(new AssemblyError({ file, line: lineNo, column }, msg));
      const m = line.match(/^\s*#\s*([a-z_]+)?\s*(.*)$/);
      if (!m) {
        if (live()) this.lines.push({ text: this.expand(line, new Set()), file, line: lineNo });
        continue;
      }
      const directive = m[1] ?? '';
      const rest = m[2].trim();
      switch (directive) {
        case 'ifdef': case 'ifndef': {
          const defined = this.macros.has(rest.split(/\s+/)[0]);
          const cond = directive === 'ifdef' ? defined : !defined;
          stack.push({ live: cond, taken: cond, parentLive: live() });
          break;
        }
        case 'if': {
          const cond = live() && this.condition(rest, error);
          stack.push({ live: cond, taken: cond, parentLive: live() });
          break;
        }
        case 'elif': {
          const top = stack[stack.length - 1];
          if (!top) { error('#elif without #if'); break; }
          top.live = false;
          const saved = stack.pop()!;
          const cond = !saved.taken && live() && this.condition(rest, error);
          stack.push({ live: cond, taken: saved.taken || cond, parentLive: saved.parentLive });
          break;
        }
        case 'else': {
          const top = stack[stack.length - 1];
          if (!top) { error('#else without #if'); break; }
          top.live = !top.taken;
          top.taken = true;
          break;
        }
        case 'endif':
          if (!stack.pop()) error('#endif without #if');
          break;
        default:
          if (!live()) break;
          if (directive === 'define') this.define(rest, error);
          else if (directive === 'undef') this.macros.delete(rest.split(/\s+/)[0]);
          else if (directive === 'include') this.include(rest, file, error);
          else if (directive === 'error') error(`#error ${rest}`);
          // anything else after '#' is an assembler comment
      }
      this.lines.push({ text: '', file, line: lineNo });
    }
    if (stack.length) this.errors.push(new AssemblyError({ file, line: raw.length, column: 1 }, 'unterminated #if/#ifdef (missing #endif)'));
    this.depth--;
  }

  private define(rest: string, error: (msg: string, column?: number) => void): void {
    const m = rest.match(/^([A-Za-z_][A-Za-z0-9_]*)(\(([^)]*)\))?\s*(.*)$/);
    if (!m) {
      error(`bad #define '${rest}'`);
      return;
    }
    const params = m[2] !== undefined ? m[3].split(',').map((p) => p.trim()).filter(Boolean) : null;
    this.macros.set(m[1], { params, body: m[4].trim() });
  }

  private include(rest: string, file: string, error: (msg: string, column?: number) => void): void {
    const m = rest.match(/^"([^"]+)"|^<([^>]+)>/);
    if (!m) {
      error(`#include expects "FILE" or <FILE>, found '${rest}'`);
      return;
    }
    const name = m[1] ?? m[2];
    if (!this.options.readFile) {
      error(`#include "${name}": this assembly was given no way to read files (AssembleOptions.readFile)`);
      return;
    }
    const dirs = [...(m[1] ? [directoryOf(file)] : []), ...(this.options.includeDirs ?? [])];
    for (const dir of dirs) {
      const candidate = name.startsWith('/') || dir === '' ? name : `${dir}/${name}`;
      let text: string;
      try {
        text = this.read(candidate);
      } catch {
        continue;
      }
      this.run(text, candidate);
      return;
    }
    error(`#include file '${name}' not found`);
  }

  private condition(text: string, error: (msg: string, column?: number) => void): boolean {
    let t = text.replace(/defined\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|defined\s+([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => (this.macros.has(a ?? b) ? '1' : '0'));
    t = this.expand(t, new Set()).replace(/[A-Za-z_][A-Za-z0-9_]*/g, '0');
    try {
      const tokens = tokenize(t);
      const { expr } = parseExpression(tokens, 0, { localLabel: () => '0', dot: () => '0' });
      return evaluate(expr, { lookup: () => ({ constant: 0n }), difference: () => null }).constant !== 0n;
    } catch {
      error(`bad #if expression '${text}'`);
      return false;
    }
  }

  /** Expands macros in `text`; `disabled` holds the macros being expanded (no recursion). */
  expand(text: string, disabled: Set<string>): string {
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        const start = i++;
        while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        i++;
        out += text.slice(start, i);
        continue;
      }
      IDENT.lastIndex = i;
      const m = /[A-Za-z_]/.test(c) && (i === 0 || !/[A-Za-z0-9_$.]/.test(text[i - 1]) || text[i - 1] === '$') ? IDENT.exec(text) : null;
      if (!m) {
        out += c;
        i++;
        continue;
      }
      const name = m[0];
      i += name.length;
      const macro = this.macros.get(name);
      if (!macro || disabled.has(name)) {
        out += name;
        continue;
      }
      const inner = new Set(disabled).add(name);
      if (macro.params === null) {
        out += this.expand(macro.body, inner);
        continue;
      }
      // function-like: needs '(' next
      let j = i;
      while (text[j] === ' ' || text[j] === '\t') j++;
      if (text[j] !== '(') {
        out += name;
        continue;
      }
      const args: string[] = [];
      let depth = 0;
      let cur = '';
      j++;
      for (; j < text.length; j++) {
        const ch = text[j];
        if (ch === '(') depth++;
        if (ch === ')' && depth-- === 0) break;
        if (ch === ',' && depth === 0) {
          args.push(cur.trim());
          cur = '';
        } else cur += ch;
      }
      args.push(cur.trim());
      i = j + 1;
      out += this.expand(this.substitute(macro, args, disabled), inner);
    }
    return out;
  }

  private substitute(macro: Macro, args: string[], disabled: Set<string>): string {
    const params = macro.params!;
    const parts = macro.body.split(/\s*##\s*/);
    return parts
      .map((part, k) =>
        part.replace(/(#\s*)?\b([A-Za-z_][A-Za-z0-9_]*)\b/g, (whole, hash: string | undefined, id: string, offset: number) => {
          const p = params.indexOf(id);
          if (p < 0) return whole;
          const arg = args[p] ?? '';
          if (hash && !part.slice(0, offset).trim().endsWith('$')) return JSON.stringify(arg);
          const pasted = (offset === 0 && k > 0) || (offset + whole.length === part.length && k < parts.length - 1);
          return (hash ?? '') + (pasted ? arg : this.expand(arg, disabled));
        }),
      )
      .join('');
  }
}

/** Runs the preprocessor over a .S file's text. */
export function preprocess(text: string, options: PreprocessOptions): { lines: SourceLine[]; errors: AssemblyError[] } {
  const p = new Preprocessor(options);
  p.run(text, options.fileName);
  return { lines: p.lines, errors: p.errors };
}

/** The directory part of a '/'-separated path ('.' for a bare name), without node:path so the page can use it. */
function directoryOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '.' : slash === 0 ? '/' : file.slice(0, slash);
}
