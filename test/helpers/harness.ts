import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { constants, homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type Options } from 'execa';
import { afterAll } from 'vitest';

export const REPO = resolve(import.meta.dirname, '..', '..');

/**
 * Each test file's own temporary folder, TMPDIR for the file and every run it starts (vitest runs
 * each file in a process of its own). Leftovers are then told by this folder's `xb-*` control
 * folders, not by every one on the machine: a run started beside the suite is no test's leftover.
 * Short (ControlPath sockets live below it; sun_path is ~104 bytes), named /tmp/xb-* so .ci/run
 * still finds what a test leaves, and open to all (1777) as /tmp is, for the unprivileged runs.
 */
const FILE_TMP = mkdtempSync(join(tmpdir(), 'xb-t-'));
chmodSync(FILE_TMP, 0o1777);
process.env.TMPDIR = FILE_TMP;
// A hook at a helper's top level belongs to the importing file's root suite: it runs after its tests.
afterAll(() => rmSync(FILE_TMP, { recursive: true, force: true }));
export const CLI = join(REPO, 'dist', 'cli.js');

/**
 * Each test file gets its own state base (below the home directory, which passes sshd's
 * StrictModes check; /tmp does not), so leftovers can be attributed and removed.
 */
export async function isolatedStateBase(name: string): Promise<string> {
  const base = join(homedir(), '.cache', 'xferbench', `test-${name}-${process.pid}`);
  await mkdir(base, { recursive: true, mode: 0o700 });
  return base;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `xferbench-${prefix}-`));
}

export async function writeScenario(dir: string, name: string, text: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

export function runCli(args: string[], env: Record<string, string>, options: Options = {}) {
  return execa(process.execPath, [CLI, ...args], { reject: false, cwd: REPO, env: { ...env, FORCE_COLOR: '0' }, ...options });
}

/** sshd hosts and ssh clients/masters whose command line mentions one of `markers`. */
export async function processesMentioning(markers: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/\) Z /.test(stat)) continue; // zombies hold nothing
    if (markers.some((m) => cmd.includes(m))) found.push(`${pid}: ${cmd.trim()}`);
  }
  return found;
}

/** Every process a run may leave: sshd of the state base, ssh masters in /tmp/xb-* control dirs. */
export function leftovers(stateBase: string): Promise<string[]> {
  return processesMentioning([stateBase, `${tmpdir()}/xb-`]);
}

export async function removeAll(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

export async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Seed scenarios, made small enough for the suite with --set. */
export const scenarioPath = (name: string) => join(REPO, 'scenarios', `${name}.yaml`);

/**
 * Whether a run ended the way an interrupted run must: by the signal itself, or with the status
 * a shell shows for it (128 + its number) where a library's own handler ended the process first.
 */
export function endedBy(r: { signal?: string; exitCode?: number }, sig: NodeJS.Signals): boolean {
  return r.signal === sig || r.exitCode === 128 + constants.signals[sig];
}

/**
 * Waits until a running run's results.jsonl holds `count` records of `type` (that also contain
 * `contains`, such as '"step":"stage_out"'); fails after `timeoutMs`.
 */
export async function waitForRecords(file: string, type: string, count: number, timeoutMs = 120_000, contains = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').filter((l) => l.includes(`"type":"${type}"`) && l.includes(contains)).length >= count) return;
    if (Date.now() > deadline) throw new Error(`${count} ${type} record(s) in ${file} within ${timeoutMs} ms`);
    await sleep(100);
  }
}
