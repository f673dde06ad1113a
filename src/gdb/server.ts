// Where gdb connects: `--gdb PORT` (TCP on 127.0.0.1; 0 picks a free port),
// `--gdb PATH` (a Unix socket; `target remote PATH`), or `--gdb -` (the stub
// speaks on stdin/stdout, for `target remote | xk boot IMAGE --gdb -`).
// One connection; the returned promise settles when the session ends.

import * as net from 'node:net';
import { GdbStub } from './stub.js';
import type { DebugTarget } from './target.js';

export type SessionEnd = 'detach' | 'kill' | 'exited' | 'disconnected';

/** Parse the --gdb value: a port number, '-', or a socket path. */
export function parseGdbEndpoint(value: string | undefined): { port: number } | { path: string } | { stdio: true } | string {
  if (value === undefined || value === '') return '--gdb needs a port, a socket path, or -';
  if (value === '-') return { stdio: true };
  if (/^\d+$/.test(value)) {
    const port = Number(value);
    return port <= 65535 ? { port } : `--gdb: port ${value} is out of range`;
  }
  return { path: value };
}

export function serveGdb(
  target: DebugTarget,
  endpoint: { port: number } | { path: string } | { stdio: true },
  announce: (where: string) => void,
): Promise<SessionEnd> {
  return new Promise((resolve, reject) => {
    if ('stdio' in endpoint) {
      const stub = new GdbStub(target, (b) => process.stdout.write(b), (how) => { process.stdin.pause(); resolve(how); });
      process.stdin.on('data', (chunk: Buffer) => stub.receive(chunk));
      process.stdin.on('end', () => resolve('disconnected'));
      return;
    }
    const server = net.createServer({ pauseOnConnect: false }, (socket) => {
      server.close(); // one debugger per run
      let done = false;
      const end = (how: SessionEnd): void => {
        if (done) return;
        done = true;
        socket.end();
        resolve(how);
      };
      const stub = new GdbStub(target, (b) => { if (!socket.destroyed) socket.write(b); }, end);
      socket.on('data', (chunk: Buffer) => stub.receive(chunk));
      socket.on('error', () => end('disconnected'));
      socket.on('close', () => end('disconnected'));
    });
    server.on('error', reject);
    if ('port' in endpoint) server.listen(endpoint.port, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      announce(`127.0.0.1:${address.port}`);
    });
    else server.listen(endpoint.path, () => announce(endpoint.path));
  });
}
