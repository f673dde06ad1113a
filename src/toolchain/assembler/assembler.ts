// The assembler: GNU as compatible AT&T syntax in, relocatable ELF64 object out.
//
// One pass over the statements encodes every instruction whose size is fixed and
// records branches to labels as undecided fragments. Branch relaxation then lays
// the sections out repeatedly, growing a rel8 branch to rel32 when its target is
// out of reach, until nothing changes (sizes only grow, so this ends). Last, every
// field that refers to a symbol is filled in or becomes a relocation.
//
// The pieces, in the order a line meets them:
//   preprocessor.ts  #include/#define/#ifdef for .S files
//   lexer.ts         statements and tokens
//   expression.ts    symbol expressions and their values
//   operands.ts      AT&T operands: %reg, $imm, disp(base,index,scale)
//   mnemonics.ts     AT&T mnemonic -> Intel mnemonic + operand size
//   encoder.ts       choosing and encoding a form of src/isa/table.ts
//   sections.ts      fragments, layout sizes, NOP padding
//   this file        labels, directives, macros, relaxation, relocations, symbols
//   objectWriter.ts  the ELF64 relocatable file

import { AssemblyError, AssemblyErrors, SourcePosition } from './assemblyError.js';
import { LexError, Token, splitStatements, stripBlockComments, tokenize } from './lexer.js';
import { Expr, ExpressionContext, ExpressionError, Value, evaluate, parseExpression } from './expression.js';
import { OperandError, parseOperand } from './operands.js';
import { EncodeError, encodeInstruction } from './encoder.js';
import { PREFIX_BYTES } from './mnemonics.js';
import { BranchFragment, Fragment, Section, defaultSectionAttributes, fragmentSize, nopFill, DataFragment } from './sections.js';
import { preprocess, SourceLine } from './preprocessor.js';
import { ObjectFile, ObjectRelocation, ObjectSection, ObjectSymbol, writeObject } from './objectWriter.js';
import {
  SHT_PROGBITS, SHT_NOBITS, SHT_NOTE, SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHF_ALLOC, SHF_WRITE, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS,
  STB_LOCAL, STB_GLOBAL, STB_WEAK, STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE, STV_DEFAULT, STV_HIDDEN,
  R_X86_64_64, R_X86_64_32, R_X86_64_32S, R_X86_64_16, R_X86_64_8, R_X86_64_PC32, R_X86_64_PC16, R_X86_64_PC8, R_X86_64_PC64, R_X86_64_PLT32,
} from '../elf/elfTypes.js';

export interface AssembleOptions {
  /** Name used in error messages; a name ending in .S runs the C preprocessor first. */
  fileName: string;
  /** Directories searched by #include "file" after the including file's directory. */
  includeDirs?: string[];
  /** Predefined macros for .S files (-D NAME=value). */
  defines?: Record<string, string>;
  /** Reads included files; the callers on the host pass fs.readFileSync (the toolchain itself touches no files). */
  readFile?: (path: string) => string;
}

export interface AssembleResult {
  /** The relocatable ELF64 object file. */
  object: Uint8Array;
  /** The same object before serialization (sections, symbols, relocations). */
  model: ObjectFile;
  /** Where each instruction went: source line, section, offset, length, and the table form used. */
  listing: ListingEntry[];
}

export interface ListingEntry {
  file: string;
  line: number;
  section: string;
  offset: number;
  length: number;
  /** FORMS id of the chosen encoding (for jmp/jcc: the rel8 or rel32 form relaxation chose). */
  formId: number;
}

interface SymbolInfo {
  name: string;
  binding: 'local' | 'global' | 'weak';
  /** Label: where it is defined. */
  section?: Section;
  fragment?: DataFragment;
  offset?: number;
  /** .set/.equ: the constant, or an expression evaluated at the end. */
  constant?: bigint;
  alias?: Expr;
  type: number;
  size?: Expr;
  common?: { size: bigint; alignment: bigint };
  visibility: number;
  /** Named by .local: a later .comm allocates it in .bss like .lcomm. */
  declaredLocal: boolean;
  referenced: boolean;
  /** Must appear in the symbol table (a relocation refers to it). */
  neededInTable: boolean;
  /** .L names, local numeric labels and `.`: never in the symbol table unless needed. */
  temporary: boolean;
  order: number;
  position?: SourcePosition;
}

const DATA_SIZES: Record<string, number> = {
  '.byte': 1, '.word': 2, '.short': 2, '.value': 2, '.2byte': 2, '.hword': 2,
  '.long': 4, '.int': 4, '.4byte': 4, '.quad': 8, '.8byte': 8,
};

const IGNORED = new Set([
  '.cfi_startproc', '.cfi_endproc', '.cfi_def_cfa_offset', '.cfi_offset', '.cfi_def_cfa_register', '.cfi_def_cfa',
  '.cfi_restore', '.cfi_remember_state', '.cfi_restore_state', '.cfi_adjust_cfa_offset', '.cfi_sections',
  '.cfi_personality', '.cfi_lsda', '.cfi_signal_frame', '.cfi_escape', '.cfi_rel_offset', '.cfi_register',
  '.cfi_undefined', '.cfi_same_value', '.cfi_return_column', '.cfi_window_save', '.cfi_negate_ra_state',
  '.loc', '.code64', '.att_syntax', '.loc_mark_labels',
]);

class Assembler implements ExpressionContext {
  readonly errors: AssemblyError[] = [];
  readonly sections: Section[] = [];
  readonly symbols = new Map<string, SymbolInfo>();
  private current!: Section;
  private previous: Section | undefined;
  private sectionStack: Section[] = [];
  private localCounts = new Map<bigint, number>();
  private dotCount = 0;
  private symbolOrder = 0;
  private position: SourcePosition = { file: '', line: 0, column: 1 };
  private fileSymbol: string | undefined;
  private bssTail: Fragment[] = [];
  private macros = new Map<string, { params: { name: string; fallback: string }[]; body: SourceLine[] }>();
  private blockDepth = 0;
  private macroCount = 0;
  readonly referencedSections = new Set<Section>();
  private listingDrafts: { file: string; line: number; section: Section; fragment: Fragment; offset: number; length: number; formId: number }[] = [];

