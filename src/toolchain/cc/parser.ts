// The C parser (C11 6.5-6.9, minus floating point): preprocessed tokens ->
// the typed AST of ast.ts. Recursive descent with the "lexer hack": an
// identifier is a type name when the innermost declaration of it is a typedef.
// Every expression gets its type here through semantics.ts, so the code
// generator sees explicit conversions only.
//
// Errors: a syntax error throws CompileError, which the statement or
// declaration loop catches, reports and recovers from (skipping to the next
// `;` or `}`); semantic errors that leave a usable tree (an undeclared name)
// are reported without unwinding. Nesting is bounded by LIMITS.nesting.

import { fullRegister } from './abi.js';
import { CompileError, fail, LIMITS, NO_FLOATING_POINT, type SourceLocation } from './diagnostics.js';
import { locationOf, type Token } from './lexer.js';
import { charValue, decodeEscapes } from './preprocessor.js';
import type { AsmOperand, FunctionDef, Node, StaticInit, TranslationUnit, Variable } from './ast.js';
import {
  BOOL, CHAR, INT, LLONG, LONG, SCHAR, SHORT, UCHAR, UINT, ULLONG, ULONG, USHORT, VOID,
  arrayOf, decay, enumType, findMember, funcType, isInteger, isRecord, isScalar, layoutRecord, pointerTo,
  promote, qualified, sameType, typeName, unqualified, type MemberDecl, type Member, type Param, type Type,
} from './types.js';
import {
  addressOf, assignConvert, binary, checkModifiable, conditional, constantValue, convert, dereference,
  markAddressTaken, numberNode, toCondition, unary, valueOf, wrap,
} from './semantics.js';

export interface ParseOptions {
  warn: (at: SourceLocation, message: string) => void;
  /** Called for every error; parsing goes on after it. */
  error: (err: CompileError) => void;
}

interface Attributes {
  aligned?: number;
  packed?: boolean;
  section?: string;
  used?: boolean;
  weak?: boolean;
  noreturn?: boolean;
  asmName?: string;
}

interface Specifiers {
  type: Type;
  isTypedef: boolean;
  isStatic: boolean;
  isExtern: boolean;
  isInline: boolean;
  attrs: Attributes;
}

interface ScopeEntry {
  variable?: Variable;
  typedef?: Type;
  enumValue?: bigint;
}

interface Scope {
  names: Map<string, ScopeEntry>;
  tags: Map<string, Type>;
}

interface RecordInfo {
  def: Type;
}

interface Init {
  type: Type;
  expr?: Node;
  children?: Init[];
  /** Incomplete array: grows with the initializer. */
  growable?: boolean;
  /** Union: the member initialized. */
  unionIndex?: number;
}

/** Attributes gcc knows that xk cc accepts and does not need. */
const IGNORED_ATTRIBUTES = new Set([
  'unused', 'format', 'always_inline', 'noinline', 'cold', 'hot', 'const', 'pure', 'nonnull', 'deprecated',
  'visibility', 'warn_unused_result', 'malloc', 'returns_twice', 'fallthrough', 'may_alias', 'nothrow',
  'leaf', 'gnu_inline', 'artificial', 'flatten', 'maybe_unused', 'optimize', 'no_instrument_function',
  'sentinel', 'alloc_size', 'returns_nonnull', 'naked', 'noclone', 'noipa', 'externally_visible', 'constructor', 'destructor',
]);

const TYPE_KEYWORDS = new Set([
  'void', '_Bool', 'char', 'short', 'int', 'long', 'signed', 'unsigned', '__signed__', 'struct', 'union', 'enum',
  'typedef', 'static', 'extern', 'inline', '__inline', '__inline__', '_Noreturn', 'auto', 'register', '_Thread_local',
  'const', '__const', 'volatile', '__volatile__', 'restrict', '__restrict', '__restrict__', '_Atomic', '_Alignas',
  '__attribute__', '__attribute', 'typeof', '__typeof__', '__typeof', '__extension__', '__builtin_va_list',
  'float', 'double', '_Complex', '__int128',
]);

const ASSIGN_OPS: Record<string, string> = {
  '+=': '+', '-=': '-', '*=': '*', '/=': '/', '%=': '%', '&=': '&', '|=': '|', '^=': '^', '<<=': '<<', '>>=': '>>',
};

const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

/** Longest chain of operators of one precedence level (keeps trees shallow enough for recursion). */
const MAX_CHAIN = 10_000;
const MAX_ERRORS = 50;

class TooManyErrors extends Error {}

/** Parses a preprocessed token list into a translation unit. */
export function parse(tokens: Token[], options: ParseOptions): TranslationUnit {
  return new Parser(tokens, options).translationUnit();
}

class Parser {
  private pos = 0;
  private scopes: Scope[] = [{ names: new Map(), tags: new Map() }];
  private readonly unit: TranslationUnit = { functions: [], globals: [], topLevelAsm: [], literals: new Map() };
  private readonly globalsByName = new Map<string, Variable>();
  private depth = 0;
  private labelCount = 0;
  private errorCount = 0;
  // the function being parsed
  private fn: { def: FunctionDef; type: Type; name: string; labels: Map<string, Node>; gotos: Node[] } | null = null;
  private breakTargets: Node[] = [];
  private continueTargets: Node[] = [];
  private switches: Node[] = [];
  private staticCount = 0;
  private literalCount = 0;
  private vaListType: Type;

  constructor(private readonly tokens: Token[], private readonly options: ParseOptions) {
    if (tokens.length === 0 || tokens[tokens.length - 1].kind !== 'eof') {
      this.tokens = [...tokens, { kind: 'eof', text: '', file: '<input>', line: 1, col: 1, space: false, bol: true }];
    }
    const vaStruct: Type = { kind: 'struct', size: 0, align: 1, unsigned: false, tag: '__va_list_tag', record: {} };
    const at = { file: '<built-in>', line: 0, col: 0 };
    layoutRecord(vaStruct, [
      { name: 'gp_offset', type: UINT, location: at }, { name: 'fp_offset', type: UINT, location: at },
      { name: 'overflow_arg_area', type: pointerTo(VOID), location: at }, { name: 'reg_save_area', type: pointerTo(VOID), location: at },
    ], false, 1);
    (vaStruct.record as RecordInfo).def = vaStruct;
    this.vaListType = arrayOf(vaStruct, 1);
  }

  // ---- tokens ----

