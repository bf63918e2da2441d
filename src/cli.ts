#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { XferbenchError } from './util/errors.js';
import { showText } from './util/show-text.js';

// What the CLI prints holds scenario values, report folders' records and programs' messages: every
// line goes out with control characters escaped.
const print = (text: string) => console.log(showText(text, true));
const warn = (text: string) => console.error(showText(text, true));
import type { ImageBase } from './hosts/container/sshd-image.js';
import { SignalGuard } from './run/signal-guard.js';
import { parseLimit, type Limits } from './spec/limits.js';
import type { StepName } from './records/transfer-record.js';

// Each command imports what it uses when it runs: `validate` needs no transfer or chart code,
// and the whole static graph cost every command ~240 ms before it did anything.

const collect = (value: string, previous: string[]) => [...previous, value];
const fraction = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0, e.g. 0.05');
  return n;
};

/** Set once the scenario is loaded; ends the process with the signal that interrupted it. */
let guard: SignalGuard | undefined;
const guardSignals = () => (guard = new SignalGuard());

const limitOption = () =>
  new Option('--limit <name=n>', 'raise a size limit: cells, runs, transfers, bytes, hosts or concurrency (defaults in docs/security.md); repeatable')
    .argParser((value: string, previous: Partial<Limits> = {}) => {
      const parsed = parseLimit(value);
      if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
      return { ...previous, [parsed[0]]: parsed[1] };
    });

interface RunFlags {
  out?: string;
  set: string[];
  limit?: Partial<Limits>;
  keepState?: boolean;
  quiet?: boolean;
  json?: boolean;
  junit?: string;
  png?: boolean;
}

const program = new Command()
  .name('xferbench')
  .description('Concurrent file transfers over SSH against real sshd hosts: failure rates, silent drops, throughput')
  .showHelpAfterError();

/** What `run` and `resume` print and keep. */
const runOutputs = (command: Command) =>
  command
    .option('--keep-state', 'keep keys, configs and host data of the run for inspection')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the summary as JSON on stdout instead of the table')
    .option('--junit <file>', 'write JUnit XML: one test case per matrix cell and threshold')
    .option('--png', 'also write charts/*.png (report.html has the charts either way)');

runOutputs(program.command('run').description('start the hosts of a scenario, run its transfer matrix, verify every file and write a report'))
  .argument('<file>', 'scenario YAML file')
  .option('-o, --out <dir>', 'report folder (default reports/<name>-<timestamp>)')
  .option('-s, --set <key=value>', 'override a scenario field, e.g. transfer.mux=warm or matrix.concurrency=[5,10] (repeatable)', collect, [])
  .addOption(limitOption())
  .action(async (file: string, opts: RunFlags) => {
    const { loadChecked } = await import('./run/preflight.js');
    const { loaded, tools } = await loadChecked(file, { sets: opts.set, limits: opts.limit ?? {} });
    await runAndReport(loaded, tools, opts);
  });

/** `run` and `resume`: the run with progress on stderr, then the table (or JSON), JUnit and the step summary. */
async function runAndReport(loaded: import('./plan/load-plan.js').LoadedScenario, tools: Promise<import('./ssh/openssh-tools.js').OpenSshTools>, opts: Omit<RunFlags, 'set'>, resume?: import('./run/run-scenario.js').RunOptions['resume']): Promise<void> {
  const [{ runScenario }, { createProgress, progressMode }, { exporter }] = await Promise.all([import('./run/run-scenario.js'), import('./report/progress-display.js'), import('./exporters/index.js')]);
  const { signal } = guardSignals();
  const progress = createProgress(progressMode({ quiet: opts.quiet === true || opts.json === true, isTTY: process.stderr.isTTY }));
  // Written after the progress display has let go of the terminal, in this order.
  const outputs = [exporter(opts.json ? 'json' : 'table'), ...(opts.junit ? [exporter('junit', { file: opts.junit })] : []), exporter('step-summary')];
  let result;
  try {
    result = await runScenario(loaded, {
      ...(opts.out ? { outDir: opts.out } : {}),
      ...(resume ? { resume } : {}),
      signal,
      tools: await tools,
      keepState: opts.keepState === true,
      exporters: opts.png ? [exporter('png')] : [],
      onEvent: (e) => progress.onEvent(e),
    });
  } finally {
    progress.stop();
  }
  for (const o of outputs) await o.write(result.report);
  process.exitCode = result.exitCode;
}

