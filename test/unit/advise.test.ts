import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { advise, renderAdvice } from '../../src/probe/advise.js';
import type { ProbeResult } from '../../src/probe/probe.js';

const probe = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'u@h:22',
  banner: 'SSH-2.0-OpenSSH_9.2p1',
  kex: 'curve25519-sha256',
  cipher: 'aes128-gcm@openssh.com',
  handshake_ms: { p50: 200, p95: 250, samples: 5 },
  max_sessions: 10,
  max_sessions_refusal: '(SSH) Channel open failure: open failed',
  sftp: true,
  max_startups: { start: 10, rate: 30, full: null, full_extrapolated: 60, levels: [] },
  mux: { ok: true, setup_ms: 250, detail: 'a second client ran a session over the master' },
  load: { max_held: 30, max_rate: 50, connections_opened: 400, ms: 6000 },
  ...over,
});

describe('advise', () => {
  it('prefers a warm master at MaxSessions - 1 when that carries more than the start limit allows', () => {
    const a = advise(probe(), { files: 1000, size: 4 << 20 });
    assert.equal(a.client[0]!.setting, 'transfer.mux: warm, transfer.concurrency: 9');
    assert.match(a.client[0]!.because, /MaxSessions measured at 10/);
    assert.ok(a.client.some((r) => /^batch \d+ files per connection/.test(r.setting)), 'many files: batching');
    assert.ok(a.server.some((r) => /^MaxStartups \d+:30:\d+$/.test(r.setting)));
  });

  it('caps connection starts below MaxStartups start, with headroom, when sessions cannot carry more', () => {
    const a = advise(probe({ max_sessions: 2, max_startups: { start: 10, rate: 30, full: 20, full_extrapolated: null, levels: [] } }), { files: 40, size: 1 << 20 });
    assert.equal(a.client[0]!.setting, 'transfer.mux: off, transfer.concurrency: 8');
    assert.match(a.client[0]!.because, /MaxStartups start measured at 10/);
    assert.ok(!a.client.some((r) => r.setting.startsWith('batch')), '40 files over 8 starts: no batching needed');
  });

  it('says when a limit was above what the probe held, and every recommendation gives its reason', () => {
    const a = advise(probe({ max_sessions: null, max_startups: { start: null, rate: null, full: null, full_extrapolated: null, levels: [] } }), { files: 10, size: 1024 });
    assert.equal(a.caveats.length, 2);
    for (const r of [...a.client, ...a.server]) assert.ok(r.because.length > 10, r.setting);
    assert.match(renderAdvice(a), /^transfer settings:\n {2}- /);
  });

  it('never advises a master the probe could not use, and says why', () => {
    const a = advise(probe({ via: 'u@jump:22', mux: { ok: false, setup_ms: null, detail: 'the master did not start: channel 0: open failed: administratively prohibited' } }), { files: 1000, size: 4 << 20 });
    assert.equal(a.client[0]!.setting, 'transfer.mux: off, transfer.concurrency: 8');
    assert.deepEqual([a.transfer.mux, a.transfer.concurrency], ['off', 8]);
    assert.match(a.caveats.join('\n'), /multiplexing did not work through u@jump:22: .*administratively prohibited/);
  });
});