  private get tok(): Token {
    return this.tokens[this.pos];
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private is(text: string): boolean {
    const t = this.tok;
    return t.text === text && (t.kind === 'punct' || t.kind === 'ident');
  }
  private consume(text: string): boolean {
    if (this.is(text)) {
      this.next();
      return true;
    }
    return false;
  }
  private here(): SourceLocation {
    return locationOf(this.tok);
  }
  private expect(text: string, what?: string): Token {
    if (this.is(text)) return this.next();
    const t = this.tok;
    const found = t.kind === 'eof' ? 'end of input' : `'${t.text}'`;
    fail(locationOf(t), `expected '${text}'${what ? ` ${what}` : ''} before ${found}`);
  }
  private identifier(what = 'identifier'): Token {
    const t = this.tok;
    if (t.kind !== 'ident') fail(locationOf(t), `expected ${what} before ${t.kind === 'eof' ? 'end of input' : `'${t.text}'`}`);
    return this.next();
  }

  private report(err: CompileError): void {
    this.options.error(err);
    if (++this.errorCount >= MAX_ERRORS) throw new TooManyErrors();
  }
  private error(at: SourceLocation, message: string): void {
    this.report(new CompileError(at, message));
  }
  private warn(at: SourceLocation, message: string): void {
    this.options.warn(at, message);
  }

  private enter(at: SourceLocation): void {
    if (++this.depth > LIMITS.nesting) fail(at, `nesting too deep (more than ${LIMITS.nesting} levels)`);
  }
  private leave(): void {
    this.depth--;
  }

  /** Skips to just after the next `;` at this brace level, or to a `}` that closes it. */
  private recover(topLevel: boolean): void {
    let braces = 0;
    for (;;) {
      const t = this.tok;
      if (t.kind === 'eof') return;
      if (t.kind === 'punct') {
        if (t.text === '{') braces++;
        else if (t.text === '}') {
          if (braces === 0) {
            if (topLevel) this.next();
            return;
          }
          braces--;
          if (braces === 0 && topLevel) {
            this.next();
            if (this.is(';')) this.next();
            return;
          }
        } else if (t.text === ';' && braces === 0) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }

  // ---- scopes ----

  private pushScope(): void {
    this.scopes.push({ names: new Map(), tags: new Map() });
  }
  private popScope(): void {
    this.scopes.pop();
  }
  private lookup(name: string): ScopeEntry | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const e = this.scopes[i].names.get(name);
      if (e) return e;
    }
    return undefined;
  }
  private lookupTag(name: string): Type | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const t = this.scopes[i].tags.get(name);
      if (t) return t;
    }
    return undefined;
  }
  private declare(name: string, entry: ScopeEntry): void {
    this.scopes[this.scopes.length - 1].names.set(name, entry);
  }
  private atFileScope(): boolean {
    return this.scopes.length === 1;
  }

  private isTypeName(t: Token = this.tok): boolean {
    if (t.kind !== 'ident') return false;
    if (TYPE_KEYWORDS.has(t.text)) return true;
    return this.lookup(t.text)?.typedef !== undefined;
  }

  // ---- translation unit ----

  translationUnit(): TranslationUnit {
    try {
      while (this.tok.kind !== 'eof') {
        const start = this.pos;
        try {
          this.externalDeclaration();
        } catch (e) {
          if (!(e instanceof CompileError)) throw e;
          this.report(e);
          this.fn = null;
          this.scopes.length = 1;
          this.depth = 0;
          this.breakTargets = [];
          this.continueTargets = [];
          this.switches = [];
          this.recover(true);
          if (this.pos === start) this.next();
        }
      }
    } catch (e) {
      if (!(e instanceof TooManyErrors)) throw e;
    }
    return this.unit;
  }

  private externalDeclaration(): void {
    if (this.consume(';')) return;
    if (this.is('_Static_assert')) return this.staticAssert();
    if ((this.is('__asm__') || this.is('asm') || this.is('__asm')) && this.peek().text === '(') {
      this.next();
      this.expect('(');
      const text = this.stringLiteralText();
      this.expect(')');
      this.expect(';');
      this.unit.topLevelAsm.push({ text, before: this.unit.functions.length });
      return;
    }
    const at = this.here();
    if (!this.isTypeName()) {
      if (this.tok.kind === 'ident' && (this.peek().text === '(' || this.peek().text === ',' || this.peek().text === ';' || this.peek().text === '=')) {
        this.warn(at, 'data definition has no type or storage class');
      } else {
        fail(at, `expected declaration before ${this.describe(this.tok)}`);
      }
    }
    const spec = this.declSpecifiers();
    if (this.consume(';')) return;
    let first = true;
    for (;;) {
      const d = this.declarator(spec.type);
      const attrs = { ...spec.attrs };
      this.declaratorTail(attrs);
      if (!d.name) fail(d.location, 'expected identifier or \'(\'');
      if (spec.isTypedef) {
        this.declareTypedef(d.name, d.type, attrs, d.location);
      } else if (d.type.kind === 'func') {
        const v = this.declareFunction(d.name, d.type, spec, attrs, d.location);
        if (first && this.is('{')) {
          this.functionDefinition(v, d.type, d.params ?? []);
          return;
        }
      } else {
        this.globalVariable(d.name, d.type, spec, attrs, d.location);
      }
      first = false;
      if (this.consume(',')) continue;
      this.expect(';', 'after declaration');
      return;
    }
  }

  private describe(t: Token): string {
    return t.kind === 'eof' ? 'end of input' : `'${t.text}'`;
  }

  private declareTypedef(name: string, type: Type, attrs: Attributes, at: SourceLocation): void {
    let t = type;
    if (attrs.aligned !== undefined) t = { ...t, align: Math.max(t.align, attrs.aligned) };
    const prev = this.scopes[this.scopes.length - 1].names.get(name);
    if (prev?.typedef && !sameType(prev.typedef, t)) this.error(at, `conflicting types for '${name}'`);
    else if (prev && !prev.typedef) this.error(at, `'${name}' redeclared as different kind of symbol`);
    this.declare(name, { typedef: t });
  }

  private declareFunction(name: string, type: Type, spec: Specifiers, attrs: Attributes, at: SourceLocation): Variable {
    let v = this.globalsByName.get(name);
    if (v) {
      if (!v.isFunction) this.error(at, `'${name}' redeclared as different kind of symbol`);
      else if (!sameType(v.type, type)) this.error(at, `conflicting types for '${name}'; have '${typeName(type)}'`);
      else if (v.type.oldStyle && !type.oldStyle) v.type = type;
      if (spec.isInline) v.isInline = true;
    } else {
      v = {
        name, type, isLocal: false, symbol: attrs.asmName ?? name, isStatic: spec.isStatic, isExtern: !spec.isStatic,
        isDefinition: false, isFunction: true, isInline: spec.isInline, location: at,
      };
      this.globalsByName.set(name, v);
    }
    this.applyAttributes(v, attrs);
    if (this.atFileScope()) this.declare(name, { variable: v });
    else this.declare(name, { variable: v });
    return v;
  }

  private applyAttributes(v: Variable, attrs: Attributes): void {
    if (attrs.aligned !== undefined) v.align = Math.max(v.align ?? 1, attrs.aligned);
    if (attrs.section !== undefined) v.section = attrs.section;
    if (attrs.used) v.isUsedAttr = true;
    if (attrs.weak) v.weak = true;
  }

  private globalVariable(name: string, type: Type, spec: Specifiers, attrs: Attributes, at: SourceLocation): void {
    let v = this.globalsByName.get(name);
    const hasInit = this.is('=');
    if (v) {
      if (v.isFunction) this.error(at, `'${name}' redeclared as different kind of symbol`);
      else if (!sameType(v.type, type)) this.error(at, `conflicting types for '${name}'; have '${typeName(type)}'`);
      else if (v.type.kind === 'array' && v.type.length! < 0) v.type = type;
      if (!spec.isExtern) {
        v.isExtern = false;
        v.isDefinition = true;
      }
    } else {
      v = {
        name, type, isLocal: false, symbol: attrs.asmName ?? name, isStatic: spec.isStatic, isExtern: spec.isExtern,
        isDefinition: !spec.isExtern, isTentative: !spec.isExtern && !hasInit, location: at,
      };
      this.globalsByName.set(name, v);
      this.unit.globals.push(v);
    }
    this.applyAttributes(v, attrs);
    this.declare(name, { variable: v });
    if (this.consume('=')) {
      if (v.init) this.error(at, `redefinition of '${name}'`);
      if (spec.isExtern) this.warn(at, `'${name}' initialized and declared 'extern'`);
      v.isExtern = false;
      v.isDefinition = true;
      v.isTentative = false;
      this.staticInitializer(v);
    } else if (!spec.isExtern && v.init === undefined && type.kind !== 'array' && isRecord(type) && !this.recordOf(type).complete) {
      this.error(at, `storage size of '${name}' isn't known`);
    }
  }

  private staticAssert(): void {
    const at = this.here();
    this.next();
    this.expect('(');
    const v = this.constExpr();
    let msg: string | null = null;
    if (this.consume(',')) msg = this.stringLiteralText();
    this.expect(')');
    this.expect(';');
    if (v === 0n) fail(at, msg === null ? 'static assertion failed' : `static assertion failed: "${msg}"`);
  }

  // ---- declaration specifiers ----

  private declSpecifiers(allowStorage = true): Specifiers {
    const spec: Specifiers = { type: INT, isTypedef: false, isStatic: false, isExtern: false, isInline: false, attrs: {} };
    let base: Type | null = null;
    let longs = 0;
    let shorts = 0;
    let signed = false;
    let unsigned = false;
    let kind: string | null = null; // void _Bool char int
    let isConst = false;
    let isVolatile = false;
    let seen = false;
    let align = 0;
    const at = this.here();
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'ident') break;
      const w = t.text;
      if (w === 'typedef' || w === 'static' || w === 'extern' || w === 'auto' || w === 'register' || w === '_Thread_local') {
        if (!allowStorage) fail(locationOf(t), `storage class specified for a type name`);
        this.next();
        if (w === 'typedef') spec.isTypedef = true;
        if (w === 'static') spec.isStatic = true;
        if (w === 'extern') spec.isExtern = true;
        continue;
      }
      if (w === 'inline' || w === '__inline' || w === '__inline__') {
        this.next();
        spec.isInline = true;
        continue;
      }
      if (w === '_Noreturn') {
        this.next();
        spec.attrs.noreturn = true;
        continue;
      }
      if (w === 'const' || w === '__const') {
        this.next();
        isConst = true;
        continue;
      }
      if (w === 'volatile' || w === '__volatile__' || w === 'restrict' || w === '__restrict' || w === '__restrict__' || w === '_Atomic' || w === '__extension__') {
        this.next();
        if (w === 'volatile' || w === '__volatile__') isVolatile = true;
        continue;
      }
      if (w === '__attribute__' || w === '__attribute') {
        this.attributes(spec.attrs);
        continue;
      }
      if (w === '_Alignas') {
        this.next();
        this.expect('(');
        const a = this.isTypeName() ? this.typeName().align : Number(this.constExpr());
        this.expect(')');
        align = Math.max(align, a);
        continue;
      }
      if (w === 'float' || w === 'double' || w === '_Complex') fail(locationOf(t), NO_FLOATING_POINT);
      if (w === 'struct' || w === 'union' || w === 'enum' || w === 'typeof' || w === '__typeof__' || w === '__typeof' || w === '__builtin_va_list') {
        if (seen) fail(locationOf(t), 'two or more data types in declaration specifiers');
        seen = true;
        if (w === 'struct' || w === 'union') base = this.recordSpecifier(w);
        else if (w === 'enum') base = this.enumSpecifier();
        else if (w === '__builtin_va_list') {
          this.next();
          base = this.vaListType;
        } else {
          this.next();
          this.expect('(');
          base = this.isTypeName() ? this.typeName() : this.expression().type!;
          this.expect(')');
        }
        continue;
      }
      if (w === 'void' || w === '_Bool' || w === 'char' || w === 'int' || w === '__int128') {
        if (w === '__int128') fail(locationOf(t), '__int128 is not supported by xk cc');
        if (kind !== null || base) fail(locationOf(t), 'two or more data types in declaration specifiers');
        this.next();
        kind = w;
        seen = true;
        continue;
      }
      if (w === 'short') { this.next(); shorts++; seen = true; continue; }
      if (w === 'long') {
        this.next();
        longs++;
        seen = true;
        if (longs > 2) fail(locationOf(t), '\'long long long\' is too long for xk cc');
        continue;
      }
      if (w === 'signed' || w === '__signed__') { this.next(); signed = true; seen = true; continue; }
      if (w === 'unsigned') { this.next(); unsigned = true; seen = true; continue; }
      if (!seen) {
        const e = this.lookup(w);
        if (e?.typedef) {
          this.next();
          base = e.typedef;
          seen = true;
          continue;
        }
      }
      break;
    }
    if (!seen) {
      if (this.tok.kind === 'ident' || spec.isStatic || spec.isExtern || spec.isTypedef || isConst || isVolatile || spec.isInline) {
        this.warn(at, 'type defaults to \'int\' in declaration');
      } else {
        fail(at, `expected declaration specifiers before ${this.describe(this.tok)}`);
      }
    }
    let type: Type;
    if (base) {
      if (kind || longs || shorts || signed || unsigned) fail(at, 'two or more data types in declaration specifiers');
      type = base;
    } else if (signed && unsigned) {
      fail(at, 'both \'signed\' and \'unsigned\' in declaration specifiers');
    } else if (kind === 'void') {
      type = VOID;
    } else if (kind === '_Bool') {
      type = BOOL;
    } else if (kind === 'char') {
      if (longs || shorts) fail(at, 'two or more data types in declaration specifiers');
      type = unsigned ? UCHAR : signed ? SCHAR : CHAR;
    } else if (shorts) {
      if (longs) fail(at, 'both \'long\' and \'short\' in declaration specifiers');
      type = unsigned ? USHORT : SHORT;
    } else if (longs === 2) {
      type = unsigned ? ULLONG : LLONG;
    } else if (longs === 1) {
      type = unsigned ? ULONG : LONG;
    } else {
      type = unsigned ? UINT : INT;
    }
    if (kind === 'void' && (longs || shorts || signed || unsigned)) fail(at, 'two or more data types in declaration specifiers');
    type = qualified(type, isConst, isVolatile);
    if (align) spec.attrs.aligned = Math.max(spec.attrs.aligned ?? 0, align);
    spec.type = type;
    return spec;
  }

  /** `__attribute__((a, b(args)))`, possibly several in a row. */
  private attributes(into: Attributes): void {
    while (this.is('__attribute__') || this.is('__attribute')) {
      this.next();
      this.expect('(');
      this.expect('(');
      while (!this.is(')')) {
        if (this.consume(',')) continue;
        const nameTok = this.tok;
        if (nameTok.kind !== 'ident') fail(locationOf(nameTok), `expected attribute name before ${this.describe(nameTok)}`);
        this.next();
        const name = nameTok.text.replace(/^__(.*)__$/, '$1');
        const args: Node[] = [];
        let argTokens = 0;
        if (this.consume('(')) {
          let depth = 1;
          const start = this.pos;
          if (name === 'aligned' || name === 'section') {
            if (!this.is(')')) args.push(name === 'section' ? this.stringNode() : this.assignment());
            this.expect(')');
          } else {
            while (depth > 0) {
              const t = this.next();
              if (t.kind === 'eof') fail(locationOf(t), 'expected \')\' before end of input');
              if (t.text === '(') depth++;
              if (t.text === ')') depth--;
            }
          }
          argTokens = this.pos - start;
        }
        const at = locationOf(nameTok);
        switch (name) {
          case 'aligned': {
            const v = args.length ? Number(constantValue(args[0], 'requested alignment')) : 16;
            if (v <= 0 || (v & (v - 1)) !== 0) this.error(at, 'requested alignment is not a positive power of 2');
            else into.aligned = Math.max(into.aligned ?? 0, v);
            break;
          }
          case 'packed': into.packed = true; break;
          case 'section':
            if (args[0]?.kind === 'str') into.section = new TextDecoder().decode(args[0].bytes!.slice(0, -1));
            break;
          case 'used': into.used = true; break;
          case 'weak': into.weak = true; break;
          case 'noreturn': into.noreturn = true; break;
          default:
            if (!IGNORED_ATTRIBUTES.has(name)) this.warn(at, `'${nameTok.text}' attribute directive ignored [-Wattributes]`);
        }
        void argTokens;
      }
      this.expect(')');
      this.expect(')');
    }
  }

  /** Attributes and `asm("name")` after a declarator. */
  private declaratorTail(attrs: Attributes): void {
    for (;;) {
      if (this.is('__attribute__') || this.is('__attribute')) {
        this.attributes(attrs);
        continue;
      }
      if (this.is('__asm__') || this.is('asm') || this.is('__asm')) {
        this.next();
        this.expect('(');
        attrs.asmName = this.stringLiteralText();
        this.expect(')');
        continue;
      }
      return;
    }
  }

  private recordOf(t: Type): Type {
    const info = t.record as RecordInfo | undefined;
    return info?.def ?? t;
  }

  /** A record type with its completed definition (if any) and `t`'s qualifiers. */
  private resolved(t: Type): Type {
    if (!isRecord(t)) return t;
    const def = this.recordOf(t);
    if (def === t) return t;
    return qualified(def, !!t.isConst, !!t.isVolatile);
  }

  private recordSpecifier(keyword: string): Type {
    const at = this.here();
    this.next();
    const attrs: Attributes = {};
    this.attributes(attrs);
    let tag: string | undefined;
    if (this.tok.kind === 'ident' && !this.is('__attribute__')) tag = this.next().text;
    if (!tag && !this.is('{')) fail(this.here(), `expected '{' before ${this.describe(this.tok)}`);
    const kind = keyword as 'struct' | 'union';
    let type: Type | undefined;
    if (tag) {
      const isDef = this.is('{');
      const isDeclOnly = this.is(';') && this.peek(-1) !== undefined;
      const local = this.scopes[this.scopes.length - 1].tags.get(tag);
      if (isDef || isDeclOnly) {
        type = local;
        if (type && isDef && type.complete) fail(at, `redefinition of '${kind} ${tag}'`);
      } else {
        type = this.lookupTag(tag);
      }
      if (type && type.kind !== kind) fail(at, `'${tag}' defined as wrong kind of tag`);
      if (!type) {
        type = { kind, size: 0, align: 1, unsigned: false, tag, complete: false, record: {} };
        (type.record as RecordInfo).def = type;
        this.scopes[this.scopes.length - 1].tags.set(tag, type);
      }
      if (!isDef) return type;
    } else {
      type = { kind, size: 0, align: 1, unsigned: false, complete: false, record: {} };
      (type.record as RecordInfo).def = type;
    }
    this.expect('{');
    const decls: MemberDecl[] = [];
    const names = new Set<string>();
    while (!this.consume('}')) {
      if (this.tok.kind === 'eof') fail(this.here(), `expected '}' before end of input`);
      if (this.consume(';')) continue;
      if (this.is('_Static_assert')) {
        this.staticAssert();
        continue;
      }
      const spec = this.declSpecifiers(false);
      if (isRecord(spec.type) && !this.recordOf(spec.type).tag && this.is(';')) {
        // an anonymous struct or union member
        this.next();
        decls.push({ name: null, type: this.recordOf(spec.type), location: this.here(), align: spec.attrs.aligned });
        continue;
      }
      for (;;) {
        const mAt = this.here();
        let d: { type: Type; name: string | null; location: SourceLocation } = { type: spec.type, name: null, location: mAt };
        if (!this.is(':')) d = this.declarator(spec.type);
        const mAttrs: Attributes = { ...spec.attrs };
        this.declaratorTail(mAttrs);
        let bitWidth: number | undefined;
        if (this.consume(':')) {
          const w = this.constExpr();
          if (!isInteger(d.type)) this.error(d.location, `bit-field '${d.name ?? '<anonymous>'}' has invalid type`);
          else if (w < 0n) this.error(d.location, `negative width in bit-field '${d.name ?? '<anonymous>'}'`);
          else if (w > BigInt(d.type.size * 8)) this.error(d.location, `width of '${d.name ?? '<anonymous>'}' exceeds its type`);
          else if (w === 0n && d.name) this.error(d.location, `zero width for bit-field '${d.name}'`);
          else bitWidth = Number(w);
          this.declaratorTail(mAttrs);
        }
        if (d.name) {
          if (names.has(d.name)) this.error(d.location, `duplicate member '${d.name}'`);
          names.add(d.name);
        }
        const mt = this.resolved(d.type);
        if (mt.kind === 'func') this.error(d.location, `field '${d.name}' declared as a function`);
        else if (isRecord(mt) && !mt.complete) this.error(d.location, `field '${d.name}' has incomplete type`);
        else if (mt.kind === 'void') this.error(d.location, `field '${d.name}' has incomplete type`);
        decls.push({ name: d.name, type: mt, bitWidth, align: mAttrs.aligned, location: d.location });
        if (this.consume(',')) continue;
        this.expect(';', 'at end of declaration');
        break;
      }
    }
    this.attributes(attrs);
    layoutRecord(type, decls, !!attrs.packed, attrs.aligned ?? 1);
    return type;
  }

  private enumSpecifier(): Type {
    const at = this.here();
    this.next();
    const attrs: Attributes = {};
    this.attributes(attrs);
    let tag: string | undefined;
    if (this.tok.kind === 'ident') tag = this.next().text;
    if (!tag && !this.is('{')) fail(this.here(), `expected '{' before ${this.describe(this.tok)}`);
    if (tag && !this.is('{')) {
      const t = this.lookupTag(tag);
      if (t) {
        if (t.kind !== 'enum') fail(at, `'${tag}' defined as wrong kind of tag`);
        return t;
      }
      const nt = enumType(tag);
      this.scopes[this.scopes.length - 1].tags.set(tag, nt);
      return nt;
    }
    const type = enumType(tag);
    if (tag) this.scopes[this.scopes.length - 1].tags.set(tag, type);
    this.expect('{');
    let value = 0n;
    let first = true;
    let negative = false;
    while (!this.consume('}')) {
      if (!first) {
        this.expect(',');
        if (this.consume('}')) break;
      }
      first = false;
      const name = this.identifier();
      this.attributes({});
      if (this.consume('=')) value = this.constExpr();
      const prev = this.scopes[this.scopes.length - 1].names.get(name.text);
      if (prev) this.error(locationOf(name), `redeclaration of enumerator '${name.text}'`);
      this.declare(name.text, { enumValue: value });
      if (value < 0n) negative = true;
      value++;
    }
    this.attributes(attrs);
    // as gcc: the enumerated type is unsigned int when no enumerator is negative
    // (the enumeration constants themselves are int)
    type.unsigned = !negative;
    return type;
  }

  // ---- declarators ----

  /** A (possibly abstract) declarator applied to `base`: the declared type and name. */
  private declarator(base: Type): { type: Type; name: string | null; location: SourceLocation; params?: Variable[] } {
    const at = this.here();
    this.enter(at);
    try {
      let type = base;
      while (this.consume('*')) {
        let c = false;
        let v = false;
        for (;;) {
          if (this.is('const') || this.is('__const')) c = true;
          else if (this.is('volatile') || this.is('__volatile__')) v = true;
          else if (this.is('restrict') || this.is('__restrict') || this.is('__restrict__') || this.is('_Atomic')) { /* nothing */ }
          else if (this.is('__attribute__')) {
            this.attributes({});
            continue;
          } else break;
          this.next();
        }
        type = qualified(pointerTo(type), c, v);
      }
      this.attributes({});
      if (this.is('(') && this.startsNestedDeclarator()) {
        const open = this.pos;
        this.next();
        this.skipBalanced();
        const afterInner = this.pos;
        void afterInner;
        const suffixed = this.typeSuffix(type);
        const end = this.pos;
        this.pos = open + 1;
        const inner = this.declarator(suffixed.type);
        this.expect(')');
        this.pos = end;
        return { ...inner, params: inner.params ?? (inner.type === suffixed.type ? suffixed.params : inner.params) };
      }
      let name: string | null = null;
      let location = at;
      if (this.tok.kind === 'ident' && !TYPE_KEYWORDS.has(this.tok.text)) {
        location = this.here();
        name = this.next().text;
      }
      const s = this.typeSuffix(type);
      return { type: s.type, name, location, params: s.params };
    } finally {
      this.leave();
    }
  }

  /** After `(` in a declarator: a nested declarator rather than a parameter list? */
  private startsNestedDeclarator(): boolean {
    const t = this.peek();
    if (t.kind === 'punct') return t.text === '*' || t.text === '(' || t.text === '[';
    if (t.kind !== 'ident') return false;
    if (t.text === '__attribute__') return true;
    return !this.isTypeName(t);
  }

  private skipBalanced(): void {
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'eof') fail(locationOf(t), 'expected \')\' before end of input');
      if (t.text === '(' && t.kind === 'punct') depth++;
      else if (t.text === ')' && t.kind === 'punct') depth--;
    }
  }

  private typeSuffix(type: Type): { type: Type; params?: Variable[] } {
    if (this.is('(')) {
      const at = this.here();
      this.next();
      const { params, vars, variadic, oldStyle } = this.parameterList();
      const rest = this.typeSuffix(type);
      if (rest.type.kind === 'func') fail(at, 'function returns a function');
      if (rest.type.kind === 'array') fail(at, 'function returns an array');
      return { type: funcType(rest.type, params, variadic, oldStyle), params: vars };
    }
    if (this.is('[')) {
      const at = this.here();
      this.next();
      while (this.is('static') || this.is('const') || this.is('restrict') || this.is('__restrict') || this.is('volatile')) this.next();
      let length = -1;
      if (!this.is(']')) {
        const e = this.assignment();
        const v = valueOf(e);
        if (v.kind !== 'num' || !isInteger(v.type!)) fail(e.location, 'variable length arrays are not supported by xk cc');
        const n = v.type!.unsigned ? v.value! : BigInt.asIntN(64, v.value!);
        if (n < 0n) fail(e.location, 'size of array is negative');
        if (n > 1n << 40n) fail(e.location, 'size of array is too large');
        length = Number(n);
      }
      this.expect(']');
      const rest = this.typeSuffix(type);
      if (rest.type.kind === 'func') fail(at, 'declaration of array of functions');
      const el = this.resolved(rest.type);
      if (el.kind === 'void') fail(at, 'declaration of array of voids');
      if (isRecord(el) && !el.complete) fail(at, `array type has incomplete element type '${typeName(el)}'`);
      if (el.kind === 'array' && el.length! < 0) fail(at, 'array type has incomplete element type');
      return { type: arrayOf(el, length) };
    }
    return { type };
  }

  private parameterList(): { params: Param[]; vars: Variable[]; variadic: boolean; oldStyle: boolean } {
    const params: Param[] = [];
    const vars: Variable[] = [];
    if (this.consume(')')) return { params, vars, variadic: false, oldStyle: true };
    if (this.is('void') && this.peek().text === ')') {
      this.next();
      this.next();
      return { params, vars, variadic: false, oldStyle: false };
    }
    let variadic = false;
    for (;;) {
      if (this.consume('...')) {
        variadic = true;
        this.expect(')');
        break;
      }
      const at = this.here();
      if (!this.isTypeName()) {
        if (this.tok.kind === 'ident') fail(at, `unknown type name '${this.tok.text}'`);
        fail(at, `expected declaration specifiers or '...' before ${this.describe(this.tok)}`);
      }
      const spec = this.declSpecifiers();
      const d = this.declarator(spec.type);
      this.declaratorTail({});
      let t = d.type;
      if (t.kind === 'array') t = qualified(pointerTo(t.base!), !!t.isConst, false);
      else if (t.kind === 'func') t = pointerTo(t);
      if (t.kind === 'void') fail(at, '\'void\' must be the only parameter');
      params.push({ name: d.name, type: t, location: d.location });
      vars.push({ name: d.name ?? '', type: t, isLocal: true, symbol: '', isStatic: false, isExtern: false, isDefinition: true, location: d.location });
      if (this.consume(',')) continue;
      this.expect(')');
      break;
    }
    return { params, vars, variadic, oldStyle: false };
  }

  /** A type name (6.7.7): for casts, sizeof, _Alignof, va_arg. */
  private typeName(): Type {
    const spec = this.declSpecifiers(false);
    const d = this.declarator(spec.type);
    if (d.name) fail(d.location, `expected ')' before '${d.name}'`);
    return this.resolved(d.type);
  }

  // ---- functions ----

  private functionDefinition(v: Variable, type: Type, params: Variable[]): void {
    if (v.isDefinition) this.error(v.location ?? this.here(), `redefinition of '${v.name}'`);
    v.isDefinition = true;
    v.type = type;
    const at = this.here();
    const def: FunctionDef = { variable: v, params, locals: [], body: { kind: 'block', stmts: [], location: at }, hasAsm: false, location: v.location ?? at };
    this.fn = { def, type, name: v.name, labels: new Map(), gotos: [] };
    this.pushScope();
    for (const p of params) {
      if (!p.name) {
        this.error(p.location ?? at, 'parameter name omitted');
        continue;
      }
      const rt = this.resolved(p.type);
      if (isRecord(rt) && !rt.complete) this.error(p.location ?? at, `parameter '${p.name}' has incomplete type`);
      p.type = rt;
      this.declare(p.name, { variable: p });
    }
    const rt = this.resolved(type.returnType!);
    if (isRecord(rt) && !rt.complete) this.error(at, `return type is an incomplete type`);
    def.body = this.compoundStatement(false);
    this.popScope();
    for (const g of this.fn.gotos) {
      const l = this.fn.labels.get(g.label!);
      if (!l) this.error(g.location, `label '${g.label}' used but not defined`);
      else g.uniqueLabel = l.uniqueLabel;
    }
    this.fn = null;
    this.unit.functions.push(def);
  }

  private newLabel(what: string): string {
    return `.Lu${what}${this.labelCount++}`;
  }

  private newLocal(name: string, type: Type, at: SourceLocation): Variable {
    const v: Variable = { name, type, isLocal: true, symbol: '', isStatic: false, isExtern: false, isDefinition: true, location: at };
    this.fn?.def.locals.push(v);
    return v;
  }

  // ---- statements ----

  private compoundStatement(newScope = true): Node {
    const at = this.here();
    this.expect('{');
    if (newScope) this.pushScope();
    const stmts: Node[] = [];
    this.enter(at);
    try {
      while (!this.is('}')) {
        if (this.tok.kind === 'eof') fail(this.here(), 'expected \'}\' at end of input');
        const start = this.pos;
        try {
          const s = this.blockItem();
          if (s) stmts.push(s);
        } catch (e) {
          if (!(e instanceof CompileError)) throw e;
          this.report(e);
          this.recover(false);
          if (this.pos === start) this.next();
        }
      }
      this.next();
    } finally {
      this.leave();
      if (newScope) this.popScope();
    }
    return { kind: 'block', stmts, location: at };
  }

  private blockItem(): Node | null {
    if (this.is('_Static_assert')) {
      this.staticAssert();
      return null;
    }
    if (this.isTypeName() && this.peek().text !== ':') {
      if (this.is('__extension__') && !this.isTypeName(this.peek())) {
        return this.statement();
      }
      return this.localDeclaration();
    }
    return this.statement();
  }

  private localDeclaration(): Node | null {
    const at = this.here();
    const spec = this.declSpecifiers();
    if (this.consume(';')) return null;
    const stmts: Node[] = [];
    for (;;) {
      const d = this.declarator(spec.type);
      const attrs = { ...spec.attrs };
      this.declaratorTail(attrs);
      if (!d.name) fail(d.location, 'expected identifier or \'(\'');
      if (spec.isTypedef) {
        this.declareTypedef(d.name, d.type, attrs, d.location);
      } else if (d.type.kind === 'func') {
        if (this.is('{')) fail(this.here(), 'nested functions are not supported by xk cc');
        this.declareFunction(d.name, d.type, spec, attrs, d.location);
      } else if (spec.isExtern) {
        const g = this.globalsByName.get(d.name);
        if (g) {
          if (!sameType(g.type, d.type)) this.error(d.location, `conflicting types for '${d.name}'`);
          this.declare(d.name, { variable: g });
        } else {
          const v: Variable = { name: d.name, type: d.type, isLocal: false, symbol: attrs.asmName ?? d.name, isStatic: false, isExtern: true, isDefinition: false, location: d.location };
          this.globalsByName.set(d.name, v);
          this.unit.globals.push(v);
          this.declare(d.name, { variable: v });
        }
        if (this.is('=')) fail(this.here(), `'${d.name}' has both 'extern' and initializer`);
      } else if (spec.isStatic) {
        const v: Variable = {
          name: d.name, type: d.type, isLocal: false, symbol: `${d.name}.${this.staticCount++}`, isStatic: true,
          isExtern: false, isDefinition: true, location: d.location,
        };
        this.applyAttributes(v, attrs);
        this.checkPrevLocal(d.name, d.location);
        this.declare(d.name, { variable: v });
        this.unit.globals.push(v);
        if (this.consume('=')) this.staticInitializer(v);
        else this.checkComplete(v);
      } else {
        this.checkPrevLocal(d.name, d.location);
        const v = this.newLocal(d.name, d.type, d.location);
        this.applyAttributes(v, attrs);
        if (attrs.asmName !== undefined) {
          const r = fullRegister(attrs.asmName);
          if (!r) fail(d.location, `invalid register name for '${d.name}'`);
          v.asmRegister = r;
        }
        this.declare(d.name, { variable: v });
        if (this.consume('=')) {
          const init = this.newInit(this.resolved(v.type));
          this.initializer(init);
          if (v.type.kind === 'array' && v.type.length! < 0) v.type = arrayOf(v.type.base!, init.children!.length);
          v.type = this.resolved(v.type);
          init.type = v.type;
          stmts.push({ kind: 'decl', variable: v, stmts: this.lowerLocalInit(v, init), location: d.location });
        } else {
          this.checkComplete(v);
          v.type = this.resolved(v.type);
        }
      }
      if (this.consume(',')) continue;
      this.expect(';', 'after declaration');
      break;
    }
    if (stmts.length === 0) return null;
    if (stmts.length === 1) return stmts[0];
    return { kind: 'block', stmts, location: at };
  }

  private checkPrevLocal(name: string, at: SourceLocation): void {
    const prev = this.scopes[this.scopes.length - 1].names.get(name);
    if (prev) this.error(at, prev.typedef ? `'${name}' redeclared as different kind of symbol` : `redeclaration of '${name}' with no linkage`);
  }

  private checkComplete(v: Variable): void {
    const t = this.resolved(v.type);
    if ((isRecord(t) && !t.complete) || (t.kind === 'array' && t.length! < 0) || t.kind === 'void') {
      this.error(v.location!, `storage size of '${v.name}' isn't known`);
    }
  }

  private statement(): Node {
    const at = this.here();
    this.enter(at);
    try {
      return this.statementInner(at);
    } finally {
      this.leave();
    }
  }

  private statementInner(at: SourceLocation): Node {
    const t = this.tok;
    if (t.kind === 'punct') {
      if (t.text === '{') return this.compoundStatement();
      if (t.text === ';') {
        this.next();
        return { kind: 'block', stmts: [], location: at };
      }
    }
    if (t.kind === 'ident') {
      if (this.peek().text === ':' && this.peek().kind === 'punct' && !TYPE_KEYWORDS.has(t.text) && t.text !== 'default') {
        this.next();
        this.next();
        this.attributes({});
        if (!this.fn) fail(at, 'label outside a function');
        const node: Node = { kind: 'label', label: t.text, uniqueLabel: this.newLabel('label'), location: at };
        if (this.fn.labels.has(t.text)) this.error(at, `duplicate label '${t.text}'`);
        this.fn.labels.set(t.text, node);
        node.body = this.is('}') ? { kind: 'block', stmts: [], location: at } : this.statement();
        return node;
      }
      switch (t.text) {
        case 'if': {
          this.next();
          this.expect('(');
          const cond = this.condition(this.expression());
          this.expect(')');
          const then = this.statement();
          const els = this.consume('else') ? this.statement() : undefined;
          return { kind: 'if', cond, then, else: els, location: at };
        }
        case 'while': {
          this.next();
          this.expect('(');
          const cond = this.condition(this.expression());
          this.expect(')');
          const node: Node = { kind: 'for', cond, location: at, breakLabel: this.newLabel('break'), continueLabel: this.newLabel('cont') };
          node.body = this.loopBody(node);
          return node;
        }
        case 'do': {
          this.next();
          const node: Node = { kind: 'dowhile', location: at, breakLabel: this.newLabel('break'), continueLabel: this.newLabel('cont') };
          node.body = this.loopBody(node);
          this.expect('while');
          this.expect('(');
          node.cond = this.condition(this.expression());
          this.expect(')');
          this.expect(';', 'after do-while statement');
          return node;
        }
        case 'for': {
          this.next();
          this.expect('(');
          this.pushScope();
          try {
            const node: Node = { kind: 'for', location: at, breakLabel: this.newLabel('break'), continueLabel: this.newLabel('cont') };
            if (this.isTypeName()) {
              const d = this.localDeclaration();
              if (d) node.init = d;
            } else if (!this.consume(';')) {
              node.init = { kind: 'exprstmt', lhs: this.expression(), location: at };
              this.expect(';', 'in for statement');
            }
            if (!this.is(';')) node.cond = this.condition(this.expression());
            this.expect(';', 'in for statement');
            if (!this.is(')')) node.inc = this.expression();
            this.expect(')');
            node.body = this.loopBody(node);
            return node;
          } finally {
            this.popScope();
          }
        }
        case 'switch': {
          this.next();
          this.expect('(');
          const e = valueOf(this.expression());
          this.expect(')');
          if (!isInteger(e.type!)) fail(e.location, 'switch quantity not an integer');
          const node: Node = { kind: 'switch', cond: convert(e, promote(e.type!)), cases: [], location: at, breakLabel: this.newLabel('break') };
          this.switches.push(node);
          this.breakTargets.push(node);
          try {
            node.body = this.statement();
          } finally {
            this.switches.pop();
            this.breakTargets.pop();
          }
          return node;
        }
        case 'case': case 'default': {
          this.next();
          const sw = this.switches[this.switches.length - 1];
          const node: Node = { kind: 'case', location: at, uniqueLabel: this.newLabel('case') };
          if (t.text === 'case') {
            let low = this.constExpr();
            let high = low;
            if (this.consume('...')) high = this.constExpr();
            this.expect(':');
            if (sw) {
              low = wrap(low, sw.cond!.type!);
              high = wrap(high, sw.cond!.type!);
              if (sw.cases!.some((c) => c.low !== undefined && c.low <= high && low <= c.high!)) this.error(at, 'duplicate case value');
              node.low = low;
              node.high = high;
            }
          } else {
            this.expect(':');
            if (sw?.defaultCase) this.error(at, 'multiple default labels in one switch');
          }
          if (!sw) this.error(at, t.text === 'case' ? 'case label not within a switch statement' : '\'default\' label not within a switch statement');
          else if (t.text === 'case') sw.cases!.push(node);
          else sw.defaultCase = node;
          node.body = this.is('}') ? { kind: 'block', stmts: [], location: at } : this.statement();
          return node;
        }
        case 'break': case 'continue': {
          this.next();
          this.expect(';', `after '${t.text}' statement`);
          const stack = t.text === 'break' ? this.breakTargets : this.continueTargets;
          const target = stack[stack.length - 1];
          if (!target) {
            this.error(at, t.text === 'break' ? 'break statement not within loop or switch' : 'continue statement not within a loop');
            return { kind: 'block', stmts: [], location: at };
          }
          return { kind: t.text, target, label: t.text === 'break' ? target.breakLabel : target.continueLabel, location: at };
        }
        case 'goto': {
          this.next();
          if (this.is('*')) fail(at, 'computed goto is not supported by xk cc');
          const name = this.identifier('label');
          this.expect(';', 'after goto statement');
          const node: Node = { kind: 'goto', label: name.text, location: at };
          this.fn?.gotos.push(node);
          return node;
        }
        case 'return': {
          this.next();
          const rt = this.fn ? this.resolved(this.fn.type.returnType!) : INT;
          if (this.consume(';')) {
            if (rt.kind !== 'void') this.warn(at, '\'return\' with no value, in function returning non-void');
            return { kind: 'return', location: at };
          }
          const e = this.expression();
          this.expect(';', 'after return statement');
          if (rt.kind === 'void') {
            if (valueOf(e).type!.kind !== 'void') this.warn(at, '\'return\' with a value, in function returning void');
            return { kind: 'block', stmts: [{ kind: 'exprstmt', lhs: e, location: at }, { kind: 'return', location: at }], location: at };
          }
          return { kind: 'return', lhs: this.assignTo(e, rt, e.location, 'return'), location: at };
        }
        case '__asm__': case 'asm': case '__asm':
          return this.asmStatement();
      }
    }
    const e = this.expression();
    this.expect(';', 'after expression');
    return { kind: 'exprstmt', lhs: e, location: at };
  }

  private loopBody(node: Node): Node {
    this.breakTargets.push(node);
    this.continueTargets.push(node);
    try {
      return this.statement();
    } finally {
      this.breakTargets.pop();
      this.continueTargets.pop();
    }
  }

  private condition(e: Node): Node {
    return toCondition(e);
  }

  private asmStatement(): Node {
    const at = this.here();
    this.next();
    while (this.is('volatile') || this.is('__volatile__') || this.is('inline') || this.is('goto')) {
      if (this.is('goto')) fail(this.here(), 'asm goto is not supported by xk cc');
      this.next();
    }
    this.expect('(');
    const template = this.stringLiteralText();
    if (this.fn) this.fn.def.hasAsm = true;
    if (this.consume(')')) {
      this.expect(';', 'after asm statement');
      return { kind: 'asm', template, isBasicAsm: true, outputs: [], inputs: [], clobbers: [], location: at };
    }
    const outputs: AsmOperand[] = [];
    const inputs: AsmOperand[] = [];
    const clobbers: string[] = [];
    const operands = (list: AsmOperand[], output: boolean): void => {
      if (!this.consume(':')) return;
      while (!this.is(':') && !this.is(')')) {
        let name: string | undefined;
        if (this.consume('[')) {
          name = this.identifier().text;
          this.expect(']');
        }
        const constraint = this.stringLiteralText();
        this.expect('(');
        const e = this.expression();
        this.expect(')');
        if (output) {
          if (!this.isLvalueNode(e)) this.error(e.location, 'invalid lvalue in asm output');
        }
        if (constraint.includes('m') || output) markAddressTaken(e);
        list.push({ constraint, expr: output || constraint.includes('m') ? e : valueOf(e), name });
        if (!this.consume(',')) break;
      }
    };
    operands(outputs, true);
    operands(inputs, false);
    if (this.consume(':')) {
      while (this.tok.kind === 'string') {
        clobbers.push(this.stringLiteralText());
        if (!this.consume(',')) break;
      }
    }
    this.expect(')');
    this.expect(';', 'after asm statement');
    return { kind: 'asm', template, outputs, inputs, clobbers, isBasicAsm: false, location: at };
  }

  private isLvalueNode(n: Node): boolean {
    return n.kind === 'var' || n.kind === 'deref' || n.kind === 'member' || n.kind === 'compound' || n.kind === 'vaarg';
  }

  // ---- expressions ----

  private constExpr(): bigint {
    const e = this.conditionalExpr();
    return constantValue(e);
  }

  expression(): Node {
    let e = this.assignment();
    while (this.is(',')) {
      const at = this.here();
      this.next();
      const r = this.assignment();
      e = { kind: 'comma', lhs: e, rhs: valueOf(r), type: valueOf(r).type, location: at };
    }
    return e;
  }

  private assignment(): Node {
    const at0 = this.here();
    this.enter(at0);
    try {
      const lhs = this.conditionalExpr();
      const t = this.tok;
      if (t.kind !== 'punct') return lhs;
      if (t.text === '=') {
        this.next();
        const rhs = this.assignment();
        checkModifiable(lhs, 'left operand of assignment');
        return { kind: 'assign', lhs, rhs: this.assignTo(rhs, this.resolved(lhs.type!), locationOf(t), 'assignment'), type: lhs.type, location: locationOf(t) };
      }
      const op = ASSIGN_OPS[t.text];
      if (op) {
        this.next();
        const rhs = this.assignment();
        return this.compoundAssign(op, lhs, rhs, locationOf(t));
      }
      return lhs;
    } finally {
      this.leave();
    }
  }

  /** Assignment conversion with gcc's warnings for pointer mismatches. */
  private assignTo(rhs: Node, to: Type, at: SourceLocation, what: string, argInfo?: string): Node {
    const r = valueOf(rhs);
    const from = r.type!;
    const word = what === 'return' ? 'returning' : what;
    if (to.kind === 'ptr' && from.kind === 'ptr') {
      const a = to.base!;
      const b = from.base!;
      if (a.kind !== 'void' && b.kind !== 'void' && !sameType(unqualified(a), unqualified(b))) {
        if (what === 'passing') this.warn(at, `passing argument ${argInfo} from incompatible pointer type [-Wincompatible-pointer-types]`);
        else if (what === 'return') this.warn(at, `returning '${typeName(from)}' from a function with incompatible return type '${typeName(to)}' [-Wincompatible-pointer-types]`);
        else this.warn(at, `${word} to '${typeName(to)}' from incompatible pointer type '${typeName(from)}' [-Wincompatible-pointer-types]`);
      } else if (b.isConst && !a.isConst) {
        if (what === 'passing') this.warn(at, `passing argument ${argInfo} discards 'const' qualifier from pointer target type [-Wdiscarded-qualifiers]`);
        else this.warn(at, `${word} discards 'const' qualifier from pointer target type [-Wdiscarded-qualifiers]`);
      }
      return convert(r, to, at);
    }
    const mode = what === 'initialization' ? 'initialization' : 'assignment';
    return assignConvert(r, to, at, (l, m) => this.warn(l, what === 'passing' ? m.replace(/^assignment to '[^']*' from '[^']*'/, `passing argument ${argInfo}`) : what === 'return' ? m.replace(/^assignment to '([^']*)' from '([^']*)'/, "returning '$2' from a function with return type '$1'") : m), mode);
  }

  /** Free of side effects, so it may be evaluated twice (x op= y as x = x op y). */
  private isSimple(n: Node): boolean {
    switch (n.kind) {
      case 'var': case 'num': case 'str': return true;
      case 'member': case 'deref': case 'cast': return this.isSimple(n.lhs!);
      case 'add': case 'sub': return this.isSimple(n.lhs!) && this.isSimple(n.rhs!);
      default: return false;
    }
  }

  private compoundAssign(op: string, lhs: Node, rhs: Node, at: SourceLocation): Node {
    checkModifiable(lhs, 'left operand of assignment');
    let target = lhs;
    const pre: Node[] = [];
    if (!this.isSimple(lhs)) {
      // tmp = &object; then work on *tmp (for a bit-field: on tmp->field)
      const base = lhs.kind === 'member' && lhs.bitWidth !== undefined ? lhs.lhs! : lhs;
      if (!this.isLvalueNode(base)) fail(at, 'lvalue required as left operand of assignment');
      const addr = addressOf(base, at);
      const tmp = this.newLocal('', addr.type!, at);
      pre.push({ kind: 'assign', lhs: { kind: 'var', variable: tmp, type: tmp.type, location: at }, rhs: addr, type: tmp.type, location: at });
      const deref: Node = { kind: 'deref', lhs: { kind: 'var', variable: tmp, type: tmp.type, location: at }, type: base.type, location: at };
      target = base === lhs ? deref : { ...lhs, lhs: deref };
    }
    const value = binary(op, target, rhs, at);
    const assign: Node = { kind: 'assign', lhs: target, rhs: convert(value, unqualified(target.type!), at), type: target.type, location: at };
    if (pre.length === 0) return assign;
    return { kind: 'comma', lhs: pre[0], rhs: assign, type: assign.type, location: at };
  }

  private conditionalExpr(): Node {
    const cond = this.binaryExpr(1);
    if (!this.is('?')) return cond;
    const at = this.here();
    this.next();
    this.enter(at);
    try {
      if (this.is(':')) {
        // GNU a ?: b
        this.next();
        const other = this.conditionalExpr();
        if (!this.isSimple(cond)) {
          const v = valueOf(cond);
          const tmp = this.newLocal('', unqualified(v.type!), at);
          const tv: Node = { kind: 'var', variable: tmp, type: tmp.type, location: at };
          const set: Node = { kind: 'assign', lhs: tv, rhs: v, type: tmp.type, location: at };
          const c = conditional(tv, tv, other, at);
          return { kind: 'comma', lhs: set, rhs: c, type: c.type, location: at };
        }
        return conditional(cond, cond, other, at);
      }
      const then = this.expression();
      this.expect(':');
      const els = this.conditionalExpr();
      return conditional(cond, then, els, at);
    } finally {
      this.leave();
    }
  }

  private binaryExpr(minPrec: number): Node {
    let lhs = this.castExpr();
    let chain = 0;
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct') return lhs;
      const prec = BINARY_PRECEDENCE[t.text];
      if (prec === undefined || prec < minPrec) return lhs;
      this.next();
      if (++chain > MAX_CHAIN) fail(locationOf(t), `expression too long (more than ${MAX_CHAIN} operators in a row)`);
      const rhs = prec === 10 ? this.castExpr() : this.binaryExprAbove(prec);
      lhs = binary(t.text, lhs, rhs, locationOf(t));
    }
  }

  private binaryExprAbove(prec: number): Node {
    return this.binaryExpr(prec + 1);
  }

  private castExpr(): Node {
    if (this.is('(') && this.isTypeName(this.peek())) {
      const at = this.here();
      this.enter(at);
      try {
        this.next();
        const type = this.typeName();
        this.expect(')');
        if (this.is('{')) return this.postfix(this.compoundLiteral(type, at));
        const e = this.castExpr();
        if (type.kind !== 'void' && !isScalar(type)) fail(at, `conversion to non-scalar type requested`);
        const v = valueOf(e);
        if (type.kind !== 'void' && !isScalar(v.type!)) fail(at, `aggregate value used where a${isInteger(type) ? 'n integer' : ' pointer'} was expected`);
        return convert(v, type, at);
      } finally {
        this.leave();
      }
    }
    return this.unaryExpr();
  }

  private compoundLiteral(type: Type, at: SourceLocation): Node {
    const init = this.newInit(this.resolved(type));
    this.initializer(init);
    let t = this.resolved(type);
    if (t.kind === 'array' && t.length! < 0) t = arrayOf(t.base!, init.children!.length);
    init.type = t;
    if (!this.fn) {
      const v: Variable = { name: '', type: t, isLocal: false, symbol: `.Lucl.${this.staticCount++}`, isStatic: true, isExtern: false, isDefinition: true, location: at };
      this.unit.globals.push(v);
      v.init = this.lowerStaticInit(init, t);
      return { kind: 'compound', variable: v, stmts: [], type: t, location: at };
    }
    const v = this.newLocal('', t, at);
    return { kind: 'compound', variable: v, stmts: this.lowerLocalInit(v, init), type: t, location: at };
  }

  private unaryExpr(): Node {
    const t = this.tok;
    const at = locationOf(t);
    if (t.kind === 'punct') {
      switch (t.text) {
        case '+': case '-': case '~': case '!':
          this.next();
          this.enter(at);
          try {
            return unary(t.text, this.castExpr(), at);
          } finally {
            this.leave();
          }
        case '*': {
          this.next();
          this.enter(at);
          try {
            return dereference(this.castExpr(), at);
          } finally {
            this.leave();
          }
        }
        case '&': {
          this.next();
          this.enter(at);
          try {
            const e = this.castExpr();
            if (e.kind === 'var' && e.variable!.isLocal && e.variable!.register) fail(at, 'address of register variable requested');
            return addressOf(e, at);
          } finally {
            this.leave();
          }
        }
        case '&&':
          fail(at, 'labels as values are not supported by xk cc');
        // falls through never
        case '++': case '--': {
          this.next();
          this.enter(at);
          try {
            const e = this.unaryExpr();
            return this.compoundAssign(t.text === '++' ? '+' : '-', e, numberNode(1n, INT, at), at);
          } finally {
            this.leave();
          }
        }
      }
    }
    if (t.kind === 'ident') {
      if (t.text === 'sizeof' || t.text === '_Alignof' || t.text === '__alignof__' || t.text === '__alignof') {
        this.next();
        let type: Type;
        if (this.is('(') && this.isTypeName(this.peek())) {
          this.next();
          type = this.typeName();
          this.expect(')');
          if (this.is('{')) type = this.postfix(this.compoundLiteral(type, at)).type!;
        } else {
          this.enter(at);
          try {
            type = this.unaryExpr().type!;
          } finally {
            this.leave();
          }
        }
        type = this.resolved(type);
        if (t.text === 'sizeof') {
          if ((isRecord(type) && !type.complete) || (type.kind === 'array' && type.length! < 0)) {
            fail(at, `invalid application of 'sizeof' to incomplete type '${typeName(type)}'`);
          }
          return numberNode(BigInt(type.size), ULONG, at);
        }
        return numberNode(BigInt(type.align), ULONG, at);
      }
      if (t.text === '__extension__') {
        this.next();
        return this.castExpr();
      }
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    let e = node;
    let chain = 0;
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct') return e;
      const at = locationOf(t);
      if (++chain > MAX_CHAIN) fail(at, `expression too long (more than ${MAX_CHAIN} postfix operators)`);
      switch (t.text) {
        case '[': {
          this.next();
          const index = this.expression();
          this.expect(']');
          const a = valueOf(e);
          const b = valueOf(index);
          if (a.type!.kind !== 'ptr' && b.type!.kind !== 'ptr') fail(at, 'subscripted value is neither array nor pointer nor vector');
          if (!isInteger(a.type!) && !isInteger(b.type!)) fail(at, 'array subscript is not an integer');
          e = dereference(binary('+', a, b, at), at);
          e.type = this.resolved(e.type!);
          continue;
        }
        case '(':
          this.next();
          e = this.call(e, at);
          continue;
        case '.': case '->': {
          this.next();
          const name = this.identifier('identifier');
          let base = e;
          if (t.text === '->') {
            const v = valueOf(e);
            if (v.type!.kind !== 'ptr') fail(at, `invalid type argument of '->' (have '${typeName(v.type!)}')`);
            base = dereference(v, at);
          }
          e = this.member(base, name.text, locationOf(name));
          continue;
        }
        case '++': case '--': {
          this.next();
          // x++ is (x += 1) - 1, in x's type
          const one = numberNode(1n, INT, at);
          const assign = this.compoundAssign(t.text === '++' ? '+' : '-', e, one, at);
          const back = binary(t.text === '++' ? '-' : '+', assign, one, at);
          e = convert(back, unqualified(assign.type!), at);
          continue;
        }
      }
      return e;
    }
  }

  private member(base: Node, name: string, at: SourceLocation): Node {
    const rt = this.resolved(base.type!);
    if (!isRecord(rt)) fail(at, `request for member '${name}' in something not a structure or union`);
    if (!rt.complete) fail(at, `invalid use of undefined type '${typeName(rt)}'`);
    const m: Member | undefined = findMember(rt, name);
    if (!m) fail(at, `'${typeName(rt)}' has no member named '${name}'`);
    let type = this.resolved(m.type);
    type = qualified(type, !!rt.isConst, !!rt.isVolatile);
    const node: Node = { kind: 'member', lhs: { ...base, type: rt }, offset: m.offset, type, location: at };
    if (m.bitWidth !== undefined) {
      node.bitWidth = m.bitWidth;
      node.bitOffset = m.bitOffset;
    }
    return node;
  }

  private call(callee: Node, at: SourceLocation): Node {
    if (callee.kind === 'var' && callee.variable!.isFunction && callee.variable!.symbol === '' && /^__(builtin|atomic)_/.test(callee.variable!.name)) {
      return this.builtinCall(callee.variable!.name, at);
    }
    const f = valueOf(callee);
    const ft = f.type!.kind === 'ptr' ? f.type!.base! : f.type!;
    const name = callee.kind === 'var' ? callee.variable!.name : null;
    if (ft.kind !== 'func') {
      this.skipArguments();
      fail(at, name ? `called object '${name}' is not a function or function pointer` : 'called object is not a function or function pointer');
    }
    const args: Node[] = [];
    const params = ft.params ?? [];
    const argExprs: Node[] = [];
    if (!this.consume(')')) {
      for (;;) {
        argExprs.push(this.assignment());
        if (this.consume(',')) continue;
        this.expect(')');
        break;
      }
    }
    const fname = name ?? '';
    if (!ft.oldStyle) {
      if (argExprs.length < params.length) this.error(at, `too few arguments to function${name ? ` '${fname}'` : ''}`);
      else if (argExprs.length > params.length && !ft.variadic) this.error(at, `too many arguments to function${name ? ` '${fname}'` : ''}`);
    }
    argExprs.forEach((a, i) => {
      if (i < params.length && !ft.oldStyle) {
        const pt = this.resolved(params[i].type);
        args.push(this.assignTo(a, unqualified(pt), a.location, 'passing', `${i + 1} of '${fname}'`));
      } else {
        const v = valueOf(a);
        const vt = this.resolved(v.type!);
        if (vt.kind === 'void') fail(a.location, 'invalid use of void expression');
        args.push(isInteger(vt) ? convert(v, promote(vt)) : v);
      }
    });
    const rt = this.resolved(ft.returnType!);
    const node: Node = { kind: 'call', callee: f, args, funcType: ft, type: unqualified(rt), location: at };
    if (isRecord(rt) && this.fn) node.temp = this.newLocal('', rt, at);
    return node;
  }

  private skipArguments(): void {
    let depth = 1;
    while (depth > 0 && this.tok.kind !== 'eof') {
      const t = this.next();
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
    }
  }

  private builtinCall(name: string, at: SourceLocation): Node {
    const arg = (): Node => this.assignment();
    const end = (): void => {
      this.expect(')');
    };
    const sep = (): void => {
      this.expect(',');
    };
    switch (name) {
      case '__builtin_va_start': {
        const ap = valueOf(arg());
        sep();
        arg();
        end();
        if (!this.fn?.type.variadic) this.error(at, '\'va_start\' used in function with fixed arguments');
        return { kind: 'vastart', lhs: ap, type: VOID, location: at };
      }
      case '__builtin_va_end': {
        const ap = valueOf(arg());
        end();
        return { kind: 'cast', lhs: ap, type: VOID, location: at };
      }
      case '__builtin_va_arg': {
        const ap = valueOf(arg());
        sep();
        const t = this.typeName();
        end();
        return { kind: 'vaarg', lhs: ap, type: t, location: at };
      }
      case '__builtin_va_copy': {
        const d = valueOf(arg());
        sep();
        const s = valueOf(arg());
        end();
        return { kind: 'vacopy', lhs: d, rhs: s, type: VOID, location: at };
      }
      case '__builtin_offsetof': {
        const t = this.resolved(this.typeName());
        sep();
        let type = t;
        let offset = 0n;
        let first = true;
        for (;;) {
          if (first || this.consume('.')) {
            const m = this.identifier();
            if (!isRecord(type) || !type.complete) fail(locationOf(m), 'offsetof of a non-record type');
            const mem = findMember(type, m.text);
            if (!mem) fail(locationOf(m), `'${typeName(type)}' has no member named '${m.text}'`);
            offset += BigInt(mem.offset);
            type = this.resolved(mem.type);
          } else if (this.consume('[')) {
            const i = this.constExpr();
            this.expect(']');
            if (type.kind !== 'array') fail(at, 'subscripted value is not an array');
            offset += i * BigInt(type.base!.size);
            type = type.base!;
          } else break;
          first = false;
        }
        end();
        return numberNode(offset, ULONG, at);
      }
      case '__builtin_expect': {
        const a = arg();
        sep();
        arg();
        end();
        return valueOf(a);
      }
      case '__builtin_constant_p': {
        const a = valueOf(arg());
        end();
        return numberNode(a.kind === 'num' ? 1n : 0n, INT, at);
      }
      case '__builtin_unreachable': case '__builtin_trap': {
        end();
        return { kind: 'asm', template: name === '__builtin_trap' ? 'ud2' : '', isBasicAsm: true, outputs: [], inputs: [], clobbers: [], type: VOID, location: at };
      }
      case '__atomic_exchange_n': case '__atomic_store_n': case '__atomic_load_n': {
        const p = valueOf(arg());
        if (p.type!.kind !== 'ptr') fail(at, `argument 1 of '${name}' must be a non-void pointer type`);
        const bt = this.resolved(p.type!.base!);
        if (!isScalar(bt)) fail(at, `argument 1 of '${name}' must be a pointer to a nonzero size object`);
        let v: Node | undefined;
        if (name !== '__atomic_load_n') {
          sep();
          v = convert(arg(), unqualified(bt));
        }
        sep();
        arg();
        end();
        if (name === '__atomic_load_n') return { kind: 'atomicload', lhs: p, type: unqualified(bt), location: at };
        if (name === '__atomic_store_n') return { kind: 'atomicstore', lhs: p, rhs: v, type: VOID, location: at };
        return { kind: 'xchg', lhs: p, rhs: v, type: unqualified(bt), location: at };
      }
    }
    fail(at, `unknown builtin '${name}'`);
  }

  private primary(): Node {
    const t = this.tok;
    const at = locationOf(t);
    switch (t.kind) {
      case 'number':
        this.next();
        return this.numberConstant(t);
      case 'char':
        this.next();
        return numberNode(BigInt(charValue(t)), INT, at);
      case 'string':
        return this.stringNode();
      case 'punct':
        if (t.text === '(') {
          this.next();
          this.enter(at);
          try {
            if (this.is('{')) {
              // GNU statement expression
              if (!this.fn) fail(at, 'braced-group within expression allowed only inside a function');
              const block = this.compoundStatement();
              this.expect(')');
              const stmts = block.stmts!;
              const last = stmts[stmts.length - 1];
              const type = last?.kind === 'exprstmt' ? valueOf(last.lhs!).type! : VOID;
              if (last?.kind === 'exprstmt') last.lhs = valueOf(last.lhs!);
              return { kind: 'stmtexpr', stmts, type, location: at };
            }
            const e = this.expression();
            this.expect(')');
            return e;
          } finally {
            this.leave();
          }
        }
        break;
      case 'ident': {
        if (t.text === '__func__' || t.text === '__FUNCTION__' || t.text === '__PRETTY_FUNCTION__') {
          this.next();
          const bytes = new TextEncoder().encode((this.fn?.name ?? '') + '\0');
          return { kind: 'str', bytes, type: arrayOf(qualified(CHAR, true, false), bytes.length), location: at };
        }
        if (TYPE_KEYWORDS.has(t.text) || ['if', 'else', 'while', 'for', 'do', 'return', 'switch', 'case', 'default', 'break', 'continue', 'goto', 'sizeof'].includes(t.text)) break;
        this.next();
        const e = this.lookup(t.text);
        if (e?.variable) {
          const v = e.variable;
          v.uses = (v.uses ?? 0) + 1;
          v.isReferenced = true;
          return { kind: 'var', variable: v, type: v.type.kind === 'array' || isRecord(v.type) ? this.resolved(v.type) : v.type, location: at };
        }
        if (e?.enumValue !== undefined) return numberNode(e.enumValue, INT, at);
        if (e?.typedef) fail(at, `expected expression before '${t.text}'`);
        if (this.is('(')) {
          if (t.text.startsWith('__builtin_') || t.text.startsWith('__atomic_')) {
            return { kind: 'var', variable: { name: t.text, type: INT, isLocal: false, symbol: '', isStatic: false, isExtern: false, isDefinition: false, isFunction: true }, type: INT, location: at };
          }
          // implicit declaration: int name()
          this.warn(at, `implicit declaration of function '${t.text}' [-Wimplicit-function-declaration]`);
          const v: Variable = {
            name: t.text, type: funcType(INT, [], false, true), isLocal: false, symbol: t.text, isStatic: false, isExtern: true,
            isDefinition: false, isFunction: true, isReferenced: true, location: at,
          };
          const g = this.globalsByName.get(t.text) ?? v;
          this.globalsByName.set(t.text, g);
          this.scopes[0].names.set(t.text, { variable: g });
          return { kind: 'var', variable: g, type: g.type, location: at };
        }
        this.error(at, this.fn ? `'${t.text}' undeclared (first use in this function)` : `'${t.text}' undeclared here (not in a function)`);
        const dummy: Variable = { name: t.text, type: INT, isLocal: true, symbol: '', isStatic: false, isExtern: false, isDefinition: true, location: at };
        this.declare(t.text, { variable: dummy });
        this.fn?.def.locals.push(dummy);
        return { kind: 'var', variable: dummy, type: INT, location: at };
      }
    }
    fail(at, `expected expression before ${this.describe(t)}`);
  }

  private numberConstant(t: Token): Node {
    const at = locationOf(t);
    const text = t.text;
    const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([a-zA-Z_0-9.]*)$/.exec(text);
    if (!m) {
      if (/^0[xX]/.test(text) ? /[.pP]/.test(text) : /[.eE]/.test(text)) fail(at, NO_FLOATING_POINT);
      if (/^0[0-9]+$/.test(text)) fail(at, `invalid digit in octal constant`);
      fail(at, `invalid integer constant "${text}"`);
    }
    const digits = m[1];
    const suffix = m[2].toLowerCase();
    if (!/^(u|l|ul|lu|ll|ull|llu)?$/.test(suffix) || /lL|Ll/.test(m[2])) {
      if (/^[0-9.]*e/.test(suffix) || suffix.startsWith('.')) fail(at, NO_FLOATING_POINT);
      fail(at, `invalid suffix "${m[2]}" on integer constant`);
    }
    const value = /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
    if (value >= 1n << 64n) {
      this.warn(at, 'integer constant is too large for its type');
      return numberNode(value, ULLONG, at);
    }
    const decimal = /^[1-9]/.test(digits) || digits === '0';
    const u = suffix.includes('u');
    const l = suffix.includes('ll') ? 2 : suffix.includes('l') ? 1 : 0;
    const candidates: Type[] = [];
    if (!u && l === 0) candidates.push(INT);
    if (l === 0 && (u || !decimal)) candidates.push(UINT);
    if (!u && l < 2) candidates.push(LONG);
    if (l < 2 && (u || !decimal)) candidates.push(ULONG);
    if (!u) candidates.push(LLONG);
    if (u || !decimal) candidates.push(ULLONG);
    for (const c of candidates) {
      const bits = BigInt(c.size * 8 - (c.unsigned ? 0 : 1));
      if (value < 1n << bits) return numberNode(value, c, at);
    }
    this.warn(at, 'integer constant is so large that it is unsigned');
    return numberNode(value, ULONG, at);
  }

  /** Adjacent string literals, concatenated: the bytes (with the final NUL) and the element type. */
  private stringNode(): Node {
    const at = this.here();
    if (this.tok.kind !== 'string') fail(at, `expected string literal before ${this.describe(this.tok)}`);
    let width = 1;
    const codes: number[] = [];
    while (this.tok.kind === 'string') {
      const t = this.next();
      const prefix = t.text.slice(0, t.text.indexOf('"'));
      if (prefix === 'L' || prefix === 'U') width = 4;
      else if (prefix === 'u') width = Math.max(width, 2);
      const body = t.text.slice(t.text.indexOf('"') + 1, -1);
      if (prefix === '' || prefix === 'u8') codes.push(...decodeEscapes(body, locationOf(t)));
      else for (const ch of body.replace(/\\(.)/g, '$1')) codes.push(ch.codePointAt(0)!);
    }
    codes.push(0);
    const bytes = new Uint8Array(codes.length * width);
    codes.forEach((c, i) => {
      for (let k = 0; k < width; k++) bytes[i * width + k] = (c >> (8 * k)) & 0xff;
    });
    const el = width === 1 ? CHAR : width === 2 ? USHORT : INT;
    return { kind: 'str', bytes, type: arrayOf(el, codes.length), location: at };
  }

  private stringLiteralText(): string {
    const n = this.stringNode();
    return new TextDecoder().decode(n.bytes!.slice(0, -1));
  }

  // ---- initializers ----

  private newInit(type: Type): Init {
    const t = this.resolved(type);
    const init: Init = { type: t };
    if (t.kind === 'array') {
      if (t.length! < 0) {
        init.growable = true;
        init.children = [];
      } else {
        if (t.length! > 1_000_000 && t.base!.kind !== 'char') init.children = []; // filled on demand
        else init.children = Array.from({ length: t.length! }, () => this.newInit(t.base!));
      }
    } else if (isRecord(t)) {
      if (!t.complete) fail(null, `variable has incomplete type '${typeName(t)}'`);
      init.children = t.members!.map((m) => this.newInit(m.type));
    }
    return init;
  }

  private childCount(init: Init): number {
    const t = init.type;
    if (t.kind === 'array') return init.growable ? Infinity : t.length!;
    return init.children!.length;
  }

  private child(init: Init, i: number): Init {
    if (init.type.kind === 'array') {
      while (init.children!.length <= i) init.children!.push(this.newInit(init.type.base!));
    }
    if (init.type.kind === 'union') init.unionIndex = i;
    return init.children![i];
  }

  private isCharArray(t: Type): boolean {
    return t.kind === 'array' && (t.base!.kind === 'char' || ((t.base!.kind === 'int' || t.base!.kind === 'short') && this.tok.text[0] !== '"'));
  }

  /** One initializer for `init`: braced, a string for a char array, or an expression. */
  private initializer(init: Init): void {
    const at = this.here();
    this.enter(at);
    try {
      if (this.is('{')) {
        if (init.type.kind !== 'array' && !isRecord(init.type)) {
          // { scalar } is allowed
          this.next();
          if (this.is('}')) {
            this.next();
            init.expr = convert(numberNode(0n, INT, at), unqualified(init.type));
            return;
          }
          this.initializer(init);
          this.consume(',');
          while (!this.is('}') && this.tok.kind !== 'eof') {
            this.warn(this.here(), 'excess elements in scalar initializer');
            this.assignment();
            if (!this.consume(',')) break;
          }
          this.expect('}');
          return;
        }
        this.initList(init);
        return;
      }
      if (init.type.kind === 'array' && this.tok.kind === 'string' && this.isCharArray(init.type)) {
        this.stringInit(init);
        return;
      }
      if (init.type.kind === 'array') {
        fail(at, 'invalid initializer');
      }
      const e = this.assignment();
      if (isRecord(init.type)) {
        const v = valueOf(e);
        if (isRecord(v.type!) && sameType(unqualified(this.resolved(v.type!)), unqualified(init.type))) {
          init.expr = v;
          return;
        }
        this.fillElided(init, e);
        return;
      }
      init.expr = this.assignTo(e, unqualified(init.type), e.location, 'initialization');
    } finally {
      this.leave();
    }
  }

  private stringInit(init: Init): void {
    const at = this.here();
    const s = this.stringNode();
    const el = init.type.base!;
    const n = s.bytes!.length / (s.type!.base!.size);
    let len = n;
    if (!init.growable) {
      len = Math.min(n, init.type.length!);
      if (n - 1 > init.type.length!) this.warn(at, 'initializer-string for array of \'char\' is too long');
    }
    const w = s.type!.base!.size;
    for (let i = 0; i < len; i++) {
      let c = 0n;
      for (let k = w - 1; k >= 0; k--) c = (c << 8n) | BigInt(s.bytes![i * w + k]);
      this.child(init, i).expr = numberNode(c, unqualified(el), at);
    }
  }

  private initList(init: Init): void {
    this.expect('{');
    let i = 0;
    let first = true;
    for (;;) {
      if (this.consume('}')) return;
      if (!first) {
        this.expect(',', 'in initializer');
        if (this.consume('}')) return;
      }
      first = false;
      if (this.tok.kind === 'eof') fail(this.here(), 'expected \'}\' before end of input');
      if (this.is('[') || this.is('.') || (this.tok.kind === 'ident' && this.peek().text === ':' && isRecord(init.type))) {
        i = this.designation(init);
        continue;
      }
      if (i >= this.childCount(init) || (init.type.kind === 'union' && i > 0)) {
        this.warn(this.here(), init.type.kind === 'array' ? 'excess elements in array initializer' : 'excess elements in struct initializer');
        this.skipInitializer();
        continue;
      }
      const c = this.child(init, this.nextMember(init, i));
      if (c.type.kind === 'array' && !this.is('{') && !(this.tok.kind === 'string' && this.isCharArray(c.type))) this.fillElided(c);
      else this.initializer(c);
      i = this.nextMember(init, i) + 1;
    }
  }

  /** Skips unnamed bit-fields, which take no initializer. */
  private nextMember(init: Init, i: number): number {
    if (!isRecord(init.type)) return i;
    const ms = init.type.members!;
    while (i < ms.length && ms[i].name === null && ms[i].bitWidth !== undefined) i++;
    return i;
  }

  private skipInitializer(): void {
    if (this.is('{')) {
      this.next();
      let depth = 1;
      while (depth > 0 && this.tok.kind !== 'eof') {
        const t = this.next();
        if (t.text === '{') depth++;
        else if (t.text === '}') depth--;
      }
      return;
    }
    this.assignment();
  }

  /** Brace elision: `sub` takes initializers from the list without braces of its own. */
  private fillElided(sub: Init, pending?: Node): void {
    const n = this.childCount(sub);
    const limit = sub.type.kind === 'union' ? 1 : n;
    let i = 0;
    for (; i < limit; i++) {
      i = this.nextMember(sub, i);
      if (i >= limit) break;
      if (i > 0 || (pending === undefined && i > 0)) {
        if (!(this.is(',') && this.peek().text !== '}' && this.peek().text !== '.' && this.peek().text !== '[')) break;
        this.next();
      }
      const c = this.child(sub, i);
      if (pending !== undefined) {
        const p = pending;
        pending = undefined;
        if (isRecord(c.type)) {
          const v = valueOf(p);
          if (isRecord(v.type!) && sameType(unqualified(this.resolved(v.type!)), unqualified(c.type))) c.expr = v;
          else this.fillElided(c, p);
        } else if (c.type.kind === 'array') {
          this.fillElided(c, p);
        } else {
          c.expr = this.assignTo(p, unqualified(c.type), p.location, 'initialization');
        }
      } else if (this.is('{') || c.type.kind !== 'array' || (this.tok.kind === 'string' && this.isCharArray(c.type))) {
        this.initializer(c);
      } else {
        this.fillElided(c);
      }
      if (sub.growable && !(this.is(',') && this.peek().text !== '}' && this.peek().text !== '.' && this.peek().text !== '[')) break;
    }
  }

  /** `[i] = v`, `.m = v`, `[a ... b] = v`, chains of them, GNU `m: v`; returns the next index. */
  private designation(init: Init): number {
    if (this.tok.kind === 'ident' && this.peek().text === ':') {
      const name = this.next();
      this.next();
      const idx = this.memberIndex(init, name);
      this.designated(init, idx, () => this.initializer(this.child(init, idx)), name.text);
      return idx + 1;
    }
    const at = this.here();
    if (this.consume('[')) {
      if (init.type.kind !== 'array') fail(at, 'array index in non-array initializer');
      const low = this.constExpr();
      let high = low;
      if (this.consume('...')) high = this.constExpr();
      this.expect(']');
      if (low < 0n || high < low || (!init.growable && high >= BigInt(init.type.length!))) fail(at, 'array index in initializer exceeds array bounds');
      if (high - low > 1_000_000n) fail(at, 'designator range too large');
      const c = this.child(init, Number(low));
      this.designatorRest(c);
      for (let k = Number(low) + 1; k <= Number(high); k++) this.copyInit(c, this.child(init, k));
      return Number(high) + 1;
    }
    this.expect('.');
    const name = this.identifier('field name');
    if (!isRecord(init.type)) fail(locationOf(name), `field name not in record or union initializer`);
    const idx = this.memberIndex(init, name);
    this.designated(init, idx, () => this.designatorRest(this.child(init, idx)), name.text);
    return idx + 1;
  }

  /** Index of the member (or the anonymous member containing it). */
  private memberIndex(init: Init, name: Token): number {
    const ms = init.type.members ?? [];
    for (let i = 0; i < ms.length; i++) {
      if (ms[i].name === name.text) return i;
      if (ms[i].name === null && isRecord(ms[i].type) && ms[i].bitWidth === undefined && findMember(ms[i].type, name.text)) return i;
    }
    fail(locationOf(name), `unknown field '${name.text}' specified in initializer`);
  }

  private designated(init: Init, idx: number, then: () => void, name: string): void {
    const m = init.type.members![idx];
    if (m.name === null && m.name !== name) {
      // into the anonymous member: act as if `.name` was written for it
      const c = this.child(init, idx);
      this.pos--; // back onto the name, re-read as a designator of the inner record
      const inner = this.memberIndex(c, this.tok);
      this.next();
      this.designated(c, inner, () => (this.tokens[this.pos - 1].text === ':' ? this.initializer(this.child(c, inner)) : this.designatorRest(this.child(c, inner))), name);
      return;
    }
    then();
  }

  private designatorRest(c: Init): void {
    if (this.is('[') || this.is('.')) {
      if (this.is('[') && c.type.kind !== 'array') fail(this.here(), 'array index in non-array initializer');
      if (this.is('.') && !isRecord(c.type)) fail(this.here(), 'field name not in record or union initializer');
      this.designation(c);
      return;
    }
    this.expect('=', 'in designated initializer');
    this.initializer(c);
  }

  private copyInit(from: Init, to: Init): void {
    to.expr = from.expr;
    to.unionIndex = from.unionIndex;
    if (from.children) {
      from.children.forEach((c, i) => {
        if (to.children![i] === undefined) to.children![i] = this.newInit(c.type);
        this.copyInit(c, to.children![i]);
      });
    }
  }

  /** A local's initializer as expressions: zero the object, then assign each initialized scalar. */
  private lowerLocalInit(v: Variable, init: Init): Node[] {
    const at = v.location!;
    const target: Node = { kind: 'var', variable: v, type: v.type, location: at };
    if (init.expr && !init.children?.some((c) => c.expr || c.children)) {
      if (isRecord(init.type) || init.type.kind !== 'array') return [{ kind: 'assign', lhs: target, rhs: init.expr, type: v.type, location: at }];
    }
    if (!init.children) {
      return [{ kind: 'memzero', variable: v, size: v.type.size, type: VOID, location: at }];
    }
    const out: Node[] = [{ kind: 'memzero', variable: v, size: v.type.size, type: VOID, location: at }];
    this.lowerInto(target, init, out);
    return out;
  }

  private lowerInto(target: Node, init: Init, out: Node[]): void {
    const at = target.location;
    if (init.expr) {
      out.push({ kind: 'assign', lhs: target, rhs: init.expr, type: target.type, location: at });
      return;
    }
    if (!init.children) return;
    if (init.type.kind === 'array') {
      init.children.forEach((c, i) => {
        if (!this.hasValue(c)) return;
        const el = dereference(binary('+', valueOf(target), numberNode(BigInt(i), LONG, at), at), at);
        this.lowerInto(el, c, out);
      });
      return;
    }
    const ms = init.type.members!;
    init.children.forEach((c, i) => {
      if (init.type.kind === 'union' && init.unionIndex !== i) return;
      if (!this.hasValue(c)) return;
      const m = ms[i];
      const node: Node = { kind: 'member', lhs: target, offset: m.offset, type: m.type, location: at };
      if (m.bitWidth !== undefined) {
        node.bitWidth = m.bitWidth;
        node.bitOffset = m.bitOffset;
      }
      this.lowerInto(node, c, out);
    });
  }

  private hasValue(init: Init): boolean {
    return init.expr !== undefined || (init.children?.some((c) => this.hasValue(c)) ?? false);
  }

  private staticInitializer(v: Variable): void {
    const init = this.newInit(this.resolved(v.type));
    this.initializer(init);
    let t = this.resolved(v.type);
    if (t.kind === 'array' && t.length! < 0) t = arrayOf(t.base!, init.children!.length);
    v.type = t;
    init.type = t;
    v.init = this.lowerStaticInit(init, t);
  }

  private lowerStaticInit(init: Init, t: Type): StaticInit {
    if (t.size > 1 << 28) fail(null, 'static object too large for xk cc');
    const bytes = new Uint8Array(t.size);
    const relocations: StaticInit['relocations'] = [];
    this.writeInit(init, bytes, 0, relocations, undefined);
    return { bytes, relocations };
  }

  private writeInit(init: Init, bytes: Uint8Array, offset: number, relocs: StaticInit['relocations'], bits?: { width: number; offset: number }): void {
    if (init.expr) {
      const t = init.type;
      if (isRecord(t)) {
        const e = init.expr;
        if (e.kind === 'compound' && e.variable?.init) {
          bytes.set(e.variable.init.bytes, offset);
          for (const r of e.variable.init.relocations) relocs.push({ ...r, offset: r.offset + offset });
          return;
        }
        fail(e.location, 'initializer element is not constant');
      }
      const c = this.evalConstant(init.expr);
      if (c.symbol !== undefined) {
        if (t.size !== 8) fail(init.expr.location, 'initializer element is not computable at load time');
        relocs.push({ offset, symbol: c.symbol, addend: Number(c.value) });
        return;
      }
      if (bits) {
        let word = 0n;
        const span = Math.ceil((bits.offset + bits.width) / 8);
        for (let k = 0; k < span; k++) word |= BigInt(bytes[offset + k]) << BigInt(8 * k);
        const mask = ((1n << BigInt(bits.width)) - 1n) << BigInt(bits.offset);
        word = (word & ~mask) | ((c.value << BigInt(bits.offset)) & mask);
        for (let k = 0; k < span; k++) bytes[offset + k] = Number((word >> BigInt(8 * k)) & 0xffn);
        return;
      }
      const v = BigInt.asUintN(64, c.value);
      for (let k = 0; k < t.size; k++) bytes[offset + k] = Number((v >> BigInt(8 * k)) & 0xffn);
      return;
    }
    if (!init.children) return;
    if (init.type.kind === 'array') {
      const size = init.type.base!.size;
      init.children.forEach((c, i) => this.writeInit(c, bytes, offset + i * size, relocs));
      return;
    }
    const ms = init.type.members!;
    init.children.forEach((c, i) => {
      if (init.type.kind === 'union' && init.unionIndex !== i) return;
      const m = ms[i];
      this.writeInit(c, bytes, offset + m.offset, relocs, m.bitWidth !== undefined ? { width: m.bitWidth, offset: m.bitOffset! } : undefined);
    });
  }

  /** A constant initializer's value: a number, or a symbol's address plus a number. */
  private evalConstant(n: Node): { symbol?: string; value: bigint } {
    switch (n.kind) {
      case 'num': return { value: n.value! };
      case 'cast': {
        const lt = n.lhs!.type!;
        if (lt.kind === 'array' || lt.kind === 'func') return this.evalAddress(n.lhs!);
        const c = this.evalConstant(n.lhs!);
        if (c.symbol === undefined) return { value: wrap(c.value, n.type!) };
        if (n.type!.size < 8) fail(n.location, 'initializer element is not computable at load time');
        return c;
      }
      case 'addr': return this.evalAddress(n.lhs!);
      case 'add': case 'sub': {
        const a = this.evalConstant(n.lhs!);
        const b = this.evalConstant(n.rhs!);
        if (b.symbol !== undefined && (n.kind === 'sub' || a.symbol !== undefined)) break;
        if (b.symbol !== undefined) return { symbol: b.symbol, value: a.value + b.value };
        return { symbol: a.symbol, value: n.kind === 'add' ? a.value + b.value : a.value - b.value };
      }
      case 'cond': {
        const c = this.evalConstant(n.cond!);
        if (c.symbol !== undefined) break;
        return this.evalConstant(c.value !== 0n ? n.then! : n.else!);
      }
      case 'comma': return this.evalConstant(n.rhs!);
    }
    fail(n.location, 'initializer element is not constant');
  }

  private evalAddress(n: Node): { symbol?: string; value: bigint } {
    switch (n.kind) {
      case 'var': {
        const v = n.variable!;
        if (v.isLocal) break;
        return { symbol: v.symbol, value: 0n };
      }
      case 'str': {
        const symbol = `.Lustr.${this.literalCount++}`;
        this.unit.literals.set(symbol, n.bytes!);
        return { symbol, value: 0n };
      }
      case 'deref': return this.evalConstant(n.lhs!);
      case 'member': {
        const b = this.evalAddress(n.lhs!);
        return { symbol: b.symbol, value: b.value + BigInt(n.offset!) };
      }
      case 'compound':
        if (!n.variable!.isLocal) return { symbol: n.variable!.symbol, value: 0n };
        break;
      case 'cast':
        return this.evalAddress(n.lhs!);
    }
    fail(n.location, 'initializer element is not constant');
  }
}

export { decay };