runOutputs(program.command('resume').description('continue an interrupted pipeline run in its report folder: finished steps are not redone, the report covers the whole run'))
  .argument('<dir>', 'report folder of the interrupted run')
  .addOption(limitOption())
  .action(async (dir: string, opts: Omit<RunFlags, 'set' | 'out'>) => {
    const { planResume } = await import('./run/resume.js');
    const { findTools } = await import('./ssh/openssh-tools.js');
    const tools = findTools();
    tools.catch(() => undefined);
    const resume = await planResume(dir, opts.limit ?? {});
    if (!resume) {
      print(`${dir}: the run completed; nothing to resume`);
      return;
    }
    await runAndReport(resume.loaded, tools, { ...opts, out: dir }, resume.state);
  });

// One Slurm task of a run with executor: slurm (started by srun, not by people).
program
  .command('worker', { hidden: true })
  .argument('<job-file>')
  .action(async (file: string) => {
    const { runWorker } = await import('./executors/slurm/worker.js');
    await runWorker(file);
  });

// One step of one pipeline rank, as a Slurm batch job of a run with executor: slurm (started by sbatch).
program
  .command('step', { hidden: true })
  .argument('<job-file>')
  .argument('<rank>')
  .argument('<step>')
  .argument('[dependency]')
  .action(async (file: string, rank: string, step: string, dependency: string | undefined) => {
    const { STEP_NAMES } = await import('./records/transfer-record.js');
    if (!/^\d+$/.test(rank) || !(STEP_NAMES as readonly string[]).includes(step)) throw new XferbenchError(`step: bad rank ${JSON.stringify(rank)} or step ${JSON.stringify(step)}`);
    const { runStepJob } = await import('./executors/slurm/step-job.js');
    process.exitCode = await runStepJob(file, Number(rank), step as StepName, dependency);
  });

program
  .command('finalize')
  .description('finish what a pipeline run left: rename landed temporaries into place with their metadata, delete the rest; idempotent')
  .argument('<dir>', 'a report folder, or any folder holding rank state files')
  .option('--json', 'print what was done per rank as JSON')
  .action(async (dir: string, opts: { json?: boolean }) => {
    const { finalizeReport } = await import('./run/finalize-report.js');
    const result = await finalizeReport(dir);
    print(opts.json ? JSON.stringify(result, null, 2) : result.text);
    process.exitCode = result.exitCode;
  });

program
  .command('suite')
  .description('run every scenario in a folder and write an index report linking them')
  .argument('<dir>', 'folder of scenario YAML files')
  .option('-o, --out <dir>', 'suite folder (default reports/suite-<timestamp>)')
  .option('-s, --set <key=value>', 'override a field in every scenario (repeatable)', collect, [])
  .option('-q, --quiet', 'no progress output')
  .option('--junit <file>', 'write JUnit XML: one test suite per scenario')
  .option('--png', 'also write charts/*.png in every report folder')
  .addOption(limitOption())
  .action(async (dir: string, opts: RunFlags) => {
    const [{ runSuite }, { createProgress, progressMode }, { exporter }] = await Promise.all([import('./run/run-suite.js'), import('./report/progress-display.js'), import('./exporters/index.js')]);
    const { signal } = guardSignals();
    const out = opts.out ?? `reports/suite-${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, 'Z')}`;
    const mode = progressMode({ quiet: opts.quiet === true, isTTY: process.stderr.isTTY });
    const progress = createProgress(mode);
    let result;
    try {
      result = await runSuite(dir, {
        outDir: out,
        sets: opts.set,
        limits: opts.limit ?? {},
        signal,
        exporters: [...(opts.png ? [exporter('png')] : []), ...(opts.junit ? [exporter('junit', { file: opts.junit })] : []), exporter('step-summary')],
        onScenario: (file, i, of) => {
          // A bar owns its terminal line; headers go to plain-line logs only.
          if (mode === 'lines') warn(`[${i + 1}/${of}] ${file}`);
        },
        onEvent: (e) => progress.onEvent(e),
      });
    } finally {
      progress.stop();
    }
    for (const e of result.entries) print(`${e.exitCode === 0 ? 'PASS ' : e.exitCode === 1 ? 'FAIL ' : 'ERROR'}  ${e.scenario}  ${e.error ?? `${e.thresholdsPassed} thresholds passed, ${e.thresholdsFailed} failed`}`);
    print(`index: ${result.indexPath}`);
    process.exitCode = result.exitCode;
  });

