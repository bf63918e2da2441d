/**
 * The link relay (docs/links.md): its own process, started by link-relay.ts, so that delaying and
 * pacing the bytes of hundreds of connections never takes the event loop that launches and
 * records transfers. It reads JSON lines on stdin and answers on stdout:
 *   {"op":"open","id":1,"routes":[{"listen":"127.0.0.3","upstream":{"address":"127.0.0.3","port":2222}}],"rtt_ms":20,"jitter_ms":0,"rate":null,"seed":1}
 *     → {"op":"opened","id":1,"ports":[40123]}   (or {"op":"failed","id":1,"error":"…"})
 *   {"op":"close","id":1} → {"op":"closed","id":1}
 *   {"op":"sync","n":7}   → {"op":"synced","n":7}   (every line written before it has been read)
 * and for each relayed connection {"op":"conn","id":1,"route":0,"client":PORT,"upstream":PORT}, so
 * that sshd's log (which sees the relay's port) is matched to the client's connection. A link has
 * a listener per route to its host (from this machine; from a container network, at this
 * machine's address there), every one behind the same bottleneck.
 * It exits when stdin closes: a harness that dies takes its relay with it.
 */
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { prng } from '../../util/prng.js';

// As the launcher does (src/process/launcher.pl, docs/launcher.md): spawned in a session of its
// own, it takes the highest priority it may, for itself and its session's autogroup, so that the
// delay it adds stays what was asked while the transfers saturate the machine. Without
// CAP_SYS_NICE both stay as they are.
for (const raise of [() => setPriority(-20), () => writeFileSync('/proc/self/autogroup', '-20')]) {
  try {
    raise();
  } catch {
    // not permitted, or no autogroup
  }
}

interface Route {
  /** The address the listener takes (another port of the host's own address, or this machine's on the host's network). */
  listen: string;
  upstream: { address: string; port: number };
}

interface Open {
  op: 'open';
  id: number;
  routes: Route[];
  rtt_ms: number;
  jitter_ms: number;
  /** Bytes per second each way, shared by the link's connections; null: no limit. */
  rate: number | null;
  seed: number;
}

/** Above this many bytes waiting in one direction of one connection, its sender is paused. */
const HIGH_WATER = 8 * 2 ** 20;
const LOW_WATER = 2 * 2 ** 20;

/**
 * Node's timers fire on libuv's whole-millisecond clock, up to ~1 ms late: a line sleeps on a
 * timer until this close to its next due time and then checks each turn of the loop, so a link's
 * delay is what was asked (within ~0.1 ms), not ~0.7 ms more each way.
 */
const TIMER_LATE_MS = 2;

const say = (msg: object): void => void process.stdout.write(`${JSON.stringify(msg)}\n`);

/** One direction of a link: its bottleneck (shared by every connection on it) and its delay. */
class Direction {
  /** When the bottleneck is next free to send, in performance.now() ms. */
  private free = 0;

  constructor(private readonly link: Open, private readonly rand: () => number) {}

  /** When `bytes` read now arrive at the far end: queued behind the link's earlier bytes at its rate, then carried half a round trip. */
  due(bytes: number, now: number): number {
    let at = now;
    if (this.link.rate !== null) {
      at = Math.max(now, this.free) + (bytes * 1000) / this.link.rate;
      this.free = at;
    }
    const jitter = this.link.jitter_ms > 0 ? (this.rand() * 2 - 1) * (this.link.jitter_ms / 2) : 0;
    return at + Math.max(0, this.link.rtt_ms / 2 + jitter);
  }
}

/**
 * Every delay line's next due time in one heap, served by one timer: a hundred connections whose
 * bytes fall due together cost one wake-up, not a hundred timers each checking the clock.
 */
class Wakeups {
  private readonly heap: { due: number; line: DelayLine }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private armedFor = Infinity;

  at(due: number, line: DelayLine): void {
    const h = this.heap;
    h.push({ due, line });
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.due <= h[i]!.due) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
    if (due < this.armedFor) this.arm();
  }

  private pop(): { due: number; line: DelayLine } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.timer = this.soon = undefined;
    const head = this.heap[0];
    this.armedFor = head ? head.due : Infinity;
    if (!head) return;
    const wait = head.due - performance.now();
    if (wait > TIMER_LATE_MS) this.timer = setTimeout(this.run, wait - TIMER_LATE_MS);
    else this.soon = setImmediate(this.run);
  }

  private readonly run = (): void => {
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const { due, line } = this.pop();
      line.wake(due);
    }
    this.arm();
  };
}

const wakeups = new Wakeups();

/** Bytes of one connection in one direction, each released to `out` when it is due, in order. */
class DelayLine {
  private readonly queue: { due: number; data: Buffer | null }[] = [];
  private queued = 0;
  private last = 0;
  /** The due time it is waiting in the heap for (older entries there are stale). */
  private waitingFor: number | undefined;
  private blocked = false;
  private stopped = false;
  private out: Socket | undefined;

  constructor(
    private readonly from: Socket,
    private readonly direction: Direction,
  ) {}

  /** Where the bytes go; until then (the server's connection not yet made) they wait. */
  attach(out: Socket): void {
    this.out = out;
    out.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
    this.pump();
  }

