import { print, guardSignals, type CliCommand } from './shared.js';
import { XferbenchError } from '../util/errors.js';

/** `advise`: settings for a probed site, and optionally a run that checks them. */
export const adviseCommand: CliCommand = (program) => {
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
    .option('--i-administer-this-host', 'with --verify: the server is yours; the run is neither capped at 30 at once nor paced (docs/site.md)')
    .action(async (opts: { probe?: string; host?: string; jump?: string; files: number; size: string; json?: boolean; verify?: boolean; identity?: string; knownHosts?: string; remoteDir: string; out?: string; iAdministerThisHost?: boolean }) => {
      const [{ readFile }, { advise, renderAdvice }, { parseBytes }] = await Promise.all([import('node:fs/promises'), import('../probe/advise.js'), import('../spec/size.js')]);
      const size = parseBytes(opts.size);
      if (typeof size === 'string') throw new XferbenchError(`--size: ${size}`);
      if (!Number.isInteger(opts.files) || opts.files < 1) throw new XferbenchError('--files must be a whole number of at least 1');
      if ((opts.probe === undefined) === (opts.host === undefined)) throw new XferbenchError('give either --probe RESULT.json or --host DESTINATION');
      if ((opts.verify || opts.host) && (!opts.identity || !opts.knownHosts)) throw new XferbenchError('--host and --verify log in to the host: give -i KEY and --known-hosts FILE, as for probe');
      let probe: import('../probe/probe.js').ProbeResult;
      if (opts.host) {
        const [{ probeTarget, DEFAULT_MAX }, { probeHost }] = await Promise.all([import('../probe/probe-target.js'), import('../probe/probe.js')]);
        const target = await probeTarget(opts.host, { ...(opts.jump ? { jump: opts.jump } : {}), identity: opts.identity!, knownHosts: opts.knownHosts!, max: DEFAULT_MAX });
        probe = await probeHost(target, { max: DEFAULT_MAX });
      } else {
        try {
          probe = JSON.parse(await readFile(opts.probe!, 'utf8')) as import('../probe/probe.js').ProbeResult;
          if (typeof probe.max_startups !== 'object' || !('max_sessions' in probe) || typeof probe.handshake_ms?.p95 !== 'number' || typeof probe.target !== 'string') throw new Error('not the JSON of xferbench probe --json');
        } catch (e) {
          throw new XferbenchError(`cannot use ${opts.probe}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      const advice = advise(probe, { files: opts.files, size });
      // A probe made here is printed with the advice: it is what the advice rests on.
      const probed = opts.host ? (await import('../probe/render-probe.js')).renderProbe(probe) : undefined;
      const text = [probed, renderAdvice(advice)];
      const json: Record<string, unknown> = { ...advice, ...(opts.host ? { probe } : {}) };
      if (opts.verify) {
        const [{ verifyAdvice, renderVerify }, { findTools }, { createProgress, progressMode }] = await Promise.all([
          import('../probe/verify-advice.js'), import('../ssh/openssh-tools.js'), import('../report/progress-display.js'),
        ]);
        const { signal } = guardSignals();
        const progress = createProgress(progressMode({ quiet: opts.json === true, isTTY: process.stderr.isTTY }));
        let verified;
        try {
          verified = await verifyAdvice({
            probe, advice, work: { files: opts.files, size }, identity: opts.identity!, knownHosts: opts.knownHosts!, remoteDir: opts.remoteDir, administer: opts.iAdministerThisHost === true, tools: await findTools(),
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
};