  constructor() {
    for (const name of ['.text', '.data', '.bss']) this.section(name);
    this.current = this.sections[0];
  }

  // ---- symbols

  symbol(name: string): SymbolInfo {
    let s = this.symbols.get(name);
    if (!s) {
      s = {
        name, binding: 'local', type: STT_NOTYPE, visibility: STV_DEFAULT, declaredLocal: false, referenced: false, neededInTable: false,
        temporary: name.startsWith('.L') || name.includes('\u0002'), order: this.symbolOrder++,
      };
      this.symbols.set(name, s);
    }
    return s;
  }

  localLabel(label: bigint, direction: 'f' | 'b', column: number): string {
    const count = this.localCounts.get(label) ?? 0;
    if (direction === 'b') {
      if (count === 0) throw new ExpressionError(column, `undefined local label '${label}b' (no earlier '${label}:')`);
      return `.L${label}\u0002${count}`;
    }
    const name = `.L${label}\u0002${count + 1}`;
    const s = this.symbol(name);
    s.position ??= { ...this.position, column: column + 1 };
    return name;
  }

  dot(): string {
    const name = `.L.dot\u0002${this.dotCount++}`;
    this.defineLabel(name);
    return name;
  }

  private defineLabel(name: string): void {
    const s = this.symbol(name);
    if (s.section || s.constant !== undefined || s.alias) throw new AssemblyError(this.position, `symbol '${displayName(name)}' is already defined`);
    const f = this.current.data();
    s.section = this.current;
    s.fragment = f;
    s.offset = f.bytes.length;
    s.position = { ...this.position };
  }

  /** A constant now (during the first pass), or null. */
  private constantNow = (expr: Expr): bigint | null => {
    try {
      const v = evaluate(expr, {
        lookup: (name) => {
          const s = this.symbols.get(name);
          if (s && s.constant !== undefined) return { constant: s.constant };
          return { constant: 0n, plus: name };
        },
        difference: () => null,
      });
      return v.plus === undefined && v.minus === undefined ? v.constant : null;
    } catch {
      return null;
    }
  };

  /** Final value of an expression after layout. */
  private finalValue(expr: Expr, depth = 0): Value {
    return evaluate(expr, {
      lookup: (name, column) => {
        const s = this.symbol(name);
        s.referenced = true;
        if (s.constant !== undefined) return { constant: s.constant };
        if (s.alias) {
          if (depth > 32) throw new ExpressionError(column, `symbol '${name}' is defined in terms of itself`);
          return this.finalValue(s.alias, depth + 1);
        }
        return { constant: 0n, plus: name };
      },
      difference: (a, b) => {
        const x = this.symbols.get(a);
        const y = this.symbols.get(b);
        if (x?.section && y?.section && x.section === y.section) return BigInt(this.address(x) - this.address(y));
        return null;
      },
    });
  }

  private address(s: SymbolInfo): number {
    return s.fragment!.address + s.offset!;
  }

  // ---- sections

