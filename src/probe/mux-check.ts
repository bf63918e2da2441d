import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XferbenchError } from '../util/errors.js';
import { runCommand } from '../process/run-command.js';
import { renderKnownHosts, renderSshClientConfig, type ClientHostEntry } from '../ssh/ssh-client-config.js';
import { controlPath } from '../transfers/ssh-invocation.js';
import { CONFIG_WORD } from '../ssh/ssh-client-config.js';
import { MuxSession } from '../transfers/mux-session.js';
import type { ProbeTarget } from './probe-target.js';

export interface MuxCheck {
  /** A second ssh client ran a session over the master (and could not have connected on its own). */
  ok: boolean;
  /** From starting the master until `ssh -O check` answered, through the jump host if any. */
  setup_ms: number | null;
  detail: string;
}

/**
 * Whether ControlMaster multiplexing works to the target (through its jump host): the ssh program
 * with a config of its own (your key, the pinned host keys, nothing from ~/.ssh) starts a master,
 * then a client whose ProxyCommand is `false` runs `true` — it can only succeed over the master.
 * The master is told to exit and its folder removed before this returns.
 */
export async function checkMux(target: ProbeTarget, ssh: string): Promise<MuxCheck> {
  if (!CONFIG_WORD.test(target.privateKeyPath)) throw new XferbenchError(`the key path ${JSON.stringify(target.privateKeyPath)} has characters an ssh_config cannot carry safely`);
  const dir = await mkdtemp(join(tmpdir(), 'xb-probe-'));
  try {
    const entry = (alias: string, t: typeof target): ClientHostEntry => ({ alias, address: t.address, port: t.port, user: t.user, hostKeys: [...t.hostKeys] });
    const hosts = [entry('target', target), ...(target.via ? [entry('jump', { ...target.via })] : [])];
    const knownHosts = join(dir, 'known_hosts');
    const config = join(dir, 'ssh_config');
    await writeFile(knownHosts, renderKnownHosts(hosts), { mode: 0o600 });
    await writeFile(config, renderSshClientConfig({ hosts, identityFile: target.privateKeyPath, knownHostsFile: knownHosts }), { mode: 0o600 });
    const controlDir = join(dir, 'cm');
    const options = ['-F', config, '-o', `ControlPath=${controlPath(controlDir)}`, '-o', 'ConnectTimeout=15', ...(target.via ? ['-J', 'jump'] : [])];
    await using mux = new MuxSession({ mode: 'warm', ssh, options, host: 'target', controlDir });
    const t0 = performance.now();
    const status = await mux.open();
    const setup = Math.round(performance.now() - t0);
    if (!status.master_ok) return { ok: false, setup_ms: null, detail: `the master did not start: ${status.master_error ?? ''}`.trim() };
    const client = await runCommand(ssh, [...options, '-o', 'ControlMaster=no', '-o', 'ProxyCommand=false', 'target', 'true'], { timeoutMs: 30_000 });
    return client.exitCode === 0
      ? { ok: true, setup_ms: setup, detail: 'a second client ran a session over the master' }
      : { ok: false, setup_ms: setup, detail: `the master started, but a client could not use it: ${client.stderr.trim().slice(-300) || `exit ${client.exitCode}`}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
