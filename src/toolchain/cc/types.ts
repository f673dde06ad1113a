// C types as the System V x86-64 ABI lays them out: sizes, alignments, struct
// and union layout with bit-fields, and the conversions of C11 6.3.
//
//   _Bool 1, char 1 (signed, as gcc on x86-64), short 2, int 4, long 8,
//   long long 8, pointers 8; every scalar aligned to its size.

import type { SourceLocation } from './diagnostics.js';

export type TypeKind = 'void' | 'bool' | 'char' | 'short' | 'int' | 'long' | 'enum' | 'ptr' | 'array' | 'func' | 'struct' | 'union';

export interface Member {
  name: string | null;
  type: Type;
  offset: number;
  /** Bit-fields: width in bits and the first bit, counted from bit 0 of the byte at `offset`. */
  bitWidth?: number;
  bitOffset?: number;
}

export interface Param {
  name: string | null;
  type: Type;
  location?: SourceLocation;
}

export interface Type {
  kind: TypeKind;
  size: number;
  align: number;
  unsigned: boolean;
  /** `long long` (the same as long here, kept for messages). */
  longLong?: boolean;
  isConst?: boolean;
  isVolatile?: boolean;
  /** Pointer target, array element. */
  base?: Type;
  /** Array length; -1 for an incomplete array (`int a[]`). */
  length?: number;
  // struct/union
  members?: Member[];
  tag?: string;
  complete?: boolean;
  packed?: boolean;
  /** Unique object: two struct types are the same only if `record` is the same. */
  record?: object;
  // function
  returnType?: Type;
  params?: Param[];
  variadic?: boolean;
  /** `int f()`: no prototype. */
  oldStyle?: boolean;
  /** Name for messages (typedef or tag). */
  name?: string;
}

function scalar(kind: TypeKind, size: number, unsigned: boolean): Type {
  return { kind, size, align: size, unsigned };
}

export const VOID: Type = { kind: 'void', size: 1, align: 1, unsigned: false };
export const BOOL = scalar('bool', 1, true);
export const CHAR = scalar('char', 1, false);
export const SCHAR: Type = { ...scalar('char', 1, false), name: 'signed char' };
export const UCHAR = scalar('char', 1, true);
export const SHORT = scalar('short', 2, false);
export const USHORT = scalar('short', 2, true);
export const INT = scalar('int', 4, false);
export const UINT = scalar('int', 4, true);
export const LONG = scalar('long', 8, false);
export const ULONG = scalar('long', 8, true);
export const LLONG: Type = { ...scalar('long', 8, false), longLong: true };
export const ULLONG: Type = { ...scalar('long', 8, true), longLong: true };

export function pointerTo(base: Type): Type {
  return { kind: 'ptr', size: 8, align: 8, unsigned: true, base };
}

export function arrayOf(base: Type, length: number): Type {
  return { kind: 'array', size: length < 0 ? 0 : base.size * length, align: base.align, unsigned: false, base, length };
}

export function funcType(returnType: Type, params: Param[], variadic: boolean, oldStyle: boolean): Type {
  return { kind: 'func', size: 1, align: 1, unsigned: false, returnType, params, variadic, oldStyle };
}

export function enumType(name?: string): Type {
  return { kind: 'enum', size: 4, align: 4, unsigned: false, name };
}

export function isInteger(t: Type): boolean {
  return t.kind === 'bool' || t.kind === 'char' || t.kind === 'short' || t.kind === 'int' || t.kind === 'long' || t.kind === 'enum';
}

export function isPointerLike(t: Type): boolean {
  return t.kind === 'ptr' || t.kind === 'array' || t.kind === 'func';
}

export function isScalar(t: Type): boolean {
  return isInteger(t) || t.kind === 'ptr';
}

export function isRecord(t: Type): boolean {
  return t.kind === 'struct' || t.kind === 'union';
}

/** The type without const/volatile (and without a typedef's name). */
export function unqualified(t: Type): Type {
  if (!t.isConst && !t.isVolatile) return t;
  const u = { ...t };
  delete u.isConst;
  delete u.isVolatile;
  return u;
}

export function qualified(t: Type, isConst: boolean, isVolatile: boolean): Type {
  if (!isConst && !isVolatile) return t;
  return { ...t, isConst: t.isConst || isConst, isVolatile: t.isVolatile || isVolatile };
}

/** Integer conversion rank (6.3.1.1): bool < char < short < int < long. */
function rank(t: Type): number {
  switch (t.kind) {
    case 'bool': return 1;
    case 'char': return 2;
    case 'short': return 3;
    case 'int': case 'enum': return 4;
    default: return 5;
  }
}

/** Integer promotion (6.3.1.1p2): anything narrower than int becomes int. */
export function promote(t: Type): Type {
  if (t.kind === 'enum') return t.unsigned ? UINT : INT;
  if (rank(t) < 4) return INT;
  return unqualified(t);
}

/** The usual arithmetic conversions (6.3.1.8) for integer operands. */
export function usualArithmetic(a: Type, b: Type): Type {
  const x = promote(a);
  const y = promote(b);
  if (x.size !== y.size) return x.size > y.size ? x : y;
  if (x.unsigned) return x;
  if (y.unsigned) return y;
  return x.longLong ? x : y;
}

