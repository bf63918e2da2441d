import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { renderSshdConfig } from '../../src/ssh/sshd-config.js';
import { parseOpenSshVersion, unsupportedKeywords } from '../../src/ssh/openssh-version.js';
import { parseSshdLine, SshdLog } from '../../src/ssh/sshd-log.js';
import { renderKnownHosts, renderSshClientConfig } from '../../src/ssh/ssh-client-config.js';
import { contextHash, parseAptSources } from '../../src/hosts/container/sshd-image.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const input = (version: string, options: Record<string, string> = {}) => ({
  hostName: 'target',
  listen: { address: '127.0.0.2', port: 2222 },
  hostKeyPath: '/s/hk',
  authorizedKeysPath: '/s/ak',
  user: 'alice',
  sessionHome: '/s',
  version: parseOpenSshVersion(version)!,
  options,
});

describe('sshd_config rendering', () => {
  it('binds to the given loopback address, public keys only, one user', () => {
    const text = renderSshdConfig(input('OpenSSH_9.2p1', { MaxStartups: '10:30:100', MaxSessions: '10' }));
    const lines = text.split('\n');
    for (const expected of ['ListenAddress 127.0.0.2:2222', 'HostKey /s/hk', 'AuthorizedKeysFile /s/ak', 'AllowUsers alice', 'PasswordAuthentication no', 'LogLevel VERBOSE', 'PermitRootLogin no', 'SetEnv HOME=/s', 'MaxStartups 10:30:100', 'MaxSessions 10']) {
      assert.ok(lines.includes(expected), `missing "${expected}" in\n${text}`);
    }
    assert.ok(!text.includes('PerSourcePenalties'), '9.2 does not know PerSourcePenalties');
  });

  it('turns PerSourcePenalties off on 9.8+ unless the scenario sets it', () => {
    assert.ok(renderSshdConfig(input('OpenSSH_9.8p1')).includes('PerSourcePenalties no\n'));
    const own = renderSshdConfig(input('OpenSSH_10.0p2', { PerSourcePenalties: 'noauth:2s' }));
    assert.ok(own.includes('PerSourcePenalties noauth:2s\n'));
    assert.equal(own.match(/PerSourcePenalties/g)!.length, 1);
  });

  it('lets the scenario replace a default', () => {
    const text = renderSshdConfig(input('OpenSSH_9.2p1', { LogLevel: 'DEBUG1', UseDNS: 'yes' }));
    assert.ok(text.includes('LogLevel DEBUG1\n') && !text.includes('LogLevel VERBOSE'));
    assert.ok(text.includes('UseDNS yes\n') && !text.includes('UseDNS no'));
  });

  it('names the version a keyword needs', () => {
    const v = parseOpenSshVersion('OpenSSH_9.2p1 Debian-2+deb12u6')!;
    assert.deepEqual(unsupportedKeywords(['PerSourcePenalties', 'MaxStartups', 'PerSourceMaxStartups'], v), [
      { key: 'PerSourcePenalties', message: 'PerSourcePenalties needs OpenSSH 9.8 or newer; this sshd is OpenSSH_9.2p1' },
    ]);
    assert.deepEqual(unsupportedKeywords(['PerSourceMaxStartups'], parseOpenSshVersion('OpenSSH_8.4p1')!)[0]!.key, 'PerSourceMaxStartups');
  });
});

describe('sshd log parsing', () => {
  it('counts drops and throttling in the 8.4-9.7 format', () => {
    const log = new SshdLog(() => 5);
    for (const line of [
      'beginning MaxStartups throttling',
      'drop connection #10 from [127.0.0.1]:57496 on [127.0.0.2]:2222 past MaxStartups',
      'drop connection #11 from [127.0.0.1]:57498 on [127.0.0.2]:2222 past MaxStartups',
      'exited MaxStartups throttling after 00:00:01, 2 connections dropped',
      'Connection from 127.0.0.1 port 47668 on 127.0.0.2 port 2222 rdomain ""',
      'Accepted publickey for alice from 127.0.0.1 port 47668 ssh2: ED25519 SHA256:x',
    ]) log.push(line);
    assert.deepEqual(log.snapshot(), { maxstartups_drops: 2, penalty_drops: 0, throttling_periods: 1, sessions_refused: 0, accepted_logins: 1, connections: 1 });
    assert.deepEqual(log.events.map((e) => e.kind), ['throttle_begin', 'drop', 'drop', 'throttle_end']);
  });

  it('understands 9.8+ and 10.x drop lines, penalties and rate-limited logging', () => {
    assert.deepEqual(parseSshdLine('drop connection #3 from [127.0.0.1]:5 on [127.0.0.2]:22 past Maxstartups').counters, { maxstartups_drops: 1 });
    assert.deepEqual(parseSshdLine('drop connection #3 from [127.0.0.1]:5 on [127.0.0.2]:22 Maxstartups').counters, { maxstartups_drops: 1 });
    assert.deepEqual(parseSshdLine('drop connection #0 from [127.0.0.1]:5 on [127.0.0.2]:22 penalty: connections without attempting authentication').counters, { penalty_drops: 1 });
    assert.deepEqual(parseSshdLine('drop connection #9 from [127.0.0.1]:5 on [127.0.0.2]:22 Maxstartups logging rate-limited: additional 41 connections dropped').counters, { maxstartups_drops: 1 });
    assert.deepEqual(parseSshdLine('ssh_dropped: logging rate-limited: additional 41 connections dropped').counters, { maxstartups_drops: 41 });
    assert.deepEqual(parseSshdLine('error: no more sessions').counters, { sessions_refused: 1 });
  });
});

describe('client configuration', () => {
  const hosts = [{ alias: 'target', address: '127.0.0.2', port: 2222, user: 'alice', hostKeys: ['ssh-ed25519 AAAAC3Nz'] }];
  it('pins host keys by address and port', () => {
    assert.equal(renderKnownHosts(hosts), '[127.0.0.2]:2222,[target]:2222 ssh-ed25519 AAAAC3Nz\n');
  });
  it('keeps strict host key checking and reads nothing of the user', () => {
    const text = renderSshClientConfig({ hosts, identityFile: '/s/key', knownHostsFile: '/s/kh' });
    for (const expected of ['Host target', 'HostName 127.0.0.2', 'Port 2222', 'StrictHostKeyChecking yes', 'UserKnownHostsFile /s/kh', 'GlobalKnownHostsFile /dev/null', 'IdentitiesOnly yes', 'IdentityAgent none', 'BatchMode yes']) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
    assert.ok(!/StrictHostKeyChecking no/.test(text));
  });
});

describe('container image inputs', () => {
  it('reads bookworm and security mirrors from deb822 and one-line apt sources', () => {
    const deb822 = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n';
    assert.deepEqual(parseAptSources(deb822, ''), { main: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' });
    assert.deepEqual(parseAptSources('', 'deb [arch=amd64] http://m.example/debian bookworm main\ndeb http://s.example/ bookworm-security main\n'), { main: 'http://m.example/debian', security: 'http://s.example/' });
    assert.deepEqual(parseAptSources('', '# nothing\n'), {});
  });
  it('tags the image by the content of containers/sshd/: an edit changes the tag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xferbench-ctx-'));
    try {
      await writeFile(join(dir, 'Containerfile'), 'FROM x\n');
      const before = await contextHash(dir);
      assert.equal(await contextHash(dir), before);
      await writeFile(join(dir, 'entrypoint.sh'), '#!/bin/sh\n');
      assert.notEqual(await contextHash(dir), before);
      assert.match(await contextHash(), /^[0-9a-f]{16}$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
