// The C preprocessor (C11 6.10): directives, conditional inclusion and macro
// expansion, producing the token list the parser reads.
//
// Macro expansion follows the classic hide-set algorithm: every token carries
// the names of the macros whose expansion produced it, and a name in its own
// hide set is not expanded again, which is what stops `#define x x + 1` from
// recursing. Files come through an injected `readFile`, so the preprocessor
// (like the whole compiler) runs without Node's file system, e.g. in a browser.

import { fail, LIMITS, warningText, type SourceLocation } from './diagnostics.js';
import { copyToken, locationOf, tokenize, type Token } from './lexer.js';
import { BUILTIN_HEADERS } from './builtinHeaders.js';

export interface PreprocessOptions {
  /** Directories for #include <...> and, after the including file's folder, #include "...". */
  includeDirs: string[];
  /** -D NAME=VALUE (value "1" for -D NAME). */
  defines: Record<string, string>;
  /** -U NAME */
  undefines?: string[];
  /** Contents of a file, or null when it does not exist. */
  readFile: (path: string) => string | null;
  /** Where warnings go. */
  warn: (text: string) => void;
}

interface Macro {
  name: string;
  /** null for an object-like macro */
  params: string[] | null;
  variadic: boolean;
  body: Token[];
  /** __FILE__, __LINE__, __COUNTER__: computed at each use. */
  dynamic?: (at: Token) => Token[];
}

interface Conditional {
  /** Some branch of this #if has been taken. */
  taken: boolean;
  /** Inside the #else already. */
  inElse: boolean;
  at: Token;
}

const PREDEFINED = `
#define __STDC__ 1
#define __STDC_VERSION__ 201112L
#define __STDC_HOSTED__ 0
#define __STDC_NO_ATOMICS__ 1
#define __STDC_NO_COMPLEX__ 1
#define __STDC_NO_THREADS__ 1
#define __STDC_NO_VLA__ 1
#define __xk_cc__ 1
#define __x86_64__ 1
#define __x86_64 1
#define __amd64__ 1
#define __LP64__ 1
#define _LP64 1
#define __ELF__ 1
#define __CHAR_BIT__ 8
#define __SIZEOF_SHORT__ 2
#define __SIZEOF_INT__ 4
#define __SIZEOF_LONG__ 8
#define __SIZEOF_LONG_LONG__ 8
#define __SIZEOF_POINTER__ 8
#define __SIZEOF_SIZE_T__ 8
#define __SCHAR_MAX__ 0x7f
#define __SHRT_MAX__ 0x7fff
#define __INT_MAX__ 0x7fffffff
#define __LONG_MAX__ 0x7fffffffffffffffL
#define __LONG_LONG_MAX__ 0x7fffffffffffffffLL
#define __SIZE_TYPE__ unsigned long
#define __PTRDIFF_TYPE__ long
#define __INTPTR_TYPE__ long
#define __UINTPTR_TYPE__ unsigned long
#define __ORDER_LITTLE_ENDIAN__ 1234
#define __ORDER_BIG_ENDIAN__ 4321
#define __BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__
#define __ATOMIC_RELAXED 0
#define __ATOMIC_CONSUME 1
#define __ATOMIC_ACQUIRE 2
#define __ATOMIC_RELEASE 3
#define __ATOMIC_ACQ_REL 4
#define __ATOMIC_SEQ_CST 5
`;

export class Preprocessor {
  private readonly macros = new Map<string, Macro>();
  private readonly onceFiles = new Set<string>();
  /** Pending input, last token first (reading is pop()). */
  private stack: Token[] = [];
  private includeDepth = 0;
  private expanded = 0;
  /** expandList calls in progress (macro arguments within macro arguments). */
  private listDepth = 0;
  private counter = 0;

