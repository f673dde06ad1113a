// Splits one assembler statement into tokens. AT&T syntax: registers start with %,
// immediates with $, numbers are C-like (0x1f, 017, 0b101, 'c'), and `1f`/`1b`
// refer to the next/previous local numeric label `1:`.

export type TokenType = 'ident' | 'number' | 'string' | 'register' | 'localref' | 'punct';

export interface Token {
  type: TokenType;
  /** Source text (for strings: the decoded bytes as a latin1 string; for registers: the name without %). */
  text: string;
  /** Numeric value for numbers; the label number for local references. */
  value: bigint;
  /** 'f' or 'b' for local references. */
  direction?: 'f' | 'b';
  /** 0-based column in the line. */
  column: number;
}

export class LexError extends Error {
  constructor(readonly column: number, message: string) {
    super(message);
  }
}

const IDENT_START = /[A-Za-z_.]/;
const IDENT_PART = /[A-Za-z0-9_.$@]/;
const TWO_CHAR = ['<<', '>>', '==', '!=', '<=', '>=', '&&', '||', '<>'];

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '\\': 92, '"': 34, "'": 39, e: 27 };

/** Decodes a double-quoted string starting at text[start] === '"'; returns its bytes and the index after it. */
function readString(text: string, start: number): { bytes: number[]; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return { bytes, end: i + 1 };
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) break;
      if (/[0-7]/.test(n)) {
        let j = i + 1;
        let v = 0;
        while (j < text.length && j < i + 4 && /[0-7]/.test(text[j])) v = v * 8 + Number(text[j++]);
        bytes.push(v & 0xff);
        i = j;
        continue;
      }
      if (n === 'x' || n === 'X') {
        let j = i + 2;
        let v = 0;
        while (j < text.length && /[0-9a-fA-F]/.test(text[j])) v = (v * 16 + parseInt(text[j++], 16)) & 0xff;
        bytes.push(v);
        i = j;
        continue;
      }
      bytes.push(ESCAPES[n] ?? n.charCodeAt(0));
      i += 2;
      continue;
    }
    const code = c.charCodeAt(0);
    if (code < 0x80) bytes.push(code);
    else for (const b of new TextEncoder().encode(c)) bytes.push(b);
    i++;
  }
  throw new LexError(start, 'unterminated string');
}

function parseNumber(word: string, column: number): bigint {
  const w = word.toLowerCase();
  try {
    if (/^0x[0-9a-f]+$/.test(w)) return BigInt(w);
    if (/^0b[01]+$/.test(w)) return BigInt(w);
    if (/^0[0-7]+$/.test(w)) return BigInt('0o' + w.slice(1));
    if (/^[0-9]+$/.test(w)) return BigInt(w);
  } catch {
    /* fall through */
  }
  throw new LexError(column, `bad number '${word}'`);
}

/** Tokenizes `text` (one statement, comments already removed). */
export function tokenize(text: string, columnBase = 0): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const column = columnBase + i;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '"') {
      const { bytes, end } = readString(text, i);
      tokens.push({ type: 'string', text: String.fromCharCode(...bytes), value: 0n, column });
      i = end;
      continue;
    }
    if (c === "'") {
      // character constant: 'c' or 'c (GNU as accepts both)
      let j = i + 1;
      let v: number;
      if (j >= text.length) throw new LexError(column, 'bad character constant');
      if (text[j] === '\\') {
        const e = text[j + 1] ?? '';
        j += 2;
        if (/[0-7]/.test(e)) {
          v = Number(e);
          for (let k = 0; k < 2 && /[0-7]/.test(text[j] ?? ''); k++) v = v * 8 + Number(text[j++]);
        } else if (e === 'x' || e === 'X') {
          v = 0;
          while (/[0-9a-fA-F]/.test(text[j] ?? '')) v = (v * 16 + parseInt(text[j++], 16)) & 0xff;
        } else {
          v = ESCAPES[e] ?? e.charCodeAt(0);
        }
      } else {
        v = text.charCodeAt(j);
        j++;
      }
      if (text[j] === "'") j++;
      tokens.push({ type: 'number', text: text.slice(i, j), value: BigInt(v), column });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[0-9A-Za-z_]/.test(text[j])) j++;
      const word = text.slice(i, j);
      const local = word.match(/^([0-9]+)([fb])$/);
      if (local) {
        tokens.push({ type: 'localref', text: word, value: BigInt(local[1]), direction: local[2] as 'f' | 'b', column });
      } else {
        tokens.push({ type: 'number', text: word, value: parseNumber(word, column), column });
      }
      i = j;
      continue;
    }
    if (c === '%' && i + 1 < text.length && /[A-Za-z]/.test(text[i + 1])) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9]/.test(text[j])) j++;
      tokens.push({ type: 'register', text: text.slice(i + 1, j).toLowerCase(), value: 0n, column });
      i = j;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      tokens.push({ type: 'ident', text: text.slice(i, j), value: 0n, column });
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR.includes(two)) {
      tokens.push({ type: 'punct', text: two, value: 0n, column });
      i += 2;
      continue;
    }
    if ('()[],:+-*/%&|^~!<>=$@'.includes(c)) {
      tokens.push({ type: 'punct', text: c, value: 0n, column });
      i++;
      continue;
    }
    throw new LexError(column, `unexpected character '${c}'`);
  }
  return tokens;
}

/** Splits a line into statements at `;` and drops a `#` comment, both outside strings. */
export function splitStatements(line: string): { text: string; column: number }[] {
  const out: { text: string; column: number }[] = [];
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "'") {
      // character constant 'c', '\n' or GNU's unclosed 'c: skip what it quotes
      const escape = line[i + 1] === '\\' ? 1 : 0;
      i += 1 + escape + (line[i + 2 + escape] === "'" ? 1 : 0);
    }
    else if (c === ';' || c === '#') {
      out.push({ text: line.slice(start, i), column: start });
      if (c === '#') return out;
      start = i + 1;
    }
  }
  out.push({ text: line.slice(start), column: start });
  return out;
}

/** Removes C-style block comments, keeping newlines so line numbers stay right. */
export function stripBlockComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\' && i + 1 < text.length) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '"' || c === '\n') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    if (c === '#') {
      // a line comment: copy it through unchanged (it may contain "/*")
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      // keep the newlines of the comment, replace everything else by spaces
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
