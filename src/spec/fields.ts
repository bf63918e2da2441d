import * as z from 'zod';
import { rsyncArgsSchema } from './rsync-args.js';
import { sshOptionsSchema } from './ssh-options.js';

/** A problem found in a scenario, at its path; the loader adds the YAML line. */
export type FieldIssue = { path: (string | number)[]; message: string };

/** Field types every section of a scenario shares. */
export const MUX_MODES = ['off', 'cold', 'warm'] as const;
export type MuxMode = (typeof MUX_MODES)[number];

/** A name that becomes a folder, a host alias and a container name: no path, no option, no space. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;

export const nameSchema = z.string().regex(NAME_PATTERN, 'use letters, digits, ".", "_" or "-" (it names folders and hosts)');

export const int = (min: number, max: number) =>
  z.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** How every attempt of a transfer (or a stage step's invocation) runs: retries, timeouts, ssh and rsync options. */
export const attemptFields = {
  retries: int(0, 20).default(0),
  /** First backoff delay; doubles per retry, with full jitter, capped at backoff_max_ms. */
  backoff_ms: int(0, 600_000).default(250),
  backoff_max_ms: int(0, 3_600_000).default(10_000),
  /** Per attempt; the transfer's process tree is killed after this long. */
  timeout_s: int(1, 86_400).default(300),
  ssh_options: sshOptionsSchema.default({}),
  /**
   * Every ssh connects through xferbench's connector, which records its client port, so that each
   * MaxStartups drop is matched to the drop sshd logged for that port (docs/drop-agreement.md).
   * false: ssh connects on its own (no extra process per connection); drops are matched by count.
   * A user's own command (tool: command) always connects on its own: its stderr is its own.
   */
  client_ports: z.boolean().default(true),
  rsync_args: rsyncArgsSchema.default([]),
};