  constructor(private readonly options: PreprocessOptions) {
    for (const [name, make] of [
      ['__FILE__', (at: Token) => [stringToken(locationOf(at).file, at)]],
      ['__LINE__', (at: Token) => [copyToken(at, { kind: 'number', text: String(locationOf(at).line), origin: undefined, hide: undefined })]],
      ['__COUNTER__', (at: Token) => [copyToken(at, { kind: 'number', text: String(this.counter++), hide: undefined })]],
      ['__DATE__', (at: Token) => [stringToken('Jan  1 1970', at)]],
      ['__TIME__', (at: Token) => [stringToken('00:00:00', at)]],
    ] as const) {
      this.macros.set(name, { name, params: null, variadic: false, body: [], dynamic: make });
    }
    let commandLine = PREDEFINED;
    for (const [name, value] of Object.entries(options.defines)) commandLine += `#define ${name} ${value}\n`;
    for (const name of options.undefines ?? []) commandLine += `#undef ${name}\n`;
    this.run(tokenize(commandLine, '<command-line>'));
  }

  /** Preprocesses one file's text: the tokens for the parser (ending with 'eof'). */
  preprocessFile(source: string, file: string): Token[] {
    return this.run(tokenize(source, file));
  }

  private run(tokens: Token[]): Token[] {
    this.pushFile(tokens);
    const out: Token[] = [];
    const conditionals: Conditional[][] = [[]];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        const open = conditionals.pop()!;
        if (open.length > 0) fail(locationOf(open[open.length - 1].at), 'unterminated conditional directive');
        if (t.text === 'end-of-include') {
          this.includeDepth--;
          continue;
        }
        out.push(t);
        return out;
      }
      if (t.kind === 'punct' && t.text === '#' && t.bol && !t.origin) {
        this.directive(t, conditionals, out);
        continue;
      }
      if (t.kind === 'ident' && this.expandMacro(t)) continue;
      out.push(t);
    }
  }

  private pushFile(tokens: Token[]): void {
    for (let i = tokens.length - 1; i >= 0; i--) this.stack.push(tokens[i]);
  }

  private next(): Token {
    return this.stack.pop() ?? { kind: 'eof', text: '', file: '', line: 0, col: 0, space: false, bol: true };
  }

  private peek(): Token | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** The rest of the directive's line. */
  private lineTokens(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || t.bol || t.kind === 'eof') return out;
      out.push(this.stack.pop()!);
    }
  }

  private directive(hash: Token, conditionals: Conditional[][], out: Token[]): void {
    const name = this.peek();
    if (!name || name.bol || name.kind === 'eof') return; // the null directive
    this.stack.pop();
    const open = conditionals[conditionals.length - 1];
    const rest = this.lineTokens();
    const d = name.text;
    switch (d) {
      case 'include': this.include(name, rest, conditionals); return;
      case 'define': this.define(name, rest); return;
      case 'undef':
        if (rest.length === 0 || rest[0].kind !== 'ident') fail(locationOf(name), 'macro names must be identifiers');
        this.macros.delete(rest[0].text);
        return;
      case 'if': case 'ifdef': case 'ifndef': {
        const value = d === 'if' ? this.evaluateCondition(name, rest) : this.definedTest(name, rest) === (d === 'ifdef');
        open.push({ taken: value, inElse: false, at: hash });
        if (!value) this.skipGroup(open);
        return;
      }
      case 'elif': case 'else': {
        const c = open[open.length - 1];
        if (!c) fail(locationOf(name), `#${d} without #if`);
        if (c.inElse) fail(locationOf(name), `#${d} after #else`);
        if (d === 'else') c.inElse = true;
        // Reached from a taken group: skip the rest of the chain.
        c.taken = true;
        this.skipGroup(open);
        return;
      }
      case 'endif':
        if (open.length === 0) fail(locationOf(name), '#endif without #if');
        open.pop();
        return;
      case 'error':
        fail(locationOf(name), `#error ${spell(rest)}`);
      // falls through never
      case 'warning':
        this.options.warn(warningText(locationOf(name), `#warning ${spell(rest)}`));
        return;
      case 'pragma':
        if (rest[0]?.text === 'once') this.onceFiles.add(name.file);
        return;
      case 'line':
        return;
      case 'ident': case 'sccs': case 'assert': case 'unassert':
        return;
      default:
        if (name.kind === 'number') return; // GNU line markers: # 12 "file"
        fail(locationOf(name), `invalid preprocessing directive #${d}`);
    }
    void out;
  }

  /**
   * Skips tokens until the #elif/#else/#endif that ends the current group, taking
   * an #elif or #else branch if no branch of this conditional was taken yet.
   */
  private skipGroup(open: Conditional[]): void {
    const c = open[open.length - 1];
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        this.stack.push(t);
        return; // run() reports the unterminated conditional
      }
      if (!(t.kind === 'punct' && t.text === '#' && t.bol)) continue;
      const name = this.peek();
      if (!name || name.bol) continue;
      const d = name.text;
      if (d === 'if' || d === 'ifdef' || d === 'ifndef') {
        depth++;
        continue;
      }
      if (depth > 0) {
        if (d === 'endif') depth--;
        continue;
      }
      if (d === 'endif') {
        this.stack.pop();
        this.lineTokens();
        open.pop();
        return;
      }
      if (d === 'elif' || d === 'else') {
        this.stack.pop();
        const rest = this.lineTokens();
        if (c.inElse) fail(locationOf(name), `#${d} after #else`);
        if (d === 'else') {
          c.inElse = true;
          if (!c.taken) {
            c.taken = true;
            return;
          }
        } else if (!c.taken && this.evaluateCondition(name, rest)) {
          c.taken = true;
          return;
        }
      }
    }
  }

  private definedTest(at: Token, rest: Token[]): boolean {
    if (rest.length === 0 || rest[0].kind !== 'ident') fail(locationOf(at), `no macro name given in #${at.text} directive`);
    return this.macros.has(rest[0].text);
  }

  // ---------------------------------------------------------------- #include

  private include(at: Token, rest: Token[], conditionals: Conditional[][]): void {
    let spec = rest;
    if (spec.length > 0 && spec[0].kind === 'ident') spec = this.expandList(spec);
    if (spec.length === 0) fail(locationOf(at), '#include expects "FILENAME" or <FILENAME>');
    let name: string;
    let quoted: boolean;
    if (spec[0].kind === 'string' && spec[0].text.startsWith('"')) {
      name = spec[0].text.slice(1, -1);
      quoted = true;
    } else if (spec[0].text === '<') {
      const end = spec.findIndex((t) => t.text === '>');
      if (end < 0) fail(locationOf(at), 'missing terminating > character');
      name = spell(spec.slice(1, end), false);
      quoted = false;
    } else {
      fail(locationOf(at), '#include expects "FILENAME" or <FILENAME>');
    }
    const found = this.findInclude(name, quoted, at.file);
    if (!found) fail(locationOf(at), `${name}: No such file or directory`);
    if (this.onceFiles.has(found.path)) return;
    if (++this.includeDepth > LIMITS.includeDepth) fail(locationOf(at), `#include nested depth ${LIMITS.includeDepth} exceeds maximum (recursive #include?)`);
    const tokens = tokenize(found.text, found.path);
    // The file's own end is marked so its conditionals are checked and the depth restored.
    tokens[tokens.length - 1] = { ...tokens[tokens.length - 1], text: 'end-of-include' };
    conditionals.push([]);
    this.pushFile(tokens);
  }

  private findInclude(name: string, quoted: boolean, from: string): { path: string; text: string } | null {
    const candidates: string[] = [];
    if (name.startsWith('/')) candidates.push(name);
    else {
      if (quoted) candidates.push(joinPath(dirName(from), name));
      for (const dir of this.options.includeDirs) candidates.push(joinPath(dir, name));
    }
    for (const path of candidates) {
      const text = this.options.readFile(path);
      if (text !== null) return { path, text };
    }
    const builtin = BUILTIN_HEADERS[name];
    if (builtin !== undefined) return { path: `<built-in>/${name}`, text: builtin };
    return null;
  }

  // ---------------------------------------------------------------- #define

  private define(at: Token, rest: Token[]): void {
    const name = rest[0];
    if (!name || name.kind !== 'ident') fail(locationOf(at), 'macro names must be identifiers');
    if (name.text === 'defined') fail(locationOf(name), '"defined" cannot be used as a macro name');
    let params: string[] | null = null;
    let variadic = false;
    let i = 1;
    if (rest[1] && rest[1].text === '(' && !rest[1].space) {
      params = [];
      i = 2;
      if (rest[i]?.text === ')') i++;
      else {
        for (;;) {
          const p = rest[i];
          if (!p) fail(locationOf(name), 'missing \')\' in macro parameter list');
          if (p.text === '...') {
            variadic = true;
            params.push('__VA_ARGS__');
            i++;
          } else if (p.kind === 'ident') {
            params.push(p.text);
            i++;
            if (rest[i]?.text === '...') { // GNU named variadic: args...
              variadic = true;
              i++;
            }
          } else fail(locationOf(p), `expected parameter name, found "${p.text}"`);
          const sep = rest[i++];
          if (sep?.text === ')') break;
          if (sep?.text !== ',' || variadic) fail(locationOf(sep ?? p), 'expected \',\' or \')\' in macro parameter list');
        }
      }
    }
    const body = rest.slice(i);
    if (body[0]?.text === '##' || (body.length > 0 && body[body.length - 1].text === '##')) {
      fail(locationOf(body[0].text === '##' ? body[0] : body[body.length - 1]), '\'##\' cannot appear at either end of a macro expansion');
    }
    if (params) {
      for (let k = 0; k < body.length; k++) {
        if (body[k].text === '#' && (body[k + 1]?.kind !== 'ident' || !params.includes(body[k + 1].text))) {
          fail(locationOf(body[k]), '\'#\' is not followed by a macro parameter');
        }
      }
    }
    this.macros.set(name.text, { name: name.text, params, variadic, body });
  }

  // ---------------------------------------------------------------- expansion

  /** If `t` names a macro to expand, pushes its expansion back on the input and returns true. */
  private expandMacro(t: Token): boolean {
    const m = this.macros.get(t.text);
    if (!m || t.hide?.has(t.text)) return false;
    const origin = t.origin ?? t;
    if (m.dynamic) {
      this.pushExpansion(m.dynamic(t).map((x) => ({ ...x, space: t.space, bol: t.bol, origin: x.origin ?? (t.origin ? origin : undefined) })));
      return true;
    }
    if (m.params === null) {
      const hide = withName(t.hide, m.name);
      this.pushExpansion(this.substitute(m, [], hide, origin, t));
      return true;
    }
    // A function-like macro expands only when a '(' follows.
    const open = this.peek();
    if (!open || open.text !== '(' || (open.bol && open.kind === 'punct' && false)) return false;
    this.stack.pop();
    const { args, close } = this.collectArgs(m, t);
    const hide = withName(intersect(t.hide, close.hide), m.name);
    this.pushExpansion(this.substitute(m, args, hide, origin, t));
    return true;
  }

  private pushExpansion(tokens: Token[]): void {
    this.expanded += tokens.length;
    if (this.expanded > LIMITS.expandedTokens) fail(locationOf(tokens[0] ?? this.peek()!), 'macro expansion produced too many tokens');
    for (let i = tokens.length - 1; i >= 0; i--) this.stack.push(tokens[i]);
  }

  /** The arguments of a macro call, after its '(': one token list per parameter. */
  private collectArgs(m: Macro, name: Token): { args: Token[][]; close: Token } {
    const args: Token[][] = [[]];
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') {
        this.stack.push(t);
        fail(locationOf(name), `unterminated argument list invoking macro "${m.name}"`);
      }
      if (t.kind === 'punct' && t.text === '#' && t.bol && !t.origin) {
        fail(locationOf(t), `directive inside the arguments of macro "${m.name}"`);
      }
      if (t.text === '(' && t.kind === 'punct') depth++;
      else if (t.text === ')' && t.kind === 'punct') {
        if (depth === 0) {
          this.checkArgCount(m, name, args);
          return { args, close: t };
        }
        depth--;
      } else if (t.text === ',' && t.kind === 'punct' && depth === 0 && !(m.variadic && args.length === m.params!.length)) {
        args.push([]);
        continue;
      }
      args[args.length - 1].push(t);
    }
  }

  private checkArgCount(m: Macro, name: Token, args: Token[][]): void {
    const want = m.params!.length;
    if (want === 0 && args.length === 1 && args[0].length === 0) {
      args.pop();
      return;
    }
    if (m.variadic && args.length === want - 1) {
      args.push([]);
      return;
    }
    if (args.length > want) fail(locationOf(name), `macro "${m.name}" passed ${args.length} arguments, but takes just ${want}`);
    if (args.length < want) fail(locationOf(name), `macro "${m.name}" requires ${want} arguments, but only ${args.length} given`);
  }

  /** The body of `m` with parameters replaced, # and ## applied, every token hidden from `hide`. */
  private substitute(m: Macro, args: Token[][], hide: ReadonlySet<string>, origin: Token, call: Token): Token[] {
    const params = m.params ?? [];
    const argOf = (t: Token): number => (t.kind === 'ident' ? params.indexOf(t.text) : -1);
    const expandedArgs = new Map<number, Token[]>();
    const body = m.body;
    const out: Token[] = [];
    for (let i = 0; i < body.length; i++) {
      const t = body[i];
      if (m.params && t.text === '#' && t.kind === 'punct') {
        const a = argOf(body[i + 1]);
        out.push({ ...stringToken(spell(args[a]), t), space: t.space });
        i++;
        continue;
      }
      const a = argOf(t);
      const pasteNext = body[i + 1]?.text === '##';
      const pastePrev = body[i - 1]?.text === '##';
      if (t.text === '##' && t.kind === 'punct') {
        const right = body[i + 1];
        const ra = argOf(right);
        let rightTokens = ra >= 0 ? args[ra] : [right];
        // GNU: , ## __VA_ARGS__ drops the comma when the variable arguments are empty.
        if (ra >= 0 && params[ra] === '__VA_ARGS__' && m.variadic && out.length > 0 && out[out.length - 1].text === ',') {
          if (rightTokens.length === 0) out.pop();
          for (const r of rightTokens) out.push(r);
          i++;
          continue;
        }
        if (out.length === 0) {
          out.push(...rightTokens);
        } else if (rightTokens.length > 0) {
          const left = out.pop()!;
          out.push(this.paste(left, rightTokens[0]));
          rightTokens = rightTokens.slice(1);
          out.push(...rightTokens);
        }
        i++;
        continue;
      }
      if (a >= 0) {
        if (pasteNext || pastePrev) {
          out.push(...args[a].map((x, k) => (k === 0 ? { ...x, space: t.space } : x)));
        } else {
          let e = expandedArgs.get(a);
          if (!e) {
            e = this.expandList(args[a]);
            expandedArgs.set(a, e);
          }
          out.push(...e.map((x, k) => (k === 0 ? { ...x, space: t.space } : x)));
        }
        continue;
      }
      out.push(t);
    }
    return out.map((x, k) => ({
      ...x,
      hide: x.hide ? union(x.hide, hide) : hide,
      origin,
      space: k === 0 ? call.space : x.space,
      bol: false,
    }));
  }

  private paste(left: Token, right: Token): Token {
    const text = left.text + right.text;
    let tokens: Token[];
    try {
      tokens = tokenize(text, left.file);
    } catch {
      tokens = [];
    }
    if (tokens.length !== 2) fail(locationOf(left), `pasting "${left.text}" and "${right.text}" does not give a valid preprocessing token`);
    return { ...left, kind: tokens[0].kind, text, hide: left.hide };
  }

  /** Fully macro-expands a token list on its own (a macro argument, an #include or #if line). */
  private expandList(tokens: Token[]): Token[] {
    // an argument's expansion may expand a macro call in it, whose arguments expand in turn
    if (this.listDepth >= LIMITS.macroDepth) fail(locationOf(tokens[0]), `macro arguments nested too deeply (more than ${LIMITS.macroDepth} levels)`);
    this.listDepth++;
    const saved = this.stack;
    const end: Token = { kind: 'eof', text: 'end-of-list', file: '', line: 0, col: 0, space: false, bol: true };
    this.stack = [end];
    for (let i = tokens.length - 1; i >= 0; i--) this.stack.push(tokens[i].bol ? { ...tokens[i], bol: false } : tokens[i]);
    const out: Token[] = [];
    try {
      for (;;) {
        const t = this.next();
        if (t.kind === 'eof') break;
        if (t.kind === 'ident' && this.expandMacro(t)) continue;
        out.push(t);
      }
    } finally {
      this.stack = saved;
      this.listDepth--;
    }
    return out;
  }

  // ---------------------------------------------------------------- #if

  private evaluateCondition(at: Token, rest: Token[]): boolean {
    // `defined X` and `defined(X)` are replaced before macro expansion.
    const pre: Token[] = [];
    for (let i = 0; i < rest.length; i++) {
      const t = rest[i];
      if (t.kind === 'ident' && t.text === 'defined') {
        let name = rest[i + 1];
        let skip = 1;
        if (name?.text === '(') {
          name = rest[i + 2];
          if (rest[i + 3]?.text !== ')') fail(locationOf(t), 'missing \')\' after "defined"');
          skip = 3;
        }
        if (!name || name.kind !== 'ident') fail(locationOf(t), 'operator "defined" requires an identifier');
        pre.push({ ...t, kind: 'number', text: this.macros.has(name.text) ? '1' : '0' });
        i += skip;
      } else if (t.kind === 'ident' && (t.text === '__has_include' || t.text === '__has_include_next')) {
        fail(locationOf(t), '__has_include is not supported by xk cc');
      } else pre.push(t);
    }
    const tokens = this.expandList(pre).map((t) => {
      if (t.kind !== 'ident') return t;
      if (t.text === 'defined') return t;
      return { ...t, kind: 'number' as const, text: t.text === 'true' ? '1' : '0' };
    });
    if (tokens.length === 0) fail(locationOf(at), `#${at.text} with no expression`);
    return new ConditionEvaluator(tokens, locationOf(at)).evaluate() !== 0n;
  }
}

