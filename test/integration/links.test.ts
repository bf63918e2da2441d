import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findTools, type OpenSshTools } from '../../src/ssh/openssh-tools.js';
import { LocalBackend } from '../../src/hosts/local/local-backend.js';
import { createStateDir } from '../../src/hosts/state-dir.js';
import { generateKeyPair } from '../../src/ssh/ssh-keys.js';
import { startTopology } from '../../src/hosts/topology.js';
import { loadScenario } from '../../src/plan/load-plan.js';
import type { TransferRecord } from '../../src/records/transfer-record.js';
import type { CellRecord } from '../../src/records/cell-record.js';
import { isolatedStateBase, leftovers, processesMentioning, readJsonl, removeAll, runCli, scenarioPath, tempDir } from '../helpers/harness.js';
import { runHoldingSlot } from '../helpers/hold.js';
import { assertRoundTrip, listenerOf, sftpRoundTrips } from '../helpers/round-trip.js';

describe('links: distance on a host without netem', () => {
  let tools: OpenSshTools;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    tools = await findTools();
    base = await isolatedStateBase('links');
    dir = await tempDir('links');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    assert.deepEqual(await processesMentioning(['relay-process.js']), [], 'no relay left');
    await removeAll(base, dir);
  });

  it('a configured round trip is observed through the relay, and without link: nothing is in the path', async () => {
    await using state = await createStateDir(base);
    const key = await generateKeyPair(tools.sshKeygen, join(state.path, 'k'), 'links');
    await using topo = await startTopology(new LocalBackend(tools), { far: { sshd: {}, link: { rtt: 40, jitter: 0 } }, near: { sshd: {} } }, { stateDir: state.path, clientKey: key, clock: () => performance.now() });
    const far = topo.host('far');
    const near = topo.host('near');
    // Without a link the client reaches sshd itself; with one, the relay (node) listens there.
    assert.equal(near.link, undefined);
    assert.equal(await listenerOf(near.endpoint), 'sshd');
    assert.equal(await listenerOf(far.endpoint), 'node');
    assert.deepEqual(far.link?.link, { rtt_ms: 40, jitter_ms: 0 });

    const trips = await sftpRoundTrips({ address: far.endpoint.address, port: far.endpoint.port, user: far.user, privateKeyPath: key.privatePath, hostKeys: far.hostKeys });
    assertRoundTrip(trips, 40, 'from this machine');
    // A login is several round trips (TCP, key exchange, authentication): at least four.
    assert.ok(trips.loginMs >= 4 * 40, `login took ${trips.loginMs.toFixed(0)} ms`);
  });

  it('the distance scenarios, small: a stream never beats window/RTT, a master not ready in time is raced, drops agree with sshd', async () => {
    const run = async (name: string, sets: string[]) => {
      const out = join(dir, `seed-${name}`);
      const r = await runCli(['run', scenarioPath(name), '--out', out, '-q', ...sets.flatMap((s) => ['--set', s])], { XFERBENCH_STATE_DIR: base });
      assert.ok(r.exitCode === 0 || r.exitCode === 1, String(r.stderr));
      const records = await readJsonl(join(out, 'results.jsonl'));
      return { transfers: records.filter((t) => t.type === 'transfer') as unknown as TransferRecord[], cells: records.filter((c) => c.type === 'cell') as unknown as CellRecord[] };
    };
    // One ssh channel has at most its 2 MiB window unacknowledged: one stream over 100 ms moves at
    // most 2 MiB per round trip, however fast the machine (on loopback it moves ~60 MB/s).
    const window = await run('window-distance', ['matrix={hosts.target.link.rtt: [100ms], concurrency: [1]}', 'dataset.files=2', 'dataset.size=8MiB']);
    for (const t of window.transfers) assert.ok(t.bytes / ((t.end_ms - t.start_ms) / 1000) <= (2 * 2 ** 20) / 0.1, `${t.file}: ${t.bytes} bytes in ${t.end_ms - t.start_ms} ms`);
    assert.deepEqual(window.cells[0]!.links, { target: { rtt_ms: 100, jitter_ms: 0 } });

    // A master through a 40 ms head is ready no sooner than its handshakes, well over 200 ms: the
    // client that starts 200 ms after the first finds no socket and connects on its own.
    const mux = await run('mux-distance', ['matrix={hosts.head.link.rtt: [40ms], transfer.mux: [cold, warm]}', 'dataset.files=6', 'repeat=1']);
    const inCell = (id: string) => mux.transfers.filter((t) => t.cell === id).sort((a, b) => a.start_ms - b.start_ms);
    assert.ok(inCell('hosts.head.link.rtt=40ms,transfer.mux=cold')[1]!.classes.includes('mux_race'));
    assert.deepEqual(inCell('hosts.head.link.rtt=40ms,transfer.mux=warm').flatMap((t) => t.classes), []);

    // 160 ms away: a drop is known no sooner than sshd's accept and its close back (2 round trips),
    // a transfer done no sooner than its handshakes (4 at least); every loss is a drop sshd logged.
    const far = await run('maxstartups-distance', ['matrix={transfer.start_rate: [16], hosts.target.link.rtt: [160ms]}', 'dataset.files=20', 'repeat=1']);
    for (const t of far.transfers) assert.ok(t.end_ms - t.start_ms >= (t.status === 'ok' ? 4 : 2) * 160, `${t.file} ${t.status} in ${t.end_ms - t.start_ms} ms`);
    assert.ok(far.transfers.every((t) => t.status === 'ok' || t.classes.includes('maxstartups_drop')));
    const d = far.cells[0]!.drops!.hosts.target!;
    assert.equal(d.client, d.sshd);
    assert.equal(far.cells[0]!.drops!.reclassified, 0);
  });

  it('drops behind a link are matched to the client\'s connection by port, forced by one connection held on a 1:100:1 sshd', async () => {
    // The sshd itself, behind its relay: the test holds its one unauthenticated slot directly.
    const loaded = await loadScenario(scenarioPath('maxstartups'), { sets: ['hosts.target.sshd.MaxStartups=1:100:1', 'hosts.target.link={rtt: 20ms}', 'matrix.concurrency=[1]', 'repeat=1', 'dataset.files=8', 'dataset.size=16KiB', 'transfer.retries=0'] });
    const records = await runHoldingSlot(loaded, { base, outDir: join(dir, 'held'), backend: (t) => new LocalBackend(t), host: 'target', releaseAfter: 3 });
    const transfers = (records.filter((r) => r.type === 'transfer') as unknown as TransferRecord[]).sort((a, b) => a.start_ms - b.start_ms);
    for (const t of transfers.slice(0, 3)) assert.deepEqual([t.status, t.classes], ['failed', ['maxstartups_drop']], t.attempts[0]!.stderr_tail);
    assert.equal(transfers.at(-1)!.status, 'ok');
    const cell = records.find((r) => r.type === 'cell') as unknown as CellRecord;
    assert.deepEqual(cell.links, { target: { rtt_ms: 20, jitter_ms: 0 } });
    const classed = transfers.filter((t) => t.classes.includes('maxstartups_drop')).length;
    const agreed = cell.drops!.hosts.target!;
    // Every drop sshd logged (from the relay's port) is matched to a client's own connection.
    assert.equal(agreed.sshd, classed);
    assert.equal(agreed.by_port, classed, JSON.stringify(cell.drops));
    assert.equal(cell.drops!.reclassified, 0);
  });
});