/** Compatible types (6.2.7), loosely: what an assignment or redeclaration may mix. */
export function sameType(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind === 'enum' && b.kind === 'int' || a.kind === 'int' && b.kind === 'enum') return a.unsigned === b.unsigned;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'ptr': return sameType(a.base!, b.base!);
    case 'array': return sameType(a.base!, b.base!) && (a.length! < 0 || b.length! < 0 || a.length === b.length);
    case 'struct': case 'union': return a.record === b.record;
    case 'enum': return true;
    case 'func':
      if (!sameType(a.returnType!, b.returnType!)) return false;
      if (a.oldStyle || b.oldStyle) return true;
      if (a.params!.length !== b.params!.length || !!a.variadic !== !!b.variadic) return false;
      return a.params!.every((p, i) => sameType(unqualified(decay(p.type)), unqualified(decay(b.params![i].type))));
    default: return a.size === b.size && a.unsigned === b.unsigned && (a.kind !== 'char' || a.name === b.name || a.unsigned);
  }
}

/** Arrays and functions used as values become pointers (6.3.2.1). */
export function decay(t: Type): Type {
  if (t.kind === 'array') return pointerTo(t.base!);
  if (t.kind === 'func') return pointerTo(t);
  return t;
}

/** How C spells the type, for messages. */
export function typeName(t: Type): string {
  const q = (t.isConst ? 'const ' : '') + (t.isVolatile ? 'volatile ' : '');
  switch (t.kind) {
    case 'void': return q + 'void';
    case 'bool': return q + '_Bool';
    case 'char': return q + (t.name === 'signed char' ? 'signed char' : t.unsigned ? 'unsigned char' : 'char');
    case 'short': return q + (t.unsigned ? 'unsigned short' : 'short');
    case 'int': return q + (t.unsigned ? 'unsigned int' : 'int');
    case 'long': return q + (t.unsigned ? 'unsigned ' : '') + (t.longLong ? 'long long' : 'long');
    case 'enum': return q + `enum ${t.name ?? '<anonymous>'}`;
    case 'struct': case 'union': return q + `${t.kind} ${t.tag ?? '<anonymous>'}`;
    case 'ptr':
      if (t.base!.kind === 'func') return `${typeName(t.base!.returnType!)} (*)(${paramList(t.base!)})`;
      return `${typeName(t.base!)} *${q.trim() ? ' ' + q.trim() : ''}`;
    case 'array': return `${typeName(t.base!)}[${t.length! >= 0 ? t.length : ''}]`;
    case 'func': return `${typeName(t.returnType!)} (${paramList(t)})`;
  }
}

function paramList(f: Type): string {
  const ps = f.params!.map((p) => typeName(p.type));
  if (f.variadic) ps.push('...');
  return ps.length === 0 ? (f.oldStyle ? '' : 'void') : ps.join(', ');
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export interface MemberDecl {
  name: string | null;
  type: Type;
  bitWidth?: number;
  /** _Alignas / __attribute__((aligned)) on the member. */
  align?: number;
  location: SourceLocation;
}

/**
 * Lays out a struct or union in place (SysV): members in order at their
 * alignment; a bit-field goes at the next free bit unless it would cross a
 * unit of its declared type, then at the next such unit; `:0` moves to the next
 * unit. Unnamed bit-fields do not raise the struct's alignment.
 */
export function layoutRecord(t: Type, decls: MemberDecl[], packed: boolean, minAlign: number): void {
  const isUnion = t.kind === 'union';
  let bit = 0; // next free bit (struct)
  let size = 0;
  let align = 1;
  const members: Member[] = [];
  for (const d of decls) {
    const ta = packed ? 1 : Math.max(d.align ?? 1, d.type.align);
    if (d.bitWidth !== undefined) {
      const unitBits = d.type.size * 8;
      if (d.bitWidth === 0) {
        if (!isUnion) bit = alignUp(bit, unitBits);
        continue;
      }
      let start = isUnion ? 0 : bit;
      if (!packed && Math.floor(start / unitBits) !== Math.floor((start + d.bitWidth - 1) / unitBits)) start = alignUp(start, unitBits);
      const offset = Math.floor(start / 8);
      members.push({ name: d.name, type: d.type, offset, bitWidth: d.bitWidth, bitOffset: start - offset * 8 });
      if (d.name !== null) align = Math.max(align, ta);
      bit = start + d.bitWidth;
      size = Math.max(size, Math.ceil(bit / 8));
      continue;
    }
    const offset = isUnion ? 0 : alignUp(Math.ceil(bit / 8), ta);
    members.push({ name: d.name, type: d.type, offset });
    align = Math.max(align, ta);
    bit = isUnion ? 0 : (offset + d.type.size) * 8;
    size = Math.max(size, offset + d.type.size);
  }
  align = Math.max(align, minAlign);
  t.members = members;
  t.align = align;
  t.size = alignUp(size, align);
  t.complete = true;
  t.packed = packed;
}

/** Finds a member by name, looking into anonymous struct/union members; the offset is from the outer record. */
export function findMember(t: Type, name: string): Member | undefined {
  for (const m of t.members ?? []) {
    if (m.name === name) return m;
    if (m.name === null && isRecord(m.type) && m.bitWidth === undefined) {
      const inner = findMember(m.type, name);
      if (inner) return { ...inner, offset: m.offset + inner.offset };
    }
  }
  return undefined;
}