  private section(name: string, attributes?: { type: number; flags: number; entsize: number }): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      const a = attributes ?? defaultSectionAttributes(name);
      s = new Section(name, a.type, a.flags, a.entsize);
      this.sections.push(s);
    }
    return s;
  }

  private switchTo(s: Section): void {
    if (s !== this.current) this.previous = this.current;
    this.current = s;
  }

  // ---- statements

  run(lines: SourceLine[]): void {
    const conditions: { live: boolean; taken: boolean }[] = []; // .if/.else/.endif
    const live = () => conditions.every((c) => c.live);
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n];
      const word = firstWord(line.text);
      if (CONDITIONALS.has(word)) {
        this.position = { file: line.file, line: line.line, column: 1 };
        try {
          this.conditional(word, splitStatements(line.text)[0].text.trim().slice(word.length), conditions, live());
        } catch (e) {
          this.report(e);
        }
        continue;
      }
      if (!live()) continue;
      if (BLOCK_START.has(word)) {
        // .rept/.irp/.irpc/.macro: gather the lines up to the matching .endr/.endm
        let depth = 1;
        let m = n + 1;
        for (; m < lines.length; m++) {
          const w = firstWord(lines[m].text);
          if (BLOCK_START.has(w)) depth++;
          else if ((w === '.endr' || w === '.endm') && --depth === 0) break;
        }
        this.position = { file: line.file, line: line.line, column: 1 };
        if (m >= lines.length) {
          this.report(new AssemblyError(this.position, `${word} without ${word === '.macro' ? '.endm' : '.endr'}`));
          return;
        }
        try {
          this.block(word, line, lines.slice(n + 1, m));
        } catch (e) {
          this.report(e);
        }
        n = m;
        continue;
      }
      for (const stmt of splitStatements(line.text)) {
        if (!stmt.text.trim()) continue;
        this.position = { file: line.file, line: line.line, column: stmt.column + 1 };
        try {
          this.statement(tokenize(stmt.text, stmt.column), stmt.text, stmt.column);
        } catch (e) {
          this.report(e);
        }
      }
    }
  }

  /** GNU as conditional assembly: .if EXPR, .ifdef SYM, .ifndef SYM, .else, .elseif, .endif. */
  private conditional(word: string, args: string, stack: { live: boolean; taken: boolean }[], live: boolean): void {
    const test = (): boolean => {
      if (!live) return false;
      if (word === '.ifdef' || word === '.ifndef') {
        const s = this.symbols.get(args.trim());
        const defined = s !== undefined && (s.section !== undefined || s.constant !== undefined || s.alias !== undefined);
        return word === '.ifdef' ? defined : !defined;
      }
      const { expr } = parseExpression(tokenize(args), 0, this);
      const v = this.constantArg(expr, `${word} condition`);
      return word === '.ifne' || word === '.if' || word === '.elseif' ? v !== 0n : v === 0n;
    };
    if (word === '.endif') {
      if (!stack.pop()) this.fail('.endif without .if');
    } else if (word === '.else' || word === '.elseif') {
      const top = stack[stack.length - 1];
      if (!top) this.fail(`${word} without .if`);
      stack.pop();
      live = stack.every((c) => c.live); // the enclosing groups decide, not the branch we leave
      const cond = !top.taken && (word === '.else' ? live : test());
      stack.push({ live: cond, taken: top.taken || cond });
    } else {
      const cond = test();
      stack.push({ live: cond, taken: cond });
    }
  }

  /** Repeats or defines a block of lines (GNU as .rept N, .irp sym,values, .irpc sym,chars, .macro). */
  private block(word: string, head: SourceLine, body: SourceLine[]): void {
    const text = splitStatements(head.text)[0].text.trim();
    const args = text.slice(word.length).trim();
    if (++this.blockDepth > 64) this.fail('macros or repeats nested too deeply');
    try {
      if (word === '.rept') {
        const tokens = tokenize(args);
        const { expr } = parseExpression(tokens, 0, this);
        const count = this.constantArg(expr, '.rept count');
        for (let k = 0n; k < count; k++) this.run(body);
      } else if (word === '.irp' || word === '.irpc') {
        const [name, ...rest] = args.split(/\s*,\s*|\s+/);
        const values = word === '.irp' ? rest.filter((v) => v !== '') : [...rest.join('')];
        for (const v of values) this.run(substitute(body, new Map([[name, v]])));
      } else {
        const [name, ...params] = args.split(/\s*,\s*|\s+/).filter(Boolean);
        if (!name) this.fail('.macro needs a name');
        this.macros.set(name.toLowerCase(), {
          params: params.map((p) => { const [n, d] = p.split('='); return { name: n.replace(/:req$/, ''), fallback: d ?? '' }; }),
          body,
        });
      }
    } finally {
      this.blockDepth--;
    }
  }

  /** Expands a macro invocation `name args`. */
  private invoke(name: string, raw: string): void {
    const macro = this.macros.get(name.toLowerCase())!;
    const values = raw.trim() === '' ? [] : raw.includes(',') ? splitRaw(raw).map((v) => v.trim()) : raw.trim().split(/\s+/);
    if (values.length > macro.params.length) this.fail(`macro '${name}' takes ${macro.params.length} arguments, found ${values.length}`);
    const map = new Map<string, string>();
    macro.params.forEach((p, k) => map.set(p.name, values[k] !== undefined && values[k] !== '' ? values[k] : p.fallback));
    map.set('@', String(this.macroCount++));
    if (++this.blockDepth > 64) this.fail('macros nested too deeply');
    try {
      this.run(substitute(macro.body, map));
    } finally {
      this.blockDepth--;
    }
  }

  private report(e: unknown): void {
    if (e instanceof AssemblyError) this.errors.push(e);
    else if (e instanceof LexError || e instanceof ExpressionError || e instanceof OperandError || e instanceof EncodeError) {
      this.errors.push(new AssemblyError({ ...this.position, column: e.column + 1 }, e.message));
    } else throw e;
  }

  private fail(message: string, column?: number): never {
    throw new AssemblyError(column === undefined ? this.position : { ...this.position, column: column + 1 }, message);
  }

  private statement(tokens: Token[], text: string, base: number): void {
    let i = 0;
    // labels: `name:` or `1:`
    while (i + 1 < tokens.length && tokens[i + 1].text === ':' && tokens[i + 1].type === 'punct' && (tokens[i].type === 'ident' || tokens[i].type === 'number')) {
      const t = tokens[i];
      this.position = { ...this.position, column: t.column + 1 };
      if (t.type === 'number') {
        const n = t.value;
        const count = (this.localCounts.get(n) ?? 0) + 1;
        this.localCounts.set(n, count);
        this.defineLabel(`.L${n}\u0002${count}`);
      } else {
        this.defineLabel(t.text);
      }
      i += 2;
    }
    if (i >= tokens.length) return;
    const head = tokens[i];
    this.position = { ...this.position, column: head.column + 1 };
    if (head.type !== 'ident') this.fail(`expected a mnemonic or directive, found '${head.text}'`, head.column);
    // `name = expr` is `.set name, expr`
    if (tokens[i + 1]?.text === '=' && tokens[i + 1].type === 'punct') {
      this.assign(head.text, tokens.slice(i + 2), tokens[i + 1].column);
      return;
    }
    const rest = tokens.slice(i + 1);
    const rawArgs = rest.length ? text.slice(rest[0].column - base) : '';
    if (this.macros.has(head.text.toLowerCase())) {
      this.invoke(head.text, text.slice(head.column - base + head.text.length));
      return;
    }
    if (head.text.startsWith('.')) {
      this.directive(head.text.toLowerCase(), rest, rawArgs.trim(), head.column);
      return;
    }
    this.instruction(tokens.slice(i));
  }

  private instruction(tokens: Token[]): void {
    const prefixes: number[] = [];
    let i = 0;
    while (i < tokens.length && tokens[i].type === 'ident' && PREFIX_BYTES.has(tokens[i].text.toLowerCase()) && /^(lock|rep|repe|repz|repne|repnz|data16|addr32)$/i.test(tokens[i].text)) {
      prefixes.push(PREFIX_BYTES.get(tokens[i].text.toLowerCase())!);
      i++;
    }
    if (i === tokens.length) {
      // a prefix on its own (`rep; movsb`): just the byte
      this.current.data().bytes.push(...prefixes);
      return;
    }
    const m = tokens[i];
    if (m.type !== 'ident') this.fail(`expected a mnemonic, found '${m.text}'`, m.column);
    const operands = splitTopLevel(tokens.slice(i + 1)).map((group) => {
      if (group.length === 0) this.fail(`missing operand for '${m.text}'`, m.column);
      return parseOperand(group, this);
    });
    const encoded = encodeInstruction(m.text, operands, prefixes, m.column, this.constantNow);
    this.emitEncoded(encoded, m.column);
  }

  private emitEncoded(encoded: ReturnType<typeof encodeInstruction>, column: number): void {
    if (encoded.kind === 'branch') {
      const f: BranchFragment = { kind: 'branch', address: 0, short: encoded.short, long: encoded.long, target: encoded.target, isLong: false, position: { ...this.position, column: encoded.column + 1 }, formIds: [encoded.shortId, encoded.longId] };
      this.current.add(f);
      this.listingDrafts.push({ file: this.position.file, line: this.position.line, section: this.current, fragment: f, offset: 0, length: -1, formId: -1 });
      return;
    }
    const frag = this.current.data();
    const at = frag.bytes.length;
    frag.bytes.push(...encoded.bytes);
    this.listingDrafts.push({ file: this.position.file, line: this.position.line, section: this.current, fragment: frag, offset: at, length: encoded.bytes.length, formId: encoded.formId ?? -1 });
    for (const fx of encoded.fixups) {
      frag.fixups.push({ ...fx, offset: at + fx.offset, end: at + fx.end, position: { ...this.position, column: (fx.column ?? column) + 1 } });
    }
  }

  // ---- directives

  private expressions(tokens: Token[]): Expr[] {
    return splitTopLevel(tokens).map((group) => {
      if (group.length === 0) this.fail('expected an expression');
      const { expr, next } = parseExpression(group, 0, this);
      if (next !== group.length) this.fail(`junk '${group[next].text}' after expression`, group[next].column);
      return expr;
    });
  }

  private constantArg(expr: Expr, what: string): bigint {
    const v = this.constantNow(expr);
    if (v === null) this.fail(`${what} must be a constant`, expr.column);
    return v;
  }

  private assign(name: string, tokens: Token[], column: number): void {
    if (tokens.length === 0) this.fail(`expected an expression after '${name} ='`, column);
    const [expr] = this.expressions(tokens);
    const s = this.symbol(name);
    if (s.section) this.fail(`symbol '${name}' is already defined as a label`);
    const v = this.constantNow(expr);
    if (v !== null) {
      s.constant = v;
      s.alias = undefined;
    } else {
      s.alias = expr;
      s.constant = undefined;
    }
  }

  private names(tokens: Token[]): string[] {
    return splitTopLevel(tokens).map((g) => {
      if (g.length !== 1 || g[0].type !== 'ident') this.fail('expected a symbol name', g[0]?.column);
      return g[0].text;
    });
  }

  private directive(name: string, args: Token[], raw: string, column: number): void {
    if (IGNORED.has(name) || name.startsWith('.cfi_')) return;
    const size = DATA_SIZES[name];
    if (size !== undefined) {
      for (const expr of this.expressions(args)) this.data(expr, size);
      return;
    }
    switch (name) {
      case '.text': case '.data': case '.bss':
        this.switchTo(this.section(name));
        return;
      case '.section': case '.pushsection':
        if (name === '.pushsection') this.sectionStack.push(this.current);
        this.sectionDirective(raw);
        return;
      case '.popsection': {
        const s = this.sectionStack.pop();
        if (!s) this.fail('.popsection without .pushsection');
        this.switchTo(s);
        return;
      }
      case '.previous':
        if (this.previous) this.switchTo(this.previous);
        return;
      case '.globl': case '.global':
        for (const n of this.names(args)) this.symbol(n).binding = 'global';
        return;
      case '.weak':
        for (const n of this.names(args)) this.symbol(n).binding = 'weak';
        return;
      case '.local':
        for (const n of this.names(args)) {
          this.symbol(n).binding = 'local';
          this.symbol(n).declaredLocal = true;
        }
        return;
      case '.hidden': case '.internal': case '.protected':
        for (const n of this.names(args)) this.symbol(n).visibility = name === '.hidden' ? STV_HIDDEN : name === '.internal' ? 1 : 3;
        return;
      case '.ascii': case '.asciz': case '.string': {
        for (const group of splitTopLevel(args)) {
          if (group.length !== 1 || group[0].type !== 'string') this.fail(`${name} needs string operands`, group[0]?.column ?? column);
          const bytes = [...group[0].text].map((c) => c.charCodeAt(0));
          if (name !== '.ascii') bytes.push(0);
          this.current.data().bytes.push(...bytes);
        }
        return;
      }
      case '.zero': case '.skip': case '.space': {
        const [count, fill] = this.expressions(args);
        if (!count) this.fail(`${name} needs a size`);
        const n = Number(this.constantArg(count, 'size'));
        if (n < 0) this.fail(`${name} size must not be negative`, count.column);
        const value = fill ? Number(this.constantArg(fill, 'fill value') & 0xffn) : 0;
        this.current.add({ kind: 'space', address: 0, size: n, fill: value });
        return;
      }
      case '.org': {
        const [target, fill] = this.expressions(args);
        if (!target) this.fail('.org needs an offset');
        const value = Number(this.constantArg(target, '.org offset'));
        this.current.add({ kind: 'org', address: 0, target: value, fill: fill ? Number(this.constantArg(fill, 'fill value') & 0xffn) : 0, position: { ...this.position } });
        return;
      }
      case '.uleb128': case '.sleb128': {
        for (const expr of this.expressions(args)) {
          let v = this.constantArg(expr, `${name} value`);
          const out: number[] = [];
          for (;;) {
            const byte = Number(v & 0x7fn);
            v >>= 7n; // arithmetic shift: negative values stay negative
            const done = name === '.uleb128' ? v === 0n : (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
            out.push(done ? byte : byte | 0x80);
            if (done) break;
          }
          this.current.data().bytes.push(...out);
        }
        return;
      }
      case '.fill': {
        const [repeat, sizeExpr, valueExpr] = this.expressions(args);
        if (!repeat) this.fail('.fill needs a repeat count');
        const r = Number(this.constantArg(repeat, 'repeat count'));
        const sz = sizeExpr ? Number(this.constantArg(sizeExpr, 'size')) : 1;
        const v = valueExpr ? this.constantArg(valueExpr, 'value') : 0n;
        const bytes = littleEndian(v, Math.min(sz, 8));
        while (bytes.length < sz) bytes.push(0);
        const f = this.current.data();
        for (let k = 0; k < r; k++) f.bytes.push(...bytes);
        return;
      }
      case '.align': case '.balign': case '.p2align': {
        const [a, fillExpr, maxExpr] = splitTopLevel(args).map((g) => (g.length ? this.expressions(g)[0] : undefined));
        if (!a) this.fail(`${name} needs an alignment`);
        let alignment = Number(this.constantArg(a, 'alignment'));
        if (name === '.p2align') alignment = 2 ** alignment;
        if (alignment === 0) alignment = 1;
        if (alignment & (alignment - 1)) this.fail('alignment is not a power of 2', a.column);
        const fill = fillExpr ? Number(this.constantArg(fillExpr, 'fill value') & 0xffn) : this.current.isCode ? null : 0;
        const max = maxExpr ? Number(this.constantArg(maxExpr, 'maximum skip')) : 0;
        this.current.add({ kind: 'align', address: 0, alignment, fill, max });
        if (alignment > this.current.alignment) this.current.alignment = alignment;
        return;
      }
      case '.equ': case '.set': case '.equiv': {
        const groups = splitTopLevel(args);
        if (groups.length !== 2 || groups[0].length !== 1 || groups[0][0].type !== 'ident') this.fail(`${name} needs a symbol and an expression`);
        this.assign(groups[0][0].text, groups[1], groups[0][0].column);
        return;
      }
      case '.type': {
        const groups = splitTopLevel(args);
        if (groups.length !== 2 || groups[0][0]?.type !== 'ident') this.fail('.type needs a symbol and a type (@function or @object)');
        const t = groups[1].map((x) => x.text).join('').replace(/^[@%"]|"$/g, '');
        const types: Record<string, number> = { function: STT_FUNC, object: STT_OBJECT, notype: STT_NOTYPE, STT_FUNC, STT_OBJECT, STT_NOTYPE };
        if (types[t] === undefined) this.fail(`unknown symbol type '${t}'`, groups[1][0]?.column);
        this.symbol(groups[0][0].text).type = types[t];
        return;
      }
      case '.size': {
        const groups = splitTopLevel(args);
        if (groups.length !== 2 || groups[0][0]?.type !== 'ident') this.fail('.size needs a symbol and an expression');
        const [expr] = this.expressions(groups[1]);
        this.symbol(groups[0][0].text).size = expr;
        return;
      }
      case '.comm': case '.lcomm': {
        const groups = splitTopLevel(args);
        if (groups.length < 2 || groups[0].length !== 1 || groups[0][0].type !== 'ident') this.fail(`${name} needs a symbol and a size`);
        const s = this.symbol(groups[0][0].text);
        const sizeValue = this.constantArg(this.expressions(groups[1])[0], 'size');
        const alignValue = groups[2] ? this.constantArg(this.expressions(groups[2])[0], 'alignment') : null;
        if (name === '.comm' && !s.declaredLocal) {
          if (s.section) this.fail(`symbol '${s.name}' is already defined`);
          s.common = { size: sizeValue, alignment: alignValue ?? commonAlignment(sizeValue) };
          if (s.binding === 'local') s.binding = 'global';
          s.type = STT_OBJECT;
        } else {
          // GNU as puts local common symbols in a second part of .bss, after everything else
          const bss = this.section('.bss');
          // without an alignment GNU as aligns by size: 8 for 8 bytes or more, then 4, 2, 1
          const alignment = Number(alignValue ?? (sizeValue >= 8n ? 8n : sizeValue >= 4n ? 4n : sizeValue >= 2n ? 2n : 1n));
          if (alignment > 1) {
            this.bssTail.push({ kind: 'align', address: 0, alignment, fill: 0, max: 0 });
            if (alignment > bss.alignment) bss.alignment = alignment;
          }
          if (s.section || s.constant !== undefined || s.alias) this.fail(`symbol '${s.name}' is already defined`);
          const label: DataFragment = { kind: 'data', address: 0, bytes: [], fixups: [] };
          this.bssTail.push(label, { kind: 'space', address: 0, size: Number(sizeValue), fill: 0 });
          Object.assign(s, { section: bss, fragment: label, offset: 0, position: { ...this.position } });
          s.type = STT_OBJECT;
          s.size ??= { kind: 'number', value: sizeValue, column: 0 };
        }
        return;
      }
      case '.endr': case '.endm':
        this.fail(`${name} without a matching .rept/.irp/.macro`);
        break;
      case '.exitm':
        return;
      case '.file': {
        if (args.length === 1 && args[0].type === 'string') this.fileSymbol ??= args[0].text;
        return; // `.file 1 "name"` is debug information
      }
      case '.ident': {
        if (args.length !== 1 || args[0].type !== 'string') this.fail('.ident needs a string');
        const comment = this.section('.comment').data();
        if (comment.bytes.length === 0) comment.bytes.push(0);
        comment.bytes.push(...[...args[0].text].map((c) => c.charCodeAt(0)), 0);
        return;
      }
      default:
        this.fail(`unknown directive '${name}'`, column);
    }
  }

  private data(expr: Expr, size: number): void {
    const f = this.current.data();
    const v = this.constantNow(expr);
    if (v !== null) {
      checkRange(v, size, false, () => this.fail(`value ${v} does not fit in ${size} byte${size > 1 ? 's' : ''}`, expr.column));
      f.bytes.push(...littleEndian(v, size));
      return;
    }
    f.fixups.push({ offset: f.bytes.length, size: size as 1 | 2 | 4 | 8, expr, pcrel: false, signed: false, branch: false, end: 0, column: expr.column, position: { ...this.position, column: expr.column + 1 } });
    for (let k = 0; k < size; k++) f.bytes.push(0);
  }

  private sectionDirective(raw: string): void {
    const parts = splitRaw(raw);
    const name = (parts[0] ?? '').trim().replace(/^"|"$/g, '');
    if (!name) this.fail('.section needs a name');
    const known = this.sections.find((s) => s.name === name);
    let attributes = defaultSectionAttributes(name);
    if (parts.length > 1) {
      const flagText = parts[1].trim().replace(/^"|"$/g, '');
      let flags = 0;
      for (const c of flagText) {
        if (c === 'a') flags |= SHF_ALLOC;
        else if (c === 'w') flags |= SHF_WRITE;
        else if (c === 'x') flags |= SHF_EXECINSTR;
        else if (c === 'M') flags |= SHF_MERGE;
        else if (c === 'S') flags |= SHF_STRINGS;
        else if (c === 'G' || c === 'T' || c === 'o' || c === 'R' || c === 'd') this.fail(`section flag '${c}' is not supported`);
        else this.fail(`unknown section flag '${c}'`);
      }
      let type = attributes.type === SHT_NOBITS || attributes.type === SHT_NOTE ? attributes.type : SHT_PROGBITS;
      if (parts.length > 2) {
        const t = parts[2].trim().replace(/^[@%]/, '');
        const types: Record<string, number> = { progbits: SHT_PROGBITS, nobits: SHT_NOBITS, note: SHT_NOTE, init_array: SHT_INIT_ARRAY, fini_array: SHT_FINI_ARRAY };
        if (types[t] === undefined) this.fail(`unknown section type '${parts[2].trim()}'`);
        type = types[t];
      }
      let entsize = 0;
      if (flags & SHF_MERGE) {
        if (parts.length < 4) this.fail('a mergeable section (M) needs an entry size');
        entsize = Number(parts[3].trim());
        if (!Number.isInteger(entsize)) this.fail(`bad entry size '${parts[3].trim()}'`);
      }
      attributes = { type, flags, entsize };
      if (known && (known.flags !== flags || known.type !== type) && !(name.startsWith('.note') && flags === 0)) {
        this.fail(`changed section attributes for '${name}'`);
      }
    }
    this.switchTo(this.section(name, attributes));
  }

  // ---- layout and output

  /** Lays the sections out; grows branches to rel32 until every rel8 fits. */
  private relax(): void {
    for (let round = 0; ; round++) {
      for (const s of this.sections) {
        let address = 0;
        for (const f of s.fragments) {
          f.address = address;
          address += fragmentSize(f, address);
        }
        s.size = address;
      }
      let changed = false;
      for (const s of this.sections) {
        for (const f of s.fragments) {
          if (f.kind !== 'branch' || f.isLong) continue;
          const target = this.branchTarget(f, s);
          const next = f.address + f.short.length + 1;
          if (target === null || target - next < -128 || target - next > 127) {
            f.isLong = true;
            changed = true;
          }
        }
      }
      if (!changed || round > 1000) return;
    }
  }

  /** Address of a branch's target if it is in section `s` (so the branch can be resolved here), else null. */
  private branchTarget(f: BranchFragment, s: Section): number | null {
    let v: Value;
    try {
      v = this.finalValue(f.target);
    } catch {
      return null;
    }
    if (v.minus !== undefined || v.plus === undefined) return null;
    const sym = this.symbols.get(v.plus)!;
    if (sym.section !== s || sym.binding === 'weak') return null;
    return this.address(sym) + Number(v.constant);
  }

  listing(): ListingEntry[] {
    return this.listingDrafts.map((d) => ({
      file: d.file, line: d.line, section: d.section.name, offset: d.fragment.address + d.offset,
      length: d.length >= 0 ? d.length : fragmentSize(d.fragment, d.fragment.address),
      formId: d.fragment.kind === 'branch' ? d.fragment.formIds[d.fragment.isLong ? 1 : 0] : d.formId,
    }));
  }

  finish(): ObjectFile {
    this.section('.bss').fragments.push(...this.bssTail);
    this.relax();
    for (const s of this.symbols.values()) {
      if (s.name.includes('\u0002') && !s.section && !s.name.startsWith('.L.dot')) {
        const [label] = s.name.slice(2).split('\u0002');
        this.errors.push(new AssemblyError(s.position ?? this.position, `undefined local label '${label}f'`));
      }
    }
    const objectSections: ObjectSection[] = [];
    const relocations = new Map<Section, ObjectRelocation[]>();
    const pendingSymbols: { reloc: ObjectRelocation; symbol: SymbolInfo | Section }[] = [];

    for (const s of this.sections) {
      const bytes = new Uint8Array(s.type === SHT_NOBITS ? 0 : s.size);
      const relocs: ObjectRelocation[] = [];
      relocations.set(s, relocs);
      for (const f of s.fragments) {
        if (f.kind === 'data') {
          if (s.type !== SHT_NOBITS) bytes.set(f.bytes, f.address);
          for (const fx of f.fixups) {
            const at = f.address + fx.offset;
            const origin = fx.pcrel ? f.address + fx.end : undefined;
            this.resolveField(s, bytes, at, fx.size, fx.expr, origin, fx.signed, fx.branch, false, fx.position, relocs, pendingSymbols);
          }
        } else if (f.kind === 'branch') {
          const op = f.isLong ? f.long : f.short;
          if (s.type !== SHT_NOBITS) bytes.set(op, f.address);
          const size = f.isLong ? 4 : 1;
          const at = f.address + op.length;
          this.resolveField(s, bytes, at, size, f.target, at + size, true, true, true, f.position, relocs, pendingSymbols);
        } else if (f.kind === 'org' && f.address > f.target) {
          this.errors.push(new AssemblyError(f.position, `.org ${f.target} would move the location backwards (already at ${f.address})`));
        } else if (s.type !== SHT_NOBITS) {
          const size = fragmentSize(f, f.address);
          if (f.kind === 'space' || f.kind === 'org') bytes.fill(f.fill, f.address, f.address + size);
          else if (f.fill === null) bytes.set(nopFill(size), f.address);
          else bytes.fill(f.fill, f.address, f.address + size);
        }
      }
      objectSections.push({
        name: s.name, type: s.type, flags: BigInt(s.flags), alignment: s.alignment, entsize: s.entsize,
        data: s.type === SHT_NOBITS ? new Uint8Array(s.size) : bytes, relocations: relocs,
      });
    }
    return { sections: objectSections, symbols: this.symbolTable(pendingSymbols) };
  }

  /**
   * Fills in one field, or records a relocation for it. `origin` is the address the
   * field is relative to (the end of the instruction) for PC-relative fields.
   */
  private resolveField(
    s: Section, bytes: Uint8Array, at: number, size: number, expr: Expr, origin: number | undefined,
    signed: boolean, branch: boolean, relaxed: boolean, position: SourcePosition,
    relocs: ObjectRelocation[], pending: { reloc: ObjectRelocation; symbol: SymbolInfo | Section }[],
  ): void {
    const fail = (message: string) => this.errors.push(new AssemblyError(position, message));
    let v: Value;
    try {
      v = this.finalValue(expr);
    } catch (e) {
      if (e instanceof ExpressionError) fail(e.message);
      else throw e;
      return;
    }
    let constant = v.constant;
    let pcOrigin = origin;
    if (v.minus !== undefined) {
      const m = this.symbols.get(v.minus)!;
      if (m.section !== s || pcOrigin !== undefined) {
        fail(`can't subtract '${displayName(v.minus)}': it is not a label in this section`);
        return;
      }
      // sym - label: PC-relative to the field, corrected by the label's distance from the field
      constant += BigInt(at - this.address(m));
      pcOrigin = at;
    }
    const write = (value: bigint) => {
      if (s.type !== SHT_NOBITS) bytes.set(littleEndian(value, size), at);
    };
    const target = v.plus === undefined ? undefined : this.symbols.get(v.plus)!;
    if (target === undefined) {
      if (pcOrigin !== undefined && origin !== undefined) {
        fail('a branch or %rip-relative address needs a symbol, not a constant');
        return;
      }
      if (pcOrigin !== undefined) {
        fail('expression is not relocatable');
        return;
      }
      checkRange(constant, size, signed, () => fail(`value ${constant} does not fit in ${size} byte${size > 1 ? 's' : ''}`));
      write(constant);
      return;
    }
    const isGlobal = target.binding !== 'local' || target.common !== undefined;
    const local = !isGlobal && target.section !== undefined;
    if (pcOrigin !== undefined && target.section === s && (local || (relaxed && target.binding !== 'weak'))) {
      const value = BigInt(this.address(target)) + constant - BigInt(pcOrigin);
      if (size === 1 && (value < -128n || value > 127n)) fail(`branch target out of range for a rel8 displacement (${value})`);
      else checkRange(value, size, true, () => fail(`PC-relative value ${value} out of range`));
      write(value);
      return;
    }
    // a relocation
    let type: number;
    let addend = constant;
    if (pcOrigin !== undefined) {
      addend -= BigInt(pcOrigin - at);
      type = size === 8 ? R_X86_64_PC64 : size === 2 ? R_X86_64_PC16 : size === 1 ? R_X86_64_PC8 : branch && (isGlobal || !target.section) ? R_X86_64_PLT32 : R_X86_64_PC32;
    } else {
      type = size === 8 ? R_X86_64_64 : size === 4 ? (signed ? R_X86_64_32S : R_X86_64_32) : size === 2 ? R_X86_64_16 : R_X86_64_8;
    }
    write(0n);
    const reloc: ObjectRelocation = { offset: BigInt(at), type, symbol: null, addend };
    relocs.push(reloc);
    target.referenced = true;
    if (local && target.section) {
      // GNU as refers to local symbols through their section symbol, except in
      // mergeable sections when there is an addend (the linker may move pieces)
      if ((target.section.flags & SHF_MERGE) !== 0 && addend !== 0n) {
        target.neededInTable = true;
        pending.push({ reloc, symbol: target });
      } else {
        reloc.addend += BigInt(this.address(target));
        this.referencedSections.add(target.section);
        pending.push({ reloc, symbol: target.section });
      }
    } else {
      pending.push({ reloc, symbol: target });
    }
  }

  private symbolTable(pending: { reloc: ObjectRelocation; symbol: SymbolInfo | Section }[]): ObjectSymbol[] {
    const locals: ObjectSymbol[] = [];
    const globals: ObjectSymbol[] = [];
    const bySymbol = new Map<SymbolInfo | Section, ObjectSymbol>();
    if (this.fileSymbol !== undefined) {
      locals.push({ name: this.fileSymbol, value: 0n, size: 0n, binding: STB_LOCAL, type: STT_FILE, other: 0, section: 'absolute' });
    }
    const ordered = [...this.symbols.values()].sort((a, b) => a.order - b.order);
    for (const s of ordered) {
      if (s.name.startsWith('.L.dot') && !s.neededInTable) continue;
      const isGlobal = s.binding !== 'local' || s.common !== undefined;
      const defined = s.section !== undefined || s.constant !== undefined || s.alias !== undefined;
      if (!isGlobal && s.temporary && !s.neededInTable) continue;
      if (!isGlobal && !defined && !s.referenced) continue;
      if (!isGlobal && !defined && s.temporary && s.name.includes('\u0002')) continue;
      let value = 0n;
      let section: ObjectSymbol['section'] = 'undefined';
      let aliasTarget: SymbolInfo | undefined;
      if (s.common) {
        value = s.common.alignment;
        section = 'common';
      } else if (s.section) {
        value = BigInt(this.address(s));
        section = this.sections.indexOf(s.section);
      } else if (s.constant !== undefined) {
        value = s.constant;
        section = 'absolute';
      } else if (s.alias) {
        try {
          const v = this.finalValue(s.alias);
          if (v.minus !== undefined) throw new ExpressionError(s.alias.column, 'not a relocatable value');
          if (v.plus === undefined) {
            value = v.constant;
            section = 'absolute';
          } else {
            aliasTarget = this.symbols.get(v.plus);
            if (aliasTarget?.section) {
              value = BigInt(this.address(aliasTarget)) + v.constant;
              section = this.sections.indexOf(aliasTarget.section);
            }
          }
        } catch (e) {
          if (e instanceof ExpressionError) this.errors.push(new AssemblyError(s.position ?? this.position, e.message));
          else throw e;
        }
      }
      let size = 0n;
      if (s.common) size = s.common.size;
      else if (s.size) {
        try {
          const v = this.finalValue(s.size);
          if (v.plus !== undefined || v.minus !== undefined) throw new ExpressionError(s.size.column, `.size of '${s.name}' is not a constant`);
          size = v.constant;
        } catch (e) {
          if (e instanceof ExpressionError) this.errors.push(new AssemblyError(s.position ?? this.position, e.message));
          else throw e;
        }
      }
      const sym: ObjectSymbol = {
        name: displayName(s.name), value, size,
        binding: s.binding === 'weak' ? STB_WEAK : isGlobal || !defined ? STB_GLOBAL : STB_LOCAL,
        type: s.type, other: s.visibility, section,
      };
      bySymbol.set(s, sym);
      (sym.binding === STB_LOCAL ? locals : globals).push(sym);
    }
    // section symbols for the sections relocations refer to
    const sectionSymbols: ObjectSymbol[] = [];
    this.sections.forEach((sec, i) => {
      if (!this.referencedSections.has(sec)) return;
      const sym: ObjectSymbol = { name: '', value: 0n, size: 0n, binding: STB_LOCAL, type: STT_SECTION, other: 0, section: i };
      bySymbol.set(sec, sym);
      sectionSymbols.push(sym);
    });
    for (const { reloc, symbol } of pending) {
      const sym = bySymbol.get(symbol);
      if (!sym) {
        // only after an error (an undefined local label): the object is not written anyway
        if (this.errors.length) continue;
        throw new Error('internal: no table entry for a relocation symbol');
      }
      reloc.symbol = sym;
    }
    return [...locals, ...sectionSymbols, ...globals];
  }
}

const BLOCK_START = new Set(['.rept', '.irp', '.irpc', '.macro']);
const CONDITIONALS = new Set(['.if', '.ifne', '.ifeq', '.ifdef', '.ifndef', '.else', '.elseif', '.endif']);

/** The first word of a line, lower case (comments and labels are not skipped). */
function firstWord(text: string): string {
  return (text.trim().match(/^[.A-Za-z_][\w.]*/)?.[0] ?? '').toLowerCase();
}

/** Replaces \name (macro and .irp parameters), \() and \@ in each line. */
function substitute(lines: SourceLine[], values: Map<string, string>): SourceLine[] {
  const names = [...values.keys()].sort((a, b) => b.length - a.length);
  return lines.map((l) => {
    let text = l.text;
    for (const n of names) text = text.split('\\' + n).join(values.get(n)!);
    return { ...l, text: text.split('\\()').join('') };
  });
}

function displayName(name: string): string {
  const i = name.indexOf('\u0002');
  return i < 0 ? name : name.slice(2, i);
}

/** GNU as's default alignment for `.comm` without one: the largest power of 2 <= size, at most 16. */
function commonAlignment(size: bigint): bigint {
  let a = 1n;
  while (a * 2n <= size && a < 16n) a *= 2n;
  return a;
}

function littleEndian(v: bigint, size: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  for (let k = 0; k < size; k++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

function checkRange(v: bigint, size: number, signed: boolean, onError: () => void): void {
  const bits = BigInt(size * 8);
  const min = -(1n << (bits - 1n));
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (size === 8) {
    if (v < -(1n << 63n) || v > (1n << 64n) - 1n) onError();
    return;
  }
  if (v < min || v > max) onError();
}

/** Splits tokens at commas outside parentheses. */
function splitTopLevel(tokens: Token[]): Token[][] {
  if (tokens.length === 0) return [];
  const groups: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && t.text === '(') depth++;
    if (t.type === 'punct' && t.text === ')') depth--;
    if (t.type === 'punct' && t.text === ',' && depth === 0) groups.push([]);
    else groups[groups.length - 1].push(t);
  }
  return groups;
}

/** Splits raw directive text at commas outside quotes. */
function splitRaw(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Assembles GNU as (AT&T) source to a relocatable ELF64 object; throws AssemblyErrors. */
export function assemble(source: string, options: AssembleOptions): AssembleResult {
  let lines: SourceLine[];
  const preErrors: AssemblyError[] = [];
  if (/\.S$/.test(options.fileName)) {
    const pre = preprocess(source, options);
    preErrors.push(...pre.errors);
    lines = pre.lines;
  } else {
    lines = stripBlockComments(source).split('\n').map((text, i) => ({ text, file: options.fileName, line: i + 1 }));
  }
  const asm = new Assembler();
  asm.run(lines);
  const model = asm.finish();
  if (asm.errors.length || preErrors.length) {
    const sorted = [...preErrors, ...asm.errors].sort((a, b) => (a.position.file === b.position.file ? a.position.line - b.position.line || a.position.column - b.position.column : 0));
    throw new AssemblyErrors(sorted);
  }
  return { object: writeObject(model), model, listing: asm.listing() };
}

export type { SourceLine };
