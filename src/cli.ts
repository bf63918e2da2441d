#!/usr/bin/env node
import { Command, Option } from 'commander';
import { XferbenchError } from './errors.js';
import { loadScenario } from './scenario/load-scenario.js';
import { buildPlan } from './plan/plan.js';
import { runScenario, type RunEvent } from './run/run-scenario.js';
import { renderSummaryTable, renderThresholds } from './report/summary-table.js';
import { cleanLeftovers } from './hosts/leftovers.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function progressPrinter(quiet: boolean): (e: RunEvent) => void {
  if (quiet) return () => undefined;
  return (e) => {
    if (e.type === 'topology_started') console.error(`hosts up: ${e.hosts.join(', ')} (${e.ms.toFixed(0)} ms)`);
    if (e.type === 'cell_end') {
      const r = e.record;
      const drops = Object.values(r.sshd).reduce((n, h) => n + h.maxstartups_drops, 0);
      console.error(
        `cell ${r.cell} #${r.repeat}: ${r.ok}/${r.files} ok, ${r.failed} failed, ${r.silent_drops} silent drops, ` +
          `${((r.end_ms - r.start_ms) / 1000).toFixed(2)} s, sshd drops ${drops}`,
      );
    }
  };
}

/** First signal: abort and clean up. Later ones: say we are still cleaning; a third forces exit. */
function abortOnSignals(): AbortController {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      console.error(`\n${sig}: stopping transfers, ssh masters and sshd hosts...`);
      controller.abort(new Error(sig));
    } else if (count === 2) {
      console.error(`${sig} again: still cleaning up; a third signal exits at once and may leave processes behind`);
    } else {
      process.exit(130);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  return controller;
}

const program = new Command()
  .name('xferbench')
  .description('Concurrent file transfers over SSH against real sshd hosts: failure rates, silent drops, throughput')
  .showHelpAfterError();

program
  .command('run')
  .description('start the hosts of a scenario, run its transfer matrix, verify every file and write a report')
  .argument('<file>', 'scenario YAML file')
  .option('-o, --out <dir>', 'report folder (default reports/<name>-<timestamp>)')
  .option('-s, --set <key=value>', 'override a scenario field, e.g. transfer.mux=warm or matrix.concurrency=[5,10] (repeatable)', collect, [])
  .option('--keep-state', 'keep keys, configs and host data of the run for inspection')
  .option('-q, --quiet', 'print only the summary')
  .addOption(new Option('--json', 'print summary.json on stdout instead of the table'))
  .action(async (file: string, opts: { out?: string; set: string[]; keepState?: boolean; quiet?: boolean; json?: boolean }) => {
    const loaded = await loadScenario(file, opts.set);
    const controller = abortOnSignals();
    const result = await runScenario(loaded, {
      ...(opts.out ? { outDir: opts.out } : {}),
      signal: controller.signal,
      keepState: opts.keepState === true,
      onEvent: progressPrinter(opts.quiet === true || opts.json === true),
    });
    if (opts.json) {
      console.log(JSON.stringify({ ...result.summary, thresholds: result.thresholds, report_dir: result.reportDir }, null, 2));
    } else {
      console.log(`\n${renderSummaryTable(result.summary)}\n\n${renderThresholds(result.thresholds)}\nreport: ${result.reportDir}`);
    }
    process.exitCode = result.exitCode;
  });

program
  .command('validate')
  .description('check a scenario and print its execution plan without starting anything')
  .argument('<file>', 'scenario YAML file')
  .option('-s, --set <key=value>', 'override a scenario field (repeatable)', collect, [])
  .action(async (file: string, opts: { set: string[] }) => {
    const plan = buildPlan(await loadScenario(file, opts.set));
    console.log(`${plan.name}: ${plan.cells.length} cell(s) x ${plan.repeat} repeat(s) = ${plan.totalTransfers} transfers, ${plan.groups.length} topology start(s)`);
    for (const c of plan.cells) {
      const t = c.scenario.transfer;
      console.log(`  ${c.id}: ${c.scenario.dataset.files} x ${t.tool} ${t.direction} ${t.via.length ? `via ${t.via.join(',')} ` : ''}to ${t.to}, concurrency ${t.concurrency}, mux ${t.mux}`);
    }
  });

program
  .command('clean')
  .description('stop sshd hosts and ssh masters left by an interrupted run, and remove its state')
  .action(async () => {
    const r = await cleanLeftovers();
    console.log(`stopped ${r.processes} process(es), removed ${r.dirs} state folder(s)`);
  });

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof XferbenchError) {
    console.error(`xferbench: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    console.error(`xferbench: internal error: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  }
}
