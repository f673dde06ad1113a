// The monitor fuzzer's minimizer: shrink a guest on which the bare machine and
// the monitor disagree, keeping the disagreement. Greedy and deterministic:
// drop whole blocks, then single atoms (an atom is a run of lines ending in its
// own label, guestGenerator.ts), then memory patches, one at a time, keeping
// each removal after which `stillFails` holds; repeat until nothing more can go.

import type { FuzzGuest } from './guestGenerator.js';

/** A block's atoms: runs of lines each ending with a label line (`.Lx:`). */
export function atomsOf(block: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const line of block) {
    cur.push(line);
    if (/^\.L\w+:$/.test(line.trim())) { out.push(cur); cur = []; }
  }
  if (cur.length !== 0) out.push(cur);
  return out;
}

/**
 * The smallest guest found from `g` for which `stillFails` is true
 * (`stillFails(g)` must be true). `budget` bounds the number of trial runs.
 */
export function minimizeGuest(g: FuzzGuest, stillFails: (g: FuzzGuest) => boolean, budget = 2000): FuzzGuest {
  let best: FuzzGuest = { seed: g.seed, patches: [...g.patches], blocks: g.blocks.map((b) => [...b]) };
  let trials = 0;
  const attempt = (candidate: FuzzGuest): boolean => {
    if (trials >= budget) return false;
    trials++;
    if (!stillFails(candidate)) return false;
    best = candidate;
    return true;
  };
  for (let changed = true; changed && trials < budget;) {
    changed = false;
    // Whole blocks.
    for (let i = best.blocks.length - 1; i >= 0; i--) {
      if (attempt({ ...best, blocks: best.blocks.filter((_, j) => j !== i) })) changed = true;
    }
    // Atoms within blocks.
    for (let i = best.blocks.length - 1; i >= 0; i--) {
      const atoms = atomsOf(best.blocks[i]);
      for (let a = atoms.length - 1; a >= 0; a--) {
        const current = atomsOf(best.blocks[i]);
        if (a >= current.length) continue;
        const block = current.filter((_, k) => k !== a).flat();
        if (attempt({ ...best, blocks: best.blocks.map((b, j) => (j === i ? block : b)) })) changed = true;
      }
    }
    // Memory patches.
    for (let i = best.patches.length - 1; i >= 0; i--) {
      if (attempt({ ...best, patches: best.patches.filter((_, j) => j !== i) })) changed = true;
    }
  }
  return best;
}
