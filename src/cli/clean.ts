import { print, type CliCommand } from './shared.js';

/** `clean`: what dead runs left (processes, state folders, containers). */
export const cleanCommand: CliCommand = (program) => {
  program
    .command('clean')
    .description('stop sshd hosts, ssh masters and containers left by runs whose process is gone, and remove their state')
    .option('--all', 'also remove xferbench containers and networks of runs still going (on any machine sharing the engine)')
    .action(async (opts: { all?: boolean }) => {
      const [{ cleanLeftovers, describeReaped }, { engineSocketPresent }] = await Promise.all([import('../hosts/leftovers.js'), import('../hosts/container/engine-sockets.js')]);
      const r = await cleanLeftovers(undefined, { containersHandled: true });
      print(r.dirs > 0 ? describeReaped(r) : 'no dead run left processes or state folders');
      // An engine is asked only where one listens or a dead run used one: a private Podman
      // service costs seconds to start, and nothing of ours can be in one nobody started.
      const startService = opts.all === true || r.usedContainers;
      if (!startService && !engineSocketPresent()) {
        print('no container engine is running and no dead run used containers');
        return;
      }
      const { cleanContainers } = await import('../hosts/container/container-leftovers.js');
      const c = await cleanContainers({ all: opts.all === true }, { startService });
      print(c ? `removed ${c.containers} container(s) and ${c.networks} network(s)` : 'no container engine found; no containers to look for');
    });
};
