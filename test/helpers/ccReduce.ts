// A test-case reducer for C programs on which xk cc and gcc disagree: it drops
// functions (with the lines that call them), statements and blocks, then
// replaces parenthesized expressions by 0, 1 or one of their operands, keeping
// each change after which the program is still "interesting" (the
// disagreement persists). Candidates are judged in batches, so that one gcc
// pass and one boot of xk (ccDifferential.ts) test many of them at once.
//
// It works on lines, as the generated programs are written (a statement or a
// declaration a line, a block from the line that opens it to the line that
// closes it), and needs no parser of its own.

/** For each candidate text, whether it still shows the disagreement. */
export type BatchPredicate = (candidates: string[]) => Promise<boolean[]>;

export interface ReduceResult {
  source: string;
  /** Candidates judged. */
  tried: number;
  /** Changes kept. */
  kept: number;
}

interface Unit { from: number; to: number }

/** Brace depth change of a line (braces in strings and character constants do not count). */
function braceDelta(line: string): number {
  let d = 0;
  const code = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\/\/.*$/g, '');
  for (const c of code) {
    if (c === '{') d++;
    else if (c === '}') d--;
  }
  return d;
}

/** Lines and blocks that can be deleted as a whole: a balanced line, or a block from its opening line to its closing one. */
function units(lines: string[]): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < lines.length; i++) {
    const d = braceDelta(lines[i]);
    if (d < 0 || /^\s*#/.test(lines[i])) continue;
    if (d === 0) {
      if (lines[i].trim() !== '') out.push({ from: i, to: i });
      continue;
    }
    let depth = d;
    let j = i + 1;
    for (; j < lines.length && depth > 0; j++) depth += braceDelta(lines[j]);
    if (depth === 0) out.push({ from: i, to: j - 1 });
  }
  return out;
}

