import { packageFile } from '../../util/package-root.js';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Link } from '../../spec/link.js';
import { HostStartError } from '../../util/errors.js';
import { childEnv } from '../../process/run-command.js';
import type { HostEndpoint, StartedHost, StartedLink } from '../host.js';

// The compiled relay, under tsx as well: node runs JavaScript only.
const SCRIPT = packageFile('dist', 'hosts', 'link', 'relay-process.js');
const REPLY_TIMEOUT_MS = 10_000;

type Reply = { op: 'opened'; id: number; ports: number[] } | { op: 'failed'; id: number; error: string } | { op: 'closed'; id: number } | { op: 'synced'; n: number };
type Message = Reply | { op: 'conn'; id: number; route: number; client: number; upstream: number };

/** A way to a host's sshd the relay stands in: it listens at `listen` and connects to `upstream`. */
export interface LinkRoute {
  listen: string;
  upstream: HostEndpoint;
}

/**
 * The run's link relay (relay-process.ts): one process for every link of a topology, started only
 * when a host has a `link:`, so that without one nothing sits between a client and sshd.
 */
export class LinkRelay implements AsyncDisposable {
  private nextId = 1;
  private nextSync = 1;
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  /**
   * Per link, the relay's upstream port → the client's port on each route that used it: two
   * routes lead to different destinations, so the kernel may give both one local port at once.
   */
  private readonly ports = new Map<number, Map<number, Map<number, number>>>();
  private stopping?: Promise<void>;
  private exited = false;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onMessage(JSON.parse(line) as Message));
    child.stdin.on('error', () => undefined); // a dead relay is reported by 'exit'
    child.once('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values()) w({ op: 'failed', id: 0, error: 'the link relay exited' });
      this.waiting.clear();
    });
  }

  static async start(): Promise<LinkRelay> {
    // detached: a session, and so a CPU share under autogroup, of its own (relay-process.ts says why).
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv(), detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new HostStartError(`cannot start the link relay (${e.message})`)));
    });
    return new LinkRelay(child);
  }

  /**
   * One link with a listener per route (at `listen`, another port) carrying each connection to the
   * route's upstream; the routes share the link's bottleneck. Resolves with each route's endpoint.
   */
  async open(link: Link, routes: readonly LinkRoute[], seed: number): Promise<{ id: number; endpoints: HostEndpoint[] }> {
    const id = this.nextId++;
    this.ports.set(id, new Map());
    const reply = await this.ask(`${id}`, { op: 'open', id, routes, rtt_ms: link.rtt_ms, jitter_ms: link.jitter_ms, rate: link.rate ?? null, seed });
    const to = routes.map((r) => `${r.upstream.address}:${r.upstream.port}`).join(', ');
    if (reply.op !== 'opened') throw new HostStartError(`link to ${to}: ${'error' in reply ? reply.error : 'no listener'}`);
    return { id, endpoints: routes.map((r, i) => ({ address: r.listen, port: reply.ports[i]! })) };
  }

  /** Stops the link's listener and every connection through it. */
  async close(id: number): Promise<void> {
    if (!this.exited) await this.ask(`${id}`, { op: 'close', id });
  }

  /** Resolves once every message the relay wrote before now has been read (each connection's ports). */
  async sync(): Promise<void> {
    if (this.exited) return;
    const n = this.nextSync++;
    await this.ask(`sync ${n}`, { op: 'sync', n });
  }

  startedLink(id: number, link: Link): StartedLink {
    const ports = this.ports.get(id)!;
    // sshd logs the same address for either route (this machine's, on the network): a port two
    // routes used cannot be told apart, and is left to be matched by count.
    const clientPort = (upstreamPort: number) => {
      const clients = [...(ports.get(upstreamPort)?.values() ?? [])];
      return clients.length === 1 ? clients[0] : undefined;
    };
    return { link, clientPort, sync: () => this.sync() };
  }

  private ask(key: string, msg: object): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new HostStartError(`the link relay did not answer ${JSON.stringify(msg)} within ${REPLY_TIMEOUT_MS / 1000} s`));
      }, REPLY_TIMEOUT_MS);
      this.waiting.set(key, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  private onMessage(msg: Message): void {
    if (msg.op === 'conn') {
      const link = this.ports.get(msg.id);
      link?.set(msg.upstream, (link.get(msg.upstream) ?? new Map<number, number>()).set(msg.route, msg.client));
      return;
    }
    const key = msg.op === 'synced' ? `sync ${msg.n}` : `${msg.id}`;
    const w = this.waiting.get(key);
    this.waiting.delete(key);
    w?.(msg);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exited) return;
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * `host` as clients see it through its link: reached at the relay's listeners (from this machine,
 * and from the topology's network when it has one), carrying the link; stopping it closes the
 * listeners first. Everything else is the host's own.
 */
export function behindLink(host: StartedHost, relay: LinkRelay, id: number, at: { endpoint: HostEndpoint; innerEndpoint?: HostEndpoint }, link: Link): StartedHost {
  const started = relay.startedLink(id, link);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await relay.close(id).catch(() => undefined);
      await host.stop();
    })());
  return new Proxy(host, {
    get(target, prop) {
      if (prop === 'endpoint') return at.endpoint;
      if (prop === 'innerEndpoint' && at.innerEndpoint) return at.innerEndpoint;
      if (prop === 'link') return started;
      if (prop === 'stop') return stop;
      if (prop === Symbol.asyncDispose) return stop;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
