// The JIT tier's switches, read once from the environment: XK_JIT=0 turns it
// off (as --no-jit does); XK_JIT_HOT is the number of runs of a block before
// it is translated (1: at once, as the differential tests run it); XK_JIT_REGION
// the most blocks one translation covers. The
// global CLI flag --no-jit (bin/xk.js, before the command) does what XK_JIT=0 does.

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const hot = Number(env.XK_JIT_HOT ?? 64);
const region = Number(env.XK_JIT_REGION ?? 8);
/**
 * Read by each Cpu when it is made; bin/xk.js clears `enabled` for the global --no-jit flag.
 * regionBlocks (XK_JIT_REGION): blocks of one page compiled together into one function, a loop's
 * blocks (8, the default; 1: each block alone; see docs/tiers.md).
 */
export const jitSettings = {
  enabled: env.XK_JIT !== '0',
  hot: Number.isInteger(hot) && hot >= 1 ? hot : 64,
  regionBlocks: Number.isInteger(region) && region >= 1 ? Math.min(region, 8) : 8,
};