  /** `data` null: the sender finished; the end is passed on when everything before it has. */
  push(data: Buffer | null): void {
    const now = performance.now();
    // Order is kept: jitter never lets a later byte overtake an earlier one, as on one TCP stream.
    const due = Math.max(this.last, data ? this.direction.due(data.length, now) : now);
    this.last = due;
    this.queue.push({ due, data });
    if (data) this.queued += data.length;
    if (this.queued > HIGH_WATER) this.from.pause();
    this.pump();
  }

  /** Called by the heap at `due`: a stale entry (the line has moved on) does nothing. */
  wake(due: number): void {
    if (due !== this.waitingFor) return;
    this.waitingFor = undefined;
    this.pump();
  }

  private pump(): void {
    const out = this.out;
    if (!out || this.stopped) return;
    const now = performance.now();
    while (!this.blocked && this.queue.length > 0 && this.queue[0]!.due <= now) {
      const { data } = this.queue.shift()!;
      if (data === null) {
        out.end();
        return;
      }
      this.queued -= data.length;
      if (!out.write(data)) this.blocked = true;
      if (this.queued < LOW_WATER && this.from.isPaused()) this.from.resume();
    }
    if (this.blocked || this.queue.length === 0) return;
    const next = this.queue[0]!.due;
    if (this.waitingFor === next) return;
    this.waitingFor = next;
    wakeups.at(next, this);
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }
}

const links = new Map<number, { servers: Server[]; sockets: Set<Socket> }>();

function open(link: Open): void {
  // Seeded: a link's jitter is the same run to run.
  const rand = prng(link.seed);
  const toServer = new Direction(link, rand);
  const toClient = new Direction(link, rand);
  const sockets = new Set<Socket>();
  const servers = link.routes.map((route, i) => serve(link, route, i, toServer, toClient, sockets));
  let failed = false;
  let listening = 0;
  for (const server of servers) {
    server.on('error', (e) => {
      if (failed) return;
      failed = true;
      for (const s of servers) s.close();
      say({ op: 'failed', id: link.id, error: e.message });
    });
    server.once('listening', () => {
      if (++listening < servers.length || failed) return;
      links.set(link.id, { servers, sockets });
      say({ op: 'opened', id: link.id, ports: servers.map((s) => (s.address() as { port: number }).port) });
    });
  }
  link.routes.forEach((route, i) => servers[i]!.listen({ host: route.listen, port: 0 }));
}

/** One route's listener: each connection it accepts is carried to the route's upstream over the link. */
function serve(link: Open, route: Route, index: number, toServer: Direction, toClient: Direction, sockets: Set<Socket>): Server {
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const { upstream: to } = route;
  // Half-open allowed: each side's end is passed on by its delay line, after the bytes before it.
  // A link that adds nothing (rtt 0, no jitter, no rate) only passes bytes on: no queue, no timer.
  const plain = link.rtt_ms === 0 && link.jitter_ms === 0 && link.rate === null;
  return createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    track(client);
    const clientPort = client.remotePort ?? 0;
    if (plain) {
      const s = connect({ host: to.address, port: to.port, noDelay: true, allowHalfOpen: true });
      track(s);
      s.once('connect', () => say({ op: 'conn', id: link.id, route: index, client: clientPort, upstream: s.localPort }));
      client.pipe(s);
      s.pipe(client);
      client.on('error', () => s.resetAndDestroy());
      s.on('error', () => client.resetAndDestroy());
      return;
    }
    const up = new DelayLine(client, toServer);
    client.on('data', (d: Buffer) => up.push(d));
    client.on('end', () => up.push(null));
    let upstream: Socket | undefined;
    // A reset (or a refusal) on one side resets the other, half a round trip later.
    const resetLater = (s: Socket) => setTimeout(() => s.resetAndDestroy(), link.rtt_ms / 2);
    client.on('error', () => (upstream ? resetLater(upstream) : undefined));
    // The server sees the connection a TCP handshake over the link later: 1.5 round trips after
    // the client's connect (its SYN there, the SYN-ACK back, its ACK there), when it would accept.
    const opening = setTimeout(() => {
      const s = connect({ host: to.address, port: to.port, noDelay: true, allowHalfOpen: true });
      upstream = s;
      track(s);
      s.once('connect', () => say({ op: 'conn', id: link.id, route: index, client: clientPort, upstream: s.localPort }));
      const down = new DelayLine(s, toClient);
      down.attach(client);
      up.attach(s);
      s.on('data', (d: Buffer) => down.push(d));
      s.on('end', () => down.push(null));
      s.on('error', () => resetLater(client));
      s.once('close', () => down.stop());
    }, link.rtt_ms * 1.5);
    client.once('close', () => {
      clearTimeout(opening);
      up.stop();
    });
  });
}

function close(id: number): void {
  const link = links.get(id);
  links.delete(id);
  if (!link) {
    say({ op: 'closed', id });
    return;
  }
  for (const s of link.sockets) s.destroy();
  let left = link.servers.length;
  for (const server of link.servers) server.close(() => --left === 0 && say({ op: 'closed', id }));
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const msg = JSON.parse(line) as Open | { op: 'close'; id: number } | { op: 'sync'; n: number };
  if (msg.op === 'open') open(msg);
  else if (msg.op === 'close') close(msg.id);
  else if (msg.op === 'sync') say({ op: 'synced', n: msg.n });
});
lines.on('close', () => process.exit(0));