program
  .command('report')
  .description('write summary, report.html and the charts as PNG (charts/*.png) from an existing report folder')
  .argument('<dir>', 'report folder (holds results.jsonl)')
  .action(async (dir: string) => {
    const [{ writeDerivedReport }, { exporter }] = await Promise.all([import('./exporters/write-report.js'), import('./exporters/index.js')]);
    await writeDerivedReport(dir, { exporters: [exporter('png'), exporter('table')] });
    print(`wrote ${dir}/charts/*.png`);
  });

program
  .command('compare')
  .description('compare two runs of a scenario cell by cell; exit 1 on a regression beyond the tolerances')
  .argument('<base>', 'report folder of the baseline run')
  .argument('<new>', 'report folder of the run to judge')
  .option('--failure-tolerance <pp>', 'loss- and failure-rate change (absolute, 0.02 = 2 points) that still counts as noise', fraction, 0.02)
  .option('--tolerance <fraction>', 'relative throughput / p95 change that still counts as noise', fraction, 0.1)
  .option('--json', 'print the comparison as JSON')
  .action(async (base: string, next: string, opts: { failureTolerance: number; tolerance: number; json?: boolean }) => {
    const [{ buildSummary }, { readResults }, { compareSummaries, renderComparison }] = await Promise.all([import('./report/summary.js'), import('./report/report-dir.js'), import('./report/compare-runs.js')]);
    const load = async (dir: string) => {
      try {
        return buildSummary(await readResults(dir));
      } catch (e) {
        throw new XferbenchError(`cannot read ${dir}/results.jsonl: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    };
    const rows = compareSummaries(await load(base), await load(next), { failureRate: opts.failureTolerance, relative: opts.tolerance });
    print(opts.json ? JSON.stringify(rows, null, 2) : renderComparison(rows));
    process.exitCode = rows.some((r) => r.verdict === 'regression') ? 1 : 0;
  });

program
  .command('validate')
  .description('check a scenario (schema, matrix, limits, sshd -t of every host configuration) and print its plan; starts nothing, writes nothing')
  .argument('<file>', 'scenario YAML file')
  .option('-s, --set <key=value>', 'override a scenario field (repeatable)', collect, [])
  .addOption(limitOption())
  .action(async (file: string, opts: { set: string[]; limit?: Partial<Limits> }) => {
    const [{ loadChecked, preflight }, { describePipeline }, { stepsNote }, { backendKind }] = await Promise.all([import('./run/preflight.js'), import('./pipeline/describe.js'), import('./executors/registry.js'), import('./hosts/backends.js')]);
    const { loaded, tools: probing } = await loadChecked(file, { sets: opts.set, limits: opts.limit ?? {} });
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
    for (const n of notes) print(`note: ${n}`);
    if (tools.sshd && plan.groups.some((g) => backendKind(g.backend).ownSshd)) print(`note: sshd -t used this machine's ${tools.sshdVersion?.text ?? 'sshd'}; container hosts check again with the image's sshd when they start`);
  });

program
  .command('clean')
  .description('stop sshd hosts, ssh masters and containers left by runs whose process is gone, and remove their state')
  .option('--all', 'also remove xferbench containers and networks of runs still going (on any machine sharing the engine)')
  .action(async (opts: { all?: boolean }) => {
    const [{ cleanLeftovers, describeReaped }, { engineSocketPresent }] = await Promise.all([import('./hosts/leftovers.js'), import('./hosts/container/engine-sockets.js')]);
    const r = await cleanLeftovers(undefined, { containersHandled: true });
    print(r.dirs > 0 ? describeReaped(r) : 'no dead run left processes or state folders');
    // An engine is asked only where one listens or a dead run used one: a private Podman
    // service costs seconds to start, and nothing of ours can be in one nobody started.
    const startService = opts.all === true || r.usedContainers;
    if (!startService && !engineSocketPresent()) {
      print('no container engine is running and no dead run used containers');
      return;
    }
    const { cleanContainers } = await import('./hosts/container/container-leftovers.js');
    const c = await cleanContainers({ all: opts.all === true }, { startService });
    print(c ? `removed ${c.containers} container(s) and ${c.networks} network(s)` : 'no container engine found; no containers to look for');
  });

program
  .command('schema')
  .description('print the JSON Schema of scenario files (shipped as schema/scenario.schema.json; scenarios name it for editors)')
  .action(async () => {
    const { scenarioJsonSchemaText } = await import('./scenario/json-schema.js');
    process.stdout.write(scenarioJsonSchemaText());
  });

program
  .command('init')
  .description('write a scenario to start from, with comments and the schema reference for editors; never overwrites')
  .argument('[file]', 'the scenario file to write', 'scenario.yaml')
  .addOption(new Option('--template <name>', 'the seed scenario to start from').choices(['maxstartups', 'mux', 'jump', 'container']).default('maxstartups'))
  .action(async (file: string, opts: { template: 'maxstartups' | 'mux' | 'jump' | 'container' }) => {
    const { writeTemplate, TEMPLATES } = await import('./scenario/init-template.js');
    await writeTemplate(file, opts.template);
    print(`wrote ${file} from ${TEMPLATES[opts.template]}; next: xferbench validate ${file}`);
  });

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
    const [{ probeTarget }, { probeHost }, { renderProbe }] = await Promise.all([import('./probe/probe-target.js'), import('./probe/probe.js'), import('./probe/render-probe.js')]);
    if (!Number.isInteger(opts.trials) || opts.trials < 1 || opts.trials > 100) throw new XferbenchError('--trials must be a whole number from 1 to 100');
    const target = await probeTarget(destination, { ...(opts.jump ? { jump: opts.jump } : {}), identity: opts.identity, knownHosts: opts.knownHosts, max: opts.max, administer: opts.iAdministerThisHost === true });
    const result = await probeHost(target, { max: opts.max, trials: opts.trials, rate: opts.rate });
    print(opts.json ? JSON.stringify(result, null, 2) : renderProbe(result));
  });

program
  .command('advise')
  .description('transfer settings that should not drop files at a probed site, and the sshd limits that would carry more; each names the measurement it rests on')
  .option('--probe <file>', 'the JSON `xferbench probe --json` printed')
  .option('--host <destination>', 'or probe [user@]host[:port] now (as xferbench probe, default --max), then advise')
  .option('-J, --jump <host>', 'with --host: probe through this jump host')
  .requiredOption('--files <n>', 'files to stage', (v: string) => Number(v))
  .requiredOption('--size <size>', 'size of each file, e.g. 4MiB')
  .option('--json', 'print the advice as JSON')
  .option('--verify', 'then run the advised settings against the probed host (at most 200 files, 256 MiB) and report the failure rate seen')
  .option('-i, --identity <key>', 'with --host or --verify: private key the host accepts')
  .option('--known-hosts <file>', "with --host or --verify: known_hosts holding the host's key")
  .option('--remote-dir <dir>', 'with --verify: folder below the login\'s home for the run\'s own (made and removed)', 'xferbench')
  .option('-o, --out <dir>', 'with --verify: report folder')
  .action(async (opts: { probe?: string; host?: string; jump?: string; files: number; size: string; json?: boolean; verify?: boolean; identity?: string; knownHosts?: string; remoteDir: string; out?: string }) => {
    const [{ readFile }, { advise, renderAdvice }, { parseBytes }] = await Promise.all([import('node:fs/promises'), import('./probe/advise.js'), import('./spec/size.js')]);
    const size = parseBytes(opts.size);
    if (typeof size === 'string') throw new XferbenchError(`--size: ${size}`);
    if (!Number.isInteger(opts.files) || opts.files < 1) throw new XferbenchError('--files must be a whole number of at least 1');
    if ((opts.probe === undefined) === (opts.host === undefined)) throw new XferbenchError('give either --probe RESULT.json or --host DESTINATION');
    if ((opts.verify || opts.host) && (!opts.identity || !opts.knownHosts)) throw new XferbenchError('--host and --verify log in to the host: give -i KEY and --known-hosts FILE, as for probe');
    let probe: import('./probe/probe.js').ProbeResult;
    if (opts.host) {
      const [{ probeTarget, DEFAULT_MAX }, { probeHost }] = await Promise.all([import('./probe/probe-target.js'), import('./probe/probe.js')]);
      const target = await probeTarget(opts.host, { ...(opts.jump ? { jump: opts.jump } : {}), identity: opts.identity!, knownHosts: opts.knownHosts!, max: DEFAULT_MAX });
      probe = await probeHost(target, { max: DEFAULT_MAX });
    } else {
      try {
        probe = JSON.parse(await readFile(opts.probe!, 'utf8')) as import('./probe/probe.js').ProbeResult;
        if (typeof probe.max_startups !== 'object' || !('max_sessions' in probe) || typeof probe.handshake_ms?.p95 !== 'number' || typeof probe.target !== 'string') throw new Error('not the JSON of xferbench probe --json');
      } catch (e) {
        throw new XferbenchError(`cannot use ${opts.probe}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const advice = advise(probe, { files: opts.files, size });
    // A probe made here is printed with the advice: it is what the advice rests on.
    const probed = opts.host ? (await import('./probe/render-probe.js')).renderProbe(probe) : undefined;
    const text = [probed, renderAdvice(advice)];
    const json: Record<string, unknown> = { ...advice, ...(opts.host ? { probe } : {}) };
    if (opts.verify) {
      const [{ verifyAdvice, renderVerify }, { findTools }, { createProgress, progressMode }] = await Promise.all([
        import('./probe/verify-advice.js'), import('./ssh/openssh-tools.js'), import('./report/progress-display.js'),
      ]);
      const { signal } = guardSignals();
      const progress = createProgress(progressMode({ quiet: opts.json === true, isTTY: process.stderr.isTTY }));
      let verified;
      try {
        verified = await verifyAdvice({
          probe, advice, work: { files: opts.files, size }, identity: opts.identity!, knownHosts: opts.knownHosts!, remoteDir: opts.remoteDir, tools: await findTools(),
          run: { signal, onEvent: (e) => progress.onEvent(e), ...(opts.out ? { outDir: opts.out } : {}) },
        });
      } finally {
        progress.stop();
      }
      const { run, ...seen } = verified;
      json.verify = { ...seen, report: run.reportDir };
      text.push(renderVerify(verified, probe.target));
      process.exitCode = verified.kept ? 0 : 1;
    }
    print(opts.json ? JSON.stringify(json, null, 2) : text.filter((t) => t !== undefined).join('\n'));
  });

const image = program.command('image').description('the sshd host image of backend: container');
image
  .command('build')
  .description('build (or find) the image for the current containers/sshd/; run lazily by `run` too')
  .addOption(new Option('--base <kind>', 'registry: FROM debian:bookworm-slim; bootstrap: debootstrap from the apt mirror, no registry; auto: bootstrap where debootstrap is installed').choices(['auto', 'registry', 'bootstrap']).default('auto'))
  .option('--force', 'rebuild even if the image for this content exists')
  .action(async (opts: { base: ImageBase; force?: boolean }) => {
    const { containerEngine } = await import('./hosts/container/container-engine.js');
    const { ensureSshdImage } = await import('./hosts/container/sshd-image.js');
    const engine = await containerEngine();
    const img = await ensureSshdImage(engine, { base: opts.base, force: opts.force === true, onProgress: (l) => warn(l) });
    print(img.built ? `built ${img.tag} from ${img.built.base} in ${(img.built.ms / 1000).toFixed(1)} s (${engine.version})` : `${img.tag} is up to date (${engine.version})`);
  });

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof XferbenchError) {
    warn(`xferbench: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    warn(`xferbench: internal error: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  }
}
guard?.end();
