// The layers of docs/DESIGN.md, checked on the code: every import in src/ points
// down. The table is read from docs/DESIGN.md itself (its "Layers" section), so
// the document and this test cannot disagree: a new upward import fails here,
// and so does a change of the table that the code does not follow.
//
// Imports are found by the TypeScript parser (static imports, `export ... from`,
// dynamic import()), not by a regex. A second test forbids import cycles among
// the modules' run-time (value) imports anywhere in src/; type-only imports may
// refer to each other (an interface naming the type that implements it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { repositoryRoot } from '../src/kernel/trap/kernelTextFiles.js';

const ROOT = repositoryRoot();
const SRC = join(ROOT, 'src');

/** folder under src/ -> the folders it may import ('*' = everything). */
function layerTable(): Map<string, Set<string>> {
  const design = readFileSync(join(ROOT, 'docs', 'DESIGN.md'), 'utf8');
  const section = design.split(/^## /m).find((s) => s.startsWith('Layers'));
  assert.ok(section, 'docs/DESIGN.md has a "## Layers" section');
  const rows = [...section.matchAll(/^\| src\/(\w+) \|[^\n]*\| ([^|\n]+) \|$/gm)];
  const folders = new Set(rows.map((r) => r[1]));
  const table = new Map<string, Set<string>>();
  for (const [, folder, column] of rows) {
    const words = column.replace(/\([^)]*\)/g, '').split(',').map((w) => w.trim()).filter(Boolean);
    const allowed = new Set<string>();
    for (const w of words) {
      if (w === 'everything') allowed.add('*');
      else if (w !== 'nothing') {
        assert.ok(folders.has(w), `docs/DESIGN.md: src/${folder} may import "${w}", which is not a layer of the table`);
        allowed.add(w);
      }
    }
    table.set(folder, allowed);
  }
  return table;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

interface Import {
  /** The imported file (absolute, .ts), or the bare module name ('node:fs', 'typescript'). */
  target: string;
  /** Erased at compile time: `import type`, or every name imported is a type. */
  typeOnly: boolean;
  line: number;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (specifier: ts.Expression, typeOnly: boolean, node: ts.Node): void => {
    if (!ts.isStringLiteral(specifier)) return;
    const name = specifier.text;
    const target = name.startsWith('.') ? resolve(dirname(file), name).replace(/\.js$/, '.ts') : name;
    out.push({ target, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly, node);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
      add(node.arguments[0], false, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const layerOf = (file: string): string => relative(SRC, file).split(sep)[0];
const FILES = sourceFiles(SRC);

test('every import in src/ points down the layers of docs/DESIGN.md', () => {
  const table = layerTable();
  for (const layer of ['isa', 'machine', 'toolchain', 'kernel', 'vmm', 'trace', 'cli']) assert.ok(table.has(layer), `docs/DESIGN.md lists src/${layer}`);
  const offenders: string[] = [];
  let checked = 0;
  for (const file of FILES) {
    const from = layerOf(file);
    const allowed = table.get(from);
    if (!allowed) {
      offenders.push(`${relative(ROOT, file)}: src/${from} is not a layer of docs/DESIGN.md`);
      continue;
    }
    for (const imp of importsOf(file)) {
      if (!imp.target.startsWith(SRC + sep)) continue; // node:*, typescript
      checked++;
      const to = layerOf(imp.target);
      if (to === from || allowed.has('*') || allowed.has(to)) continue;
      offenders.push(`${relative(ROOT, file)}:${imp.line}: src/${from} imports src/${to} (${relative(ROOT, imp.target)})`);
    }
  }
  assert.ok(checked > 300, `only ${checked} imports between src files were found: is the parser finding them?`);
  assert.deepEqual(offenders, []);
});

test('no import cycle among the run-time imports of src/', () => {
  const graph = new Map<string, string[]>();
  for (const file of FILES) {
    graph.set(file, importsOf(file).filter((i) => !i.typeOnly && i.target.startsWith(SRC + sep)).map((i) => i.target));
  }
  // Depth-first search; a grey node reached again closes a cycle.
  const state = new Map<string, 'grey' | 'black'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'grey');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'grey') cycles.push([...stack.slice(stack.indexOf(g)), g].map((x) => relative(SRC, x)).join(' -> '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'black');
  };
  for (const f of FILES) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
