import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv } from '../process/run-command.js';
import { FieldError } from '../util/errors.js';
import { freePort } from '../hosts/loopback-address.js';
import { runCommand } from '../process/run-command.js';
import type { MuxMode } from '../spec/fields.js';
import type { LaunchResult } from '../process/launcher.js';
import { backendKind } from '../hosts/backends.js';
import { defineTool } from './tool-factory.js';
import type { TransferCommand, TransferJob, TransferTool } from './transfer-tool.js';

/** Paths the service hands out: the dataset's own names, nothing that climbs out of its folder. */
const SERVED_PATH = /^(?:[\w.-]+\/)*[\w.-]+$/;

/**
 * A small HTTP service on the remote host's address serving one folder there: the harness's
 * stand-in for a notebook or dashboard on a compute node. Local backend: this process serves the
 * host's own folder on the host's loopback address.
 */
export async function startService(address: string, root: string): Promise<{ server: Server; port: number }> {
  // Any local process can reach the port: a malformed request gets 400 and the service goes on;
  // no error of one request may end the run.
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (!SERVED_PATH.test(path) || path.split('/').includes('..')) {
      res.writeHead(404).end();
      return;
    }
    const file = createReadStream(join(root, path));
    file.once('error', () => res.headersSent ? res.destroy() : res.writeHead(404).end());
    file.once('open', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      file.pipe(res);
    });
  });
  server.on('clientError', (_e, socket) => (socket.writable ? socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n') : socket.destroy()));
  server.listen(0, address);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** GETs `path` from the forward's local end into `dest`; resolves when it is written, with when the connection was made. */
function fetchThrough(port: number, path: string, dest: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let connectedAt = 0;
    const req = request({ host: '127.0.0.1', port, path: `/${encodeURI(path)}`, agent: false, signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`http: status ${res.statusCode}`));
        return;
      }
      pipeline(res, createWriteStream(dest)).then(() => resolve(connectedAt), reject);
    });
    req.once('socket', (s) => s.once('connect', () => (connectedAt = performance.now())));
    req.once('error', reject);
    req.end();
  });
}

/**
 * tool: forward — the interactive-analysis pattern. Each file is fetched over HTTP from a service
 * on the remote host through a local port forward (`ssh -L`) made for it and removed after:
 * `ssh -O forward` / `-O cancel` over the lane's master (mux: warm), or an `ssh -N -L` of its own
 * (mux: off), which starts a connection (through every jump host) each time. The attempt's
 * `setup_ms` is how long the forward took to accept connections.
 */
export class ForwardTool implements TransferTool {
  readonly name = 'forward' as const;
  readonly usesSsh = true;
  private readonly services = new Map<string, Promise<{ server: Server; port: number }>>();

  constructor(private readonly mux: MuxMode) {}

  command(): TransferCommand {
    throw new Error('internal: forward runs in process (run), not as a command');
  }

  async run(job: TransferJob, options: { timeoutMs: number; signal?: AbortSignal }): Promise<LaunchResult> {
    const host = job.source.host;
    if (!host || !job.direct) throw new Error('internal: tool forward needs a remote source and its address');
    const root = job.source.path.slice(0, job.source.path.length - job.entry.path.length);
    const service = await this.serviceFor(job.direct.address, root);
    const startMs = performance.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const local = await freePort('127.0.0.1');
    const spec = `127.0.0.1:${local}:${job.direct.address}:${service.port}`;
    const { ssh, options: sshOptions } = job.ssh;
    let stderr = '';
    const done = (exitCode: number, extra: Partial<LaunchResult> = {}): LaunchResult => ({
      startMs, endMs: performance.now(), exitCode, signal: null, stderr, timedOut: controller.signal.aborted && !options.signal?.aborted, canceled: options.signal?.aborted === true, ...extra,
    });
    try {
      if (this.mux === 'warm') {
        const add = await runCommand(ssh, [...sshOptions, '-O', 'forward', '-L', spec, host], { timeoutMs: options.timeoutMs, signal });
        stderr += add.stderr;
        if (add.exitCode !== 0) return done(add.exitCode ?? 255);
        const setupMs = performance.now() - startMs;
        try {
          await fetchThrough(local, job.entry.path, job.dest.path, signal);
          return done(0, { setupMs });
        } catch (e) {
          stderr += `forward: ${(e as Error).message}\n`;
          return done(signal.aborted ? 124 : 1, { setupMs });
        } finally {
          const cancel = await runCommand(ssh, [...sshOptions, '-O', 'cancel', '-L', spec, host], { timeoutMs: 10_000 });
          if (cancel.exitCode !== 0) stderr += cancel.stderr;
        }
      }
      // mux: off — an ssh of its own, ended when the file is in.
      const child = spawn(ssh, [...sshOptions, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', spec, host], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // 'close': its stderr is all read by then.
      const exited = once(child, 'close').then(([code]) => (code as number | null) ?? 255, () => 255);
      let gone: number | undefined;
      void exited.then((c) => (gone = c));
      try {
        // Until ssh listens the port refuses; then the first connection is the file's.
        for (;;) {
          try {
            const connectedAt = await fetchThrough(local, job.entry.path, job.dest.path, signal);
            return done(0, { setupMs: connectedAt - startMs });
          } catch (e) {
            const refused = (e as NodeJS.ErrnoException).code === 'ECONNREFUSED';
            if (refused && gone === undefined && !signal.aborted) {
              await sleep(10);
              continue;
            }
            if (!refused) stderr += `forward: ${(e as Error).message}\n`;
            if (gone === undefined && !signal.aborted) await Promise.race([exited, sleep(200)]);
            return done(signal.aborted ? 124 : (gone ?? 1));
          }
        }
      } finally {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(2000).then(() => child.kill('SIGKILL'))]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private serviceFor(address: string, root: string): Promise<{ server: Server; port: number }> {
    const key = `${address}\u0000${root}`;
    let s = this.services.get(key);
    if (!s) this.services.set(key, (s = startService(address, root)));
    return s;
  }

  /** Stops the services of one cell repeat. */
  async close(): Promise<void> {
    const all = await Promise.all([...this.services.values()].map((p) => p.catch(() => undefined)));
    this.services.clear();
    await Promise.all(all.map((s) => s && new Promise<void>((resolve) => {
      s.server.close(() => resolve());
      s.server.closeAllConnections();
    })));
  }
}

export const forwardTool = defineTool({
  async create(_programs, transfer) {
    if (transfer.mux === 'cold') throw new FieldError(['transfer', 'mux'], 'tool: forward adds forwards to a running master (mux: warm) or runs an ssh per forward (mux: off); cold has no master to add them to');
    return new ForwardTool(transfer.mux);
  },
  check({ client, backend, transfer }) {
    const out = [];
    if (transfer.direction !== 'pull') out.push({ path: ['transfer', 'direction'], message: 'tool: forward fetches files from a service on the remote host: set direction: pull' });
    if (client === 'container') out.push({ path: ['client'], message: 'tool: forward fetches in this process: client: machine only' });
    if (!backendKind(backend).sameMachine) out.push({ path: ['backend'], message: 'tool: forward serves the files from this process on the host\'s address: backend: local only' });
    return out;
  },
});
