import { print, collect, guardSignals, limitOption, type CliCommand } from './shared.js';
import type { Limits } from '../spec/limits.js';

/** `validate`: every check that needs no host, and the plan; starts nothing, writes nothing. */
export const validateCommand: CliCommand = (program) => {
  program
    .command('validate')
    .description('check a scenario (schema, matrix, limits, sshd -t of every host configuration) and print its plan; starts nothing, writes nothing')
    .argument('<file>', 'scenario YAML file')
    .option('-s, --set <key=value>', 'override a scenario field (repeatable)', collect, [])
    .option('--i-administer-this-host', 'check as a run with it would: no cap on the load aimed at external hosts')
    .addOption(limitOption())
    .action(async (file: string, opts: { set: string[]; limit?: Partial<Limits>; iAdministerThisHost?: boolean }) => {
      const [{ loadChecked, preflight }, { describePipeline }, { stepsNote }, { backendKind }] = await Promise.all([import('../run/preflight.js'), import('../pipeline/describe.js'), import('../executors/registry.js'), import('../hosts/backends.js')]);
      const administer = opts.iAdministerThisHost === true;
      const { loaded, tools: probing } = await loadChecked(file, { sets: opts.set, limits: opts.limit ?? {}, administer });
      const { signal } = guardSignals();
      const tools = await probing;
      // This machine's sshd stands in for a container image's (the same Debian release by default).
      const notes = await preflight(loaded, tools, { versionOf: async () => tools.sshdVersion ?? tools.sshVersion, signal });
      const { plan } = loaded;
      const first = plan.cells[0]!.scenario;
      print(`${plan.name}: ${plan.cells.length} cell(s) x ${plan.repeat} repeat(s) = ${plan.totalTransfers} transfers, ${plan.groups.length} topology start(s), backend ${first.backend}, client ${first.client}`);
      for (const c of plan.cells) {
        const t = c.scenario.transfer;
        if (!t) {
          print(`  ${c.id}: ${describePipeline(c.scenario.pipeline!, c.scenario.dataset.files, stepsNote(c.scenario.executor))}`);
          continue;
        }
        const tool = t.command ? `command ${JSON.stringify(t.command)}` : t.tool;
        print(`  ${c.id}: ${c.scenario.dataset.files} x ${tool} ${t.direction} ${t.from ? `from ${t.from} ` : ''}${t.via.length ? `via ${t.via.join(',')} ` : ''}to ${t.to}, concurrency ${t.concurrency}, mux ${t.mux}`);
      }
      const { externalLoad, renderExternalLoad } = await import('../plan/external-load.js');
      const external = externalLoad(plan);
      if (external.length > 0) print(renderExternalLoad(external, administer));
      for (const n of notes) print(`note: ${n}`);
      if (tools.sshd && plan.groups.some((g) => backendKind(g.backend).ownSshd)) print(`note: sshd -t used this machine's ${tools.sshdVersion?.text ?? 'sshd'}; container hosts check again with the image's sshd when they start`);
    });
};