/** Integer constant expressions of #if, in intmax_t (64-bit) arithmetic. */
class ConditionEvaluator {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly at: SourceLocation) {}

  evaluate(): bigint {
    const v = this.conditional(0);
    if (this.i < this.tokens.length) fail(locationOf(this.tokens[this.i]), `missing binary operator before token "${this.tokens[this.i].text}"`);
    return v;
  }

  private peek(): string | undefined {
    return this.tokens[this.i]?.text;
  }

  private conditional(depth: number): bigint {
    if (depth > LIMITS.nesting) fail(this.at, '#if expression nested too deeply');
    const c = this.binary(0, depth);
    if (this.peek() !== '?') return c;
    this.i++;
    const a = this.conditional(depth + 1);
    if (this.peek() !== ':') fail(this.at, 'expected \':\' in #if expression');
    this.i++;
    const b = this.conditional(depth + 1);
    return c !== 0n ? a : b;
  }

  private static readonly PRECEDENCE: Record<string, number> = {
    '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7,
    '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
  };

  private binary(min: number, depth: number): bigint {
    let left = this.unary(depth);
    for (;;) {
      const op = this.peek();
      const p = op === undefined || this.tokens[this.i].kind !== 'punct' ? undefined : ConditionEvaluator.PRECEDENCE[op];
      if (p === undefined || p <= min) return left;
      this.i++;
      const right = this.binary(p, depth);
      left = this.apply(op!, left, right);
    }
  }

  private apply(op: string, a: bigint, b: bigint): bigint {
    const s = (x: bigint): bigint => BigInt.asIntN(64, x);
    switch (op) {
      case '||': return a !== 0n || b !== 0n ? 1n : 0n;
      case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
      case '|': return a | b;
      case '^': return a ^ b;
      case '&': return a & b;
      case '==': return a === b ? 1n : 0n;
      case '!=': return a !== b ? 1n : 0n;
      case '<': return a < b ? 1n : 0n;
      case '>': return a > b ? 1n : 0n;
      case '<=': return a <= b ? 1n : 0n;
      case '>=': return a >= b ? 1n : 0n;
      case '<<': return s(a << (b & 63n));
      case '>>': return a >> (b & 63n);
      case '+': return s(a + b);
      case '-': return s(a - b);
      case '*': return s(a * b);
      case '/': case '%':
        if (b === 0n) fail(this.at, 'division by zero in #if');
        return op === '/' ? s(a / b) : a % b;
    }
    return 0n;
  }

  private unary(depth: number): bigint {
    if (depth > LIMITS.nesting) fail(this.at, '#if expression nested too deeply');
    const t = this.tokens[this.i++];
    if (!t) fail(this.at, '#if with no expression');
    if (t.kind === 'punct') {
      switch (t.text) {
        case '(': {
          const v = this.conditional(depth + 1);
          if (this.peek() !== ')') fail(locationOf(t), 'missing \')\' in expression');
          this.i++;
          return v;
        }
        case '!': return this.unary(depth + 1) === 0n ? 1n : 0n;
        case '-': return BigInt.asIntN(64, -this.unary(depth + 1));
        case '+': return this.unary(depth + 1);
        case '~': return ~this.unary(depth + 1);
      }
      fail(locationOf(t), `token "${t.text}" is not valid in preprocessor expressions`);
    }
    if (t.kind === 'number') {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(t.text);
      if (!m) fail(locationOf(t), /[.eEpP]/.test(t.text) ? 'floating constant in preprocessor expression' : `invalid integer constant "${t.text}" in #if`);
      const digits = m[1];
      const v = /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
      return BigInt.asIntN(64, v);
    }
    if (t.kind === 'char') return BigInt(charValue(t));
    fail(locationOf(t), `token "${t.text}" is not valid in preprocessor expressions`);
  }
}

