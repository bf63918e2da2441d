import { z } from 'zod';
import { int } from './fields.js';
import { sshdOptionsSchema } from './sshd-options.js';

/** Where transfers are launched from: this machine, or client containers of the backend. */
export const CLIENTS = ['machine', 'container'] as const;

export const hostSchema = z.strictObject({
  sshd: sshdOptionsSchema.default({}),
  /** K identical hosts named NAME-1..NAME-K; a transfer to or from NAME spreads its files over them. */
  count: int(1, 64).optional(),
});

export type HostSpec = z.infer<typeof hostSchema>;
export type ClientPlace = (typeof CLIENTS)[number];
