// The C lexer: source text -> preprocessing tokens (C11 6.4).
//
// Keywords are ordinary identifiers here: the preprocessor treats them as
// names, and the parser recognises them. Numbers are "pp-numbers" (6.4.8);
// the parser turns them into values (and rejects floating constants).
// Each token knows where it came from, whether white space preceded it (for
// stringizing with #) and whether it starts a line (for directives).

import { fail, type SourceLocation } from './diagnostics.js';

export type TokenKind = 'ident' | 'number' | 'char' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The spelling exactly as in the source. */
  text: string;
  file: string;
  line: number;
  col: number;
  /** White space (or a comment) came before it on its line. */
  space: boolean;
  /** First token of a line. */
  bol: boolean;
  /** Macros that must not expand again in this token (the "hide set"). */
  hide?: ReadonlySet<string>;
  /** For tokens produced by a macro expansion: the macro name's token, for __LINE__ and messages. */
  origin?: Token;
}

export function locationOf(t: Token): SourceLocation {
  const o = t.origin ?? t;
  return { file: o.file, line: o.line, col: o.col };
}

// Longest first, so that the lexer takes the longest punctuator (6.4.6).
const PUNCTUATORS = [
  '<<=', '>>=', '...', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||',
  '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=', '##',
  '[', ']', '(', ')', '{', '}', '.', '&', '*', '+', '-', '~', '!', '/', '%', '<', '>', '^', '|',
  '?', ':', ';', '=', ',', '#',
];
const PUNCT_BY_FIRST = new Map<string, string[]>();
for (const p of PUNCTUATORS) {
  const list = PUNCT_BY_FIRST.get(p[0]) ?? [];
  list.push(p);
  PUNCT_BY_FIRST.set(p[0], list);
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c >= 0x80;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Splits `source` (the text of `file`) into tokens, ending with an 'eof' token.
 * Backslash-newline pairs are removed first (translation phase 2); the lines
 * they joined are made up for after the joined line, so later lines keep their numbers.
 */
export function tokenize(source: string, file: string): Token[] {
  const text = spliceLines(source);
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let bol = true;
  let space = false;
  const n = text.length;
  const here = (at: number): SourceLocation => ({ file, line, col: at - lineStart + 1 });
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      bol = true;
      space = false;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      i++;
      space = true;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) { // // comment
      while (i < n && text.charCodeAt(i) !== 10) i++;
      space = true;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) { // /* comment */
      const start = here(i);
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail(start, 'unterminated comment');
      for (let k = i; k < end; k++) {
        if (text.charCodeAt(k) === 10) {
          line++;
          lineStart = k + 1;
        }
      }
      i = end + 2;
      space = true;
      continue;
    }
    const start = i;
    const col = i - lineStart + 1;
    let kind: TokenKind;
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      kind = 'number';
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        const prev = text.charCodeAt(i - 1) | 0x20;
        if ((d === 43 || d === 45) && (prev === 101 || prev === 112)) i++; // e+ e- p+ p-
        else if (isIdentChar(d) || d === 46) i++;
        else break;
      }
    } else if ((c === 39 || c === 34) || ((c === 76 || c === 117 || c === 85) && (text.charCodeAt(i + 1) === 39 || text.charCodeAt(i + 1) === 34))
      || (c === 117 && text.charCodeAt(i + 1) === 56 && text.charCodeAt(i + 2) === 34)) {
      // 'c', "s", with an optional L, u, U or u8 prefix
      while (text.charCodeAt(i) !== 39 && text.charCodeAt(i) !== 34) i++;
      const quote = text.charCodeAt(i);
      kind = quote === 39 ? 'char' : 'string';
      i++;
      for (;;) {
        if (i >= n || text.charCodeAt(i) === 10) fail({ file, line, col }, quote === 39 ? 'missing terminating \' character' : 'missing terminating " character');
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === quote) {
          i++;
          break;
        } else i++;
      }
    } else if (isIdentStart(c)) {
      kind = 'ident';
      i++;
      while (i < n && isIdentChar(text.charCodeAt(i))) i++;
    } else {
      const candidates = PUNCT_BY_FIRST.get(text[i]);
      const p = candidates?.find((q) => text.startsWith(q, i));
      if (!p) {
        if (c === 92 || c === 64 || c === 96) fail(here(i), `stray '${text[i]}' in program`);
        fail(here(i), `stray '\\${c.toString(8)}' in program`);
      }
      kind = 'punct';
      i += p.length;
    }
    tokens.push({ kind, text: text.slice(start, i), file, line, col, space, bol });
    bol = false;
    space = false;
  }
  tokens.push({ kind: 'eof', text: '', file, line, col: i - lineStart + 1, space: false, bol: true });
  return tokens;
}

/** Removes backslash-newline; adds the swallowed newlines back at the end of the logical line. */
function spliceLines(source: string): string {
  if (source.indexOf('\\') < 0 && source.indexOf('\r') < 0) return source;
  let s = source.replace(/\r\n?/g, '\n');
  if (s.indexOf('\\\n') < 0) return s;
  const out: string[] = [];
  let pending = 0;
  for (const line of s.split('\n')) {
    if (line.endsWith('\\')) {
      out.push(line.slice(0, -1));
      pending++;
    } else {
      out.push(line + '\n'.repeat(pending) + '\n');
      pending = 0;
    }
  }
  s = out.join('');
  return s.slice(0, -1);
}

/** A token with the same spelling and position flags as `from`, for macro results. */
export function copyToken(t: Token, changes: Partial<Token>): Token {
  return { ...t, ...changes };
}
