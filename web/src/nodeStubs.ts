// What the page's build puts where src/ imports a node: module (vite.config.ts).
// The page never takes those paths; if it ever did, the error says which one.

function unavailable(name: string): never {
  throw new Error(`xk in the browser: ${name} needs the host (Node.js) and is not available in the page`);
}

const stub = (name: string) => (..._args: unknown[]): never => unavailable(name);

export const readFileSync = stub('fs.readFileSync');
export const writeFileSync = stub('fs.writeFileSync');
export const existsSync = (_path: unknown): boolean => false;
export const readdirSync = stub('fs.readdirSync');
export const mkdirSync = stub('fs.mkdirSync');
export const mkdtempSync = stub('fs.mkdtempSync');
export const rmSync = stub('fs.rmSync');
export const openSync = stub('fs.openSync');
export const closeSync = stub('fs.closeSync');
export const fstatSync = stub('fs.fstatSync');
export const statSync = stub('fs.statSync');
export const readSync = stub('fs.readSync');
export const writeSync = stub('fs.writeSync');
export const fsyncSync = stub('fs.fsyncSync');
export const truncateSync = stub('fs.truncateSync');
export const renameSync = stub('fs.renameSync');
export const execFileSync = stub('child_process.execFileSync');
export const createHash = stub('crypto.createHash');
export const tmpdir = stub('os.tmpdir');
export const homedir = stub('os.homedir');
export const createServer = stub('net.createServer');
export const createConnection = stub('net.createConnection');
export const fileURLToPath = stub('url.fileURLToPath');
export const join = (...parts: string[]): string => parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
export const dirname = (p: string): string => (p.lastIndexOf('/') > 0 ? p.slice(0, p.lastIndexOf('/')) : p.startsWith('/') ? '/' : '.');
export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
export const resolve = stub('path.resolve');
export const relative = stub('path.relative');

export default {
  readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync, mkdtempSync, rmSync, openSync, closeSync,
  fstatSync, statSync, readSync, writeSync, fsyncSync, truncateSync, renameSync, join, dirname, basename, resolve, relative,
};
