import { readFile } from 'node:fs/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { ssh2Connect } from '../ssh/ssh2-connect.js';
import { connectedLine } from '../ssh/connector.js';
import type { Connection as TcpConnection } from '../records/transfer-record.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { int } from '../spec/fields.js';
import { defineTool } from './tool-factory.js';
import type { LaunchResult } from '../process/launcher.js';
import type { TransferCommand, TransferJob, TransferTool , DirectEndpoint } from './transfer-tool.js';


interface Connection {
  client: Client;
  ready: Promise<void>;
  /** Its TCP connection's ends, once connected. */
  connection(): TcpConnection | undefined;
  /** At most channels_per_connection SFTP channels open at once on it. */
  channels: LimitFunction;
}

/**
 * The `ssh2` library as a client, in this process: `connections` SSH connections per destination,
 * each carrying up to `channels_per_connection` SFTP channels at once, one channel per file. It
 * is how a Node service meets sshd's limits: MaxSessions refuses a channel ("Channel open
 * failure"), MaxStartups resets a handshake. Messages are written as `ssh2: PHASE: message` so
 * the classifier can tell them apart (docs/openssh-messages.md). Connections of a cell repeat are
 * ended by close().
 */
export class Ssh2SftpTool implements TransferTool {
  readonly name = 'ssh2-sftp' as const;
  readonly usesSsh = true;
  private readonly pools = new Map<string, Promise<Connection[]>>();
  private next = 0;

  constructor(
    private readonly connections: number,
    private readonly channelsPerConnection: number,
  ) {}

  get maxInFlight(): number {
    return this.connections * this.channelsPerConnection;
  }

  command(): TransferCommand {
    throw new Error('internal: ssh2-sftp runs in process (run), not as a command');
  }

  async run(job: TransferJob, options: { timeoutMs: number; signal?: AbortSignal }): Promise<LaunchResult> {
    const target = job.direct;
    if (!target) throw new Error('internal: ssh2-sftp needs the job\'s direct endpoint');
    const index = this.next++ % this.connections;
    const conn = (await this.poolFor(target))[index]!;
    // The attempt starts when it gets a channel slot: "in flight" is then channels really open.
    return conn.channels(async () => {
      const startMs = performance.now();
      // Its connection's line first, as the connector writes it for ssh: a drop sshd logs is matched by it.
      const said = (stderr: string) => {
        const c = conn.connection();
        return c ? connectedLine(c.local, c.remote) + stderr : stderr;
      };
      const done = (stderr: string, exitCode: number, extra: Partial<LaunchResult> = {}): LaunchResult => ({ startMs, endMs: performance.now(), exitCode, signal: null, stderr: said(stderr), timedOut: false, canceled: false, ...extra });
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error('timeout')), options.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
      const failed = (phase: string, e: unknown, exitCode: number) => (signal.aborted ? aborted(done, options.signal) : done(`ssh2: ${phase}: ${(e as Error).message}\n`, exitCode));
      try {
        try {
          await abortable(conn.ready, signal);
        } catch (e) {
          return failed('handshake', e, 255);
        }
        let sftp: SFTPWrapper;
        try {
          sftp = await abortable(new Promise<SFTPWrapper>((resolve, reject) => conn.client.sftp((err, s) => (err ? reject(err) : resolve(s)))), signal);
        } catch (e) {
          return failed('channel', e, 255);
        }
        try {
          const push = job.dest.host !== undefined;
          await abortable(
            new Promise<void>((resolve, reject) => {
              const cb = (err: Error | null | undefined) => (err ? reject(err) : resolve());
              if (push) sftp.fastPut(job.source.path, job.dest.path, cb);
              else sftp.fastGet(job.source.path, job.dest.path, cb);
            }),
            signal,
          );
          return done('', 0);
        } catch (e) {
          return failed('transfer', e, 1);
        } finally {
          // The slot is free once sshd has closed the channel too: freed at end(), the next
          // channel could open while sshd still counted this one, past MaxSessions.
          await channelClosed(sftp);
        }
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** One pool per destination, made on first use; its connections log in in parallel. */
  private poolFor(target: DirectEndpoint): Promise<Connection[]> {
    const key = `${target.address}:${target.port}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = readFile(target.privateKeyPath).then((privateKey) =>
        Promise.all(
          Array.from({ length: this.connections }, async () => {
            const { client, ready, connection } = await ssh2Connect(target, privateKey, 30_000);
            ready.catch(() => undefined);
            return { client, ready, connection, channels: pLimit(this.channelsPerConnection) };
          }),
        ),
      );
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Ends every connection the tool opened (one repeat's). */
  async close(): Promise<void> {
    const all = (await Promise.all([...this.pools.values()].map((p) => p.catch(() => [] as Connection[])))).flat();
    this.pools.clear();
    await Promise.all(
      all.map(
        ({ client }) =>
          new Promise<void>((resolve) => {
            client.once('close', () => resolve());
            client.end();
            setTimeout(resolve, 2000).unref();
          }),
      ),
    );
  }
}

/** Ends an SFTP channel and waits for sshd's close of it (bounded: a dead connection closes its channels anyway). */
async function channelClosed(sftp: SFTPWrapper): Promise<void> {
  const closed = new Promise<void>((resolve) => sftp.once('close', () => resolve()));
  sftp.end();
  await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
}

/** How long a slot waits for sshd to confirm a channel's close before it is given to another. */
const CLOSE_WAIT_MS = 10_000;

function aborted(done: (stderr: string, exitCode: number, extra?: Partial<LaunchResult>) => LaunchResult, outer?: AbortSignal): LaunchResult {
  return outer?.aborted ? done('', 130, { canceled: true }) : done('ssh2: timeout: the transfer did not finish in time\n', 124, { timedOut: true });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export const ssh2SftpTool = defineTool({
  fields: {
    /** SSH connections per destination (default 1), and SFTP channels open at once on each (default 10). */
    connections: int(1, 1000).optional(),
    channels_per_connection: int(1, 1000).optional(),
  },
  create: async (_programs, transfer) => new Ssh2SftpTool(transfer.connections ?? 1, transfer.channels_per_connection ?? 10),
  check({ client, transfer }) {
    const out = [];
    if (Array.isArray(transfer.via) && transfer.via.length > 0) out.push({ path: ['transfer', 'via'], message: 'tool: ssh2-sftp connects to the destination directly; jump hosts are not supported for it yet' });
    if (client === 'container') out.push({ path: ['client'], message: 'tool: ssh2-sftp runs in this process: client: machine only' });
    return out;
  },
});