/** The name a unit declares: a function it defines, or the variable a declaration line declares. */
function declaredName(lines: string[], u: Unit): string | null {
  const m = u.from === u.to
    ? /^\s*(?:(?:static|const|unsigned|signed|char|short|int|long|_Bool|struct \w+)\s+\**)+([A-Za-z_]\w*)\s*(?:=|;|\[)/.exec(lines[u.from])
    : /^[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\(/.exec(lines[u.from]);
  return m && m[1] !== 'main' && !/^(if|for|while|switch|do|return)$/.test(m[1]) ? m[1] : null;
}

/**
 * Deleting a unit: a declaration goes with the balanced lines that use what it
 * declares, and so on for what those lines declared; a deletion that would
 * take a return statement is not tried (nor is deleting one).
 */
function deletions(lines: string[]): Set<number>[] {
  const all = units(lines);
  const byLine = new Map(all.map((u) => [u.from, u]));
  const out: Set<number>[] = [];
  const add = (u: Unit, removed: Set<number>): boolean => {
    for (let i = u.from; i <= u.to; i++) removed.add(i);
    const name = declaredName(lines, u);
    if (name === null) return true;
    const use = new RegExp(`\\b${name}\\b`);
    for (let i = 0; i < lines.length; i++) {
      if (removed.has(i) || !use.test(lines[i])) continue;
      const v = byLine.get(i);
      if (v === undefined || v.from !== v.to || /\breturn\b/.test(lines[i])) return false;
      if (!add(v, removed)) return false;
    }
    return true;
  };
  for (const u of all) {
    // a function without its return statement would return garbage
    if (u.from === u.to && /\breturn\b/.test(lines[u.from])) continue;
    const removed = new Set<number>();
    if (add(u, removed)) out.push(removed);
  }
  // runs of consecutive one-line units (the printf lines of main, a function's statements)
  for (let size = 32; size >= 2; size /= 2) {
    for (let i = 0; i + size <= lines.length; i += size) {
      const run = Array.from({ length: size }, (_, k) => byLine.get(i + k));
      if (run.every((v) => v !== undefined && v.from === v.to && !/\breturn\b/.test(lines[v.from]) && declaredName(lines, v) === null)) {
        out.push(new Set(run.map((v) => v!.from)));
      }
    }
  }
  // the big deletions first: they shrink the most when they work
  return out.sort((a, b) => b.size - a.size);
}

/** The parenthesized groups of a line: [start, end] of each '(' ... ')' pair. */
function groups(line: string): [number, number][] {
  const out: [number, number][] = [];
  const open: number[] = [];
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') open.push(i);
    else if (c === ')' && open.length > 0) out.push([open.pop()!, i]);
  }
  return out.sort((a, b) => (b[1] - b[0]) - (a[1] - a[0]));
}

/** Replacements of one expression of a line by something simpler. */
function simplifications(lines: string[]): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  lines.forEach((line, n) => {
    if (/^\s*#/.test(line) || /printf|^\S.*\)\s*\{\s*$/.test(line)) return;
    const gs = groups(line);
    for (const [s, e] of gs) {
      const inner = line.slice(s + 1, e);
      // a cast's type, a call's arguments or a declaration's parameters stay
      if (/^\s*(unsigned|signed|char|short|int|long|_Bool|struct|void)\b[\w\s*]*$/.test(inner)) continue;
      if (s > 0 && /\w/.test(line[s - 1])) continue;
      const replace = (t: string): void => { if (t !== inner) out.push({ line: n, text: line.slice(0, s) + '(' + t + ')' + line.slice(e + 1) }); };
      replace('0');
      replace('1');
      for (const [cs, ce] of gs) if (cs > s && ce < e && !(line[cs - 1] ?? '').match(/\w/)) replace(line.slice(cs + 1, ce));
    }
  });
  return out;
}

type Candidate = { kind: 'delete'; removed: Set<number> } | { kind: 'rewrite'; line: number; text: string };

function apply(lines: string[], c: Candidate): string[] {
  if (c.kind === 'delete') return lines.filter((_, i) => !c.removed.has(i));
  const copy = [...lines];
  copy[c.line] = c.text;
  return copy;
}

/**
 * Shrinks `source` while `interesting` holds, `batch` candidates at a time,
 * judging at most `budget` candidates. `source` itself must be interesting.
 */
export async function reduce(source: string, interesting: BatchPredicate, batch = 24, budget = 2000): Promise<ReduceResult> {
  let lines = source.split('\n');
  let tried = 0;
  let kept = 0;
  const passes: ((l: string[]) => Candidate[])[] = [
    (l) => deletions(l).map((removed) => ({ kind: 'delete', removed })),
    (l) => simplifications(l).map(({ line, text }) => ({ kind: 'rewrite', line, text })),
  ];
  let progress = true;
  while (progress && tried < budget) {
    progress = false;
    for (const pass of passes) {
      for (let cursor = 0; tried < budget;) {
        const candidates = pass(lines).slice(cursor, cursor + batch);
        if (candidates.length === 0) break;
        const texts = candidates.map((c) => apply(lines, c).join('\n'));
        const verdicts = await interesting(texts);
        tried += texts.length;
        const winner = verdicts.indexOf(true);
        if (winner < 0) {
          cursor += candidates.length;
          continue;
        }
        // several deletions that each work: try them all at once
        const deletes = candidates.filter((c, i) => verdicts[i] && c.kind === 'delete') as { kind: 'delete'; removed: Set<number> }[];
        let next = apply(lines, candidates[winner]);
        if (deletes.length > 1) {
          const union = { kind: 'delete' as const, removed: new Set(deletes.flatMap((d) => [...d.removed])) };
          const together = apply(lines, union);
          tried++;
          if ((await interesting([together.join('\n')]))[0]) next = together;
        }
        lines = next;
        kept++;
        progress = true;
        cursor += winner;
      }
    }
  }
  return { source: lines.join('\n'), tried, kept };
}
