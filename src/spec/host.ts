import * as z from 'zod';
import { int } from './fields.js';
import { sshdOptionsSchema } from './sshd-options.js';
import { externalHostSchema } from './external-host.js';
import { linkSchema } from './link.js';

/** Where transfers are launched from: this machine, or client containers of the backend. */
export const CLIENTS = ['machine', 'container'] as const;

export const hostSchema = z.strictObject({
  sshd: sshdOptionsSchema.default({}),
  /** K identical hosts named NAME-1..NAME-K; a transfer to or from NAME spreads its files over them. */
  count: int(1, 64).optional(),
  /**
   * A server xferbench did not start and does not configure (docs/site.md): where it is, the key
   * it accepts, its known_hosts and a folder for runs. `sshd` options then describe the model
   * only; they are not applied.
   */
  external: externalHostSchema.optional(),
  /** The network segment into this host: round trip, jitter, rate (docs/links.md). Absent: loopback, nothing in the path. */
  link: linkSchema.optional(),
});

export type HostSpec = z.infer<typeof hostSchema>;
export type ClientPlace = (typeof CLIENTS)[number];