/** The value of a character constant ('a' is 97, '\377' is -1 as gcc's signed char). */
export function charValue(t: Token): number {
  const body = t.text.slice(t.text.indexOf('\'') + 1, -1);
  const bytes = decodeEscapes(body, locationOf(t));
  if (bytes.length === 0) fail(locationOf(t), 'empty character constant');
  if (t.text[0] !== '\'') return bytes[bytes.length - 1]; // L'x' u'x' U'x': the code (ASCII only)
  if (bytes.length === 1) return (bytes[0] << 24) >> 24;
  let v = 0;
  for (const b of bytes.slice(-4)) v = ((v << 8) | b) >>> 0;
  return v | 0;
}

/** The bytes of a string or character body with escape sequences decoded (UTF-8 for other characters). */
export function decodeEscapes(body: string, at: SourceLocation): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 92) {
      if (c < 0x80) out.push(c);
      else {
        const cp = body.codePointAt(i)!;
        if (cp > 0xffff) i++;
        out.push(...new TextEncoder().encode(String.fromCodePoint(cp)));
      }
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, a: 7, b: 8, f: 12, v: 11, e: 27, E: 27, '\\': 92, '\'': 39, '"': 34, '?': 63 };
    if (e >= '0' && e <= '7') {
      let v = 0;
      let k = 0;
      while (k < 3 && body[i] >= '0' && body[i] <= '7') {
        v = v * 8 + (body.charCodeAt(i) - 48);
        i++;
        k++;
      }
      i--;
      if (v > 255) fail(at, 'octal escape sequence out of range');
      out.push(v);
    } else if (e === 'x') {
      let v = 0;
      let k = 0;
      while (/[0-9a-fA-F]/.test(body[i + 1] ?? '')) {
        v = v * 16 + parseInt(body[++i], 16);
        k++;
        if (v > 255) fail(at, 'hex escape sequence out of range');
      }
      if (k === 0) fail(at, '\\x used with no following hex digits');
      out.push(v);
    } else if (simple[e] !== undefined) out.push(simple[e]);
    else if (e === 'u' || e === 'U') fail(at, 'universal character names are not supported by xk cc');
    else {
      out.push(e.charCodeAt(0));
    }
  }
  return out;
}

function stringToken(text: string, at: Token): Token {
  return { ...at, kind: 'string', text: '"' + text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"', hide: undefined };
}

/** Token spelling with single spaces where the source had white space (for # and messages). */
function spell(tokens: Token[], spaces = true): string {
  let s = '';
  tokens.forEach((t, k) => {
    if (k > 0 && t.space && spaces) s += ' ';
    s += t.text;
  });
  return s;
}

function withName(hide: ReadonlySet<string> | undefined, name: string): ReadonlySet<string> {
  if (hide?.has(name)) return hide;
  const s = new Set(hide);
  s.add(name);
  return s;
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (a === b) return a;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s;
}

function intersect(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (!a || !b) return undefined;
  return new Set([...a].filter((x) => b.has(x)));
}

export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  if (dir === '.' || dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
