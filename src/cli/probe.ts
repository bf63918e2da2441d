import { print, type CliCommand } from './shared.js';
import { XferbenchError } from '../util/errors.js';

/** `probe`: a live sshd's effective limits, learnt from outside. */
export const probeCommand: CliCommand = (program) => {
  program
    .command('probe')
    .description("learn a live sshd's effective limits from outside: MaxSessions, MaxStartups start:rate:full, version, algorithms, handshake time")
    .argument('<destination>', '[user@]host[:port]')
    .option('-J, --jump <host>', '[user@]host[:port] of a jump host to probe through (same key; its key in the same known_hosts)')
    .requiredOption('-i, --identity <key>', 'private key the host accepts')
    .requiredOption('--known-hosts <file>', "known_hosts holding the host's key (it is checked, as ssh does)")
    .option('--max <n>', 'most connections held or channels open at once (the load applied)', (v: string) => Number(v), 30)
    .option('--trials <n>', 'probe connections per MaxStartups level', (v: string) => Number(v), 12)
    .option('--rate <n>', 'most new connections per second (default 50; above 50 needs --i-administer-this-host)', (v: string) => Number(v), 50)
    .option('--i-administer-this-host', 'allow --max above 30 and --rate above 50')
    .option('--json', 'print the result as JSON')
    .action(async (destination: string, opts: { jump?: string; identity: string; knownHosts: string; max: number; trials: number; rate: number; iAdministerThisHost?: boolean; json?: boolean }) => {
      // Below 0.1 a second the pause between connections would pass what a timer honours and fire
      // at once (no limit at all); checked, with the rest, before anything connects.
      if (!(opts.rate >= 0.1 && opts.rate <= 10_000)) throw new XferbenchError('--rate must be a number of connections per second from 0.1 to 10000');
      if (opts.rate > 50 && opts.iAdministerThisHost !== true) throw new XferbenchError(`--rate ${opts.rate} is above 50 per second: add --i-administer-this-host if the host is yours`);
      const [{ probeTarget }, { probeHost }, { renderProbe }] = await Promise.all([import('../probe/probe-target.js'), import('../probe/probe.js'), import('../probe/render-probe.js')]);
      if (!Number.isInteger(opts.trials) || opts.trials < 1 || opts.trials > 100) throw new XferbenchError('--trials must be a whole number from 1 to 100');
      const target = await probeTarget(destination, { ...(opts.jump ? { jump: opts.jump } : {}), identity: opts.identity, knownHosts: opts.knownHosts, max: opts.max, administer: opts.iAdministerThisHost === true });
      const result = await probeHost(target, { max: opts.max, trials: opts.trials, rate: opts.rate });
      print(opts.json ? JSON.stringify(result, null, 2) : renderProbe(result));
    });
};
