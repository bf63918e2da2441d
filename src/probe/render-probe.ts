import type { ProbeResult } from './probe.js';

/** The probe's findings for people, with the load it applied. */
export function renderProbe(r: ProbeResult): string {
  const s = r.max_startups;
  const startups =
    s.start === null
      ? `no drop while holding up to ${r.load.max_held} unauthenticated connections: MaxStartups start is above that`
      : s.full !== null
        ? `start ${s.start}, rate ~${s.rate}%, full ${s.full} (MaxStartups ${s.start}:${s.rate}:${s.full}; start and full within 1, rate within ~20 points)`
        : `start ${s.start}, rate ~${s.rate}%, full above ${r.load.max_held}${s.full_extrapolated !== null ? `, about ${s.full_extrapolated} by the trend (extrapolated)` : ''}`;
  return [
    `${r.target}${r.via ? ` (through ${r.via})` : ''}: ${r.banner}`,
    `  key exchange ${r.kex}, cipher ${r.cipher}; handshake + login p50 ${r.handshake_ms.p50} ms, p95 ${r.handshake_ms.p95} ms (${r.handshake_ms.samples} logins)`,
    `  MaxSessions: ${r.max_sessions ?? `at least ${r.load.max_held}`}${r.max_sessions_refusal ? ` (the next channel: "${r.max_sessions_refusal}")` : ''}`,
    `  sftp subsystem: ${r.sftp ? 'yes' : 'none (sessions open, the subsystem request is refused: sftp, ssh2-sftp and OpenSSH 9\'s scp cannot run there)'}`,
    `  MaxStartups: ${startups}`,
    `  ControlMaster${r.via ? ' through the jump host' : ''}: ${r.mux.ok ? `works, master ready in ${r.mux.setup_ms} ms` : 'does NOT work'} (${r.mux.detail})`,
    `  drops per level (held: dropped/tried): ${s.levels.map((l) => `${l.held}:${l.dropped}/${l.trials}`).join(' ')}`,
    `load applied: at most ${r.load.max_held} connections held or channels open at once, at most ${r.load.max_rate} new per second, ${r.load.connections_opened} connections in all, ${(r.load.ms / 1000).toFixed(1)} s; all closed`,
  ].join('\n');
}
