import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { SshdOptions } from '../spec/sshd-options.js';
import type { OpenSshVersion } from './openssh-version.js';
import { runCommand } from '../process/run-command.js';
import { renderSshdConfig } from './sshd-config.js';

export interface SshdCheckTarget {
  host: string;
  options: SshdOptions;
}

export interface SshdCheckProblem {
  target: SshdCheckTarget;
  /** The scenario keyword sshd complained about; undefined when the complaint names no line of ours. */
  keyword?: string;
  message: string;
}

/** sshd -t stops at its first complaint; a host with this many is not worth more runs. */
const MAX_ROUNDS = 32;

/**
 * `sshd -t` on the sshd_config every target would run with, in a private temp folder, no daemon
 * started. sshd stops at the first bad line, so a line it refuses is dropped and the check runs
 * again: every bad keyword is found in one pass.
 *
 * The HostKey named does not exist: sshd parses the whole file before it loads host keys, and
 * then stops with "no hostkeys available", which therefore means the configuration passed. That
 * saves generating a key (and, as root, needing /run/sshd) on every validate.
 */
export async function checkSshdConfigs(
  targets: readonly SshdCheckTarget[],
  tools: { sshd: string; version: OpenSshVersion },
  signal?: AbortSignal,
): Promise<SshdCheckProblem[]> {
  if (targets.length === 0) return [];
  const dir = await mkdtemp(join(tmpdir(), 'xb-check-'));
  try {
    const limit = pLimit(4);
    const found = await Promise.all(
      targets.map((target, i) =>
        limit(async () => {
          const problems: SshdCheckProblem[] = [];
          const options = { ...target.options };
          for (let round = 0; round < MAX_ROUNDS && !signal?.aborted; round++) {
            const text = renderSshdConfig({
              hostName: target.host,
              listen: { address: '127.0.0.1', port: 22 },
              hostKeyPath: join(dir, 'no-host-key'),
              authorizedKeysPath: join(dir, 'authorized_keys'),
              user: userInfo().username,
              sessionHome: dir,
              version: tools.version,
              options,
            });
            const file = join(dir, `${i}.sshd_config`);
            await writeFile(file, text, { mode: 0o600 });
            const r = await runCommand(tools.sshd, ['-t', '-f', file], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
            const complaint = r.stderr.split('\n').find((l) => / line \d+: /.test(l));
            if (r.exitCode === 0 || (!complaint && /no hostkeys available/.test(r.stderr))) break;
            const lines = text.split('\n');
            const lineNo = complaint ? Number(/ line (\d+): /.exec(complaint)![1]) : undefined;
            const keyword = lineNo ? lines[lineNo - 1]?.split(' ')[0] : undefined;
            if (keyword && Object.hasOwn(options, keyword)) {
              problems.push({ target, keyword, message: `sshd -t: ${complaint!.replace(/^.* line \d+: /, '').trim()}` });
              delete options[keyword];
              continue;
            }
            problems.push({ target, message: `sshd -t refused the configuration: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` });
            break;
          }
          return problems;
        }),
      ),
    );
    return found.flat();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
