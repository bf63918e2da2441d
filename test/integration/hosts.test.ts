import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { findTools, type OpenSshTools } from '../../src/ssh/openssh-tools.js';
import { LocalBackend } from '../../src/hosts/local/local-backend.js';
import { createStateDir } from '../../src/hosts/state-dir.js';
import { generateKeyPair } from '../../src/ssh/ssh-keys.js';
import { startTopology } from '../../src/hosts/topology.js';
import { HostStartError } from '../../src/util/errors.js';
import { isolatedStateBase, leftovers, removeAll } from '../helpers/harness.js';

describe('local sshd hosts', () => {
  let tools: OpenSshTools;
  let base: string;
  beforeAll(async () => {
    tools = await findTools();
    base = await isolatedStateBase('hosts');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base);
  });

  async function context() {
    const state = await createStateDir(base);
    const clientKey = await generateKeyPair(tools.sshKeygen, join(state.path, 'client_ed25519'), 'test');
    return { state, ctx: { stateDir: state.path, clientKey, clock: () => performance.now() } };
  }

  it('starts three hosts on distinct loopback addresses, reachable through a jump host with checked host keys', async () => {
    const { state, ctx } = await context();
    await using _state = state;
    let pids: string[];
    {
      await using topo = await startTopology(new LocalBackend(tools), { target: { sshd: { MaxSessions: '10' } }, head: { sshd: {} }, worker: { sshd: {} } }, ctx);
      const addresses = new Set([...topo.hosts.values()].map((h) => `${h.endpoint.address}:${h.endpoint.port}`));
      assert.equal(addresses.size, 3);
      for (const h of topo.hosts.values()) assert.match(h.endpoint.address, /^127\./);
      const r = await execa(tools.ssh, ['-F', topo.client.sshConfigPath, '-J', 'head', 'target', 'echo', 'through-head'], { reject: false });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, 'through-head');
      assert.equal(topo.host('head').log!.snapshot().accepted_logins, 1);
      assert.equal(topo.host('target').log!.snapshot().accepted_logins, 1);
      assert.ok((await readFile(topo.client.sshConfigPath, 'utf8')).includes('StrictHostKeyChecking yes'));

      // A host key that does not match the generated known_hosts is refused.
      const kh = await readFile(topo.client.knownHostsPath, 'utf8');
      const other = (await generateKeyPair(tools.sshKeygen, join(state.path, 'impostor'), 'x')).publicKey.split(' ').slice(0, 2).join(' ');
      await writeFile(topo.client.knownHostsPath, kh.replace(/^(\[127\.0\.0\.\d+\]:\d+,\[target\]:\d+) .*$/m, `$1 ${other}`));
      const bad = await execa(tools.ssh, ['-F', topo.client.sshConfigPath, 'target', 'true'], { reject: false });
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);

      pids = await leftovers(base);
      assert.equal(pids.length, 3, `three sshd processes while running: ${pids.join('\n')}`);
      await topo.stop();
      await topo.stop(); // idempotent; dispose at block end stops a third time
    }
    assert.deepEqual(await leftovers(base), []);
  });

  it('gives a clear error when sshd rejects the configuration, and starts nothing', async () => {
    const { state, ctx } = await context();
    await using _state = state;
    await assert.rejects(
      startTopology(new LocalBackend(tools), { ok: { sshd: {} }, bad: { sshd: { MaxStartups: 'nonsense' } } }, ctx),
      (e: unknown) => e instanceof HostStartError && /sshd rejected the configuration of host "bad"/.test(e.message),
    );
    assert.deepEqual(await leftovers(base), []);
  });
});
