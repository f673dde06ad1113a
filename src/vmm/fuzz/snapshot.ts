// Resetting a machine in place, so that the fuzzer can run thousands of
// guests on one bare Machine and one VmHost per mode instead of building
// (and collecting) megabytes of fresh machines for every guest.
//
// A GraphSnapshot records an object graph as it is right after construction:
// every reachable object's own fields, every array's and map's and set's
// contents, every typed array's bytes (per underlying buffer: the machine's
// physical memory and the views of it are one buffer). `restore` puts each of
// those objects back as it was, in place: objects created since are dropped,
// fields added since are deleted. Large buffers (physical memory) are kept as
// their non-zero pages, restored by zeroing the buffer and copying those back.
// Functions are values, not followed; state in closures and in #private fields
// would be missed (keep a machine's state in ordinary fields), so a
// test (test/vmmFuzz.test.ts) checks that a reset machine and a fresh one
// observe exactly the same runs.

const PAGE = 4096;
/** Buffers at least this big are restored as zeros plus their non-zero pages. */
const BIG = 64 * 1024;

type Restorer = () => void;

export class GraphSnapshot {
  private readonly restorers: Restorer[] = [];
  /** Objects recorded (for statistics). */
  readonly objects: number;

  /**
   * `skip`: field names whose values are kept as they are (wiring that never changes, e.g. a port bus);
   * `external`: buffers the caller resets itself (a machine's physical memory: writtenPages.ts).
   */
  constructor(root: object, skip: ReadonlySet<string> = new Set(), external: ReadonlySet<ArrayBufferLike> = new Set()) {
    const seen = new Set<object>();
    const buffers = new Set<ArrayBufferLike>();
    const stack: object[] = [root];
    while (stack.length !== 0) {
      const o = stack.pop() as object;
      if (seen.has(o)) continue;
      seen.add(o);
      const visit = (v: unknown): void => {
        if (v !== null && typeof v === 'object' && !seen.has(v)) stack.push(v);
      };
      if (ArrayBuffer.isView(o)) {
        if (!buffers.has(o.buffer) && !external.has(o.buffer)) { buffers.add(o.buffer); this.recordBuffer(o.buffer); }
        continue;
      }
      if (o instanceof Map) {
        const entries = [...o];
        const unchanged = (): boolean => {
          if (o.size !== entries.length) return false;
          for (const [k, v] of entries) if (o.get(k) !== v) return false;
          return true;
        };
        // Most maps (a host-call table, the patches) are as they were: looking is cheaper than rebuilding.
        this.restorers.push(() => { if (!unchanged()) { o.clear(); for (const [k, v] of entries) o.set(k, v); } });
        for (const [k, v] of entries) { visit(k); visit(v); }
        continue;
      }
      if (o instanceof Set) {
        const values = [...o];
        this.restorers.push(() => { o.clear(); for (const v of values) o.add(v); });
        values.forEach(visit);
        continue;
      }
      if (Array.isArray(o)) {
        const values = o.slice();
        this.restorers.push(() => {
          if (o.length !== values.length) o.length = values.length;
          for (let i = 0; i < values.length; i++) if (o[i] !== values[i]) o[i] = values[i];
        });
        values.forEach(visit);
        continue;
      }
      if (Object.isFrozen(o)) continue;
      const rec = o as Record<string, unknown>;
      const keys = Object.keys(rec).filter((k) => !skip.has(k));
      const values = keys.map((k) => rec[k]);
      const keySet = new Set(Object.keys(rec));
      const count = keySet.size;
      this.restorers.push(() => {
        for (let i = 0; i < keys.length; i++) rec[keys[i]] = values[i];
        let now = 0;
        for (const k in rec) if (Object.hasOwn(rec, k)) now++;
        if (now !== count) for (const k of Object.keys(rec)) if (!keySet.has(k)) delete rec[k];
      });
      values.forEach(visit);
    }
    this.objects = seen.size;
  }

  private recordBuffer(buffer: ArrayBufferLike): void {
    const bytes = new Uint8Array(buffer);
    if (bytes.length < BIG) {
      const copy = bytes.slice();
      this.restorers.push(() => bytes.set(copy));
      return;
    }
    const pages: Array<[number, Uint8Array]> = [];
    for (let at = 0; at < bytes.length; at += PAGE) {
      const page = bytes.subarray(at, Math.min(at + PAGE, bytes.length));
      if (page.some((b) => b !== 0)) pages.push([at, page.slice()]);
    }
    this.restorers.push(() => {
      bytes.fill(0);
      for (const [at, page] of pages) bytes.set(page, at);
    });
  }

  /** Put every recorded object back as it was when recorded. */
  restore(): void {
    for (const r of this.restorers) r();
  }
}
