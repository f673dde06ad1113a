// A small deterministic PRNG for seeded, reproducible tests (mulberry32).

/** A generator of numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unsigned 32-bit integers from the same generator (for bit patterns and `% n` choices). */
export function seededUint32(seed: number): () => number {
  const next = seededRandom(seed);
  return () => next() * 4294967296; // exact: the generator's values are k / 2^32
}
