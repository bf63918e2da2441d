import { z } from 'zod';
import { int } from './fields.js';
import { sshdOptionsSchema } from './sshd-options.js';

/** Where hosts run (hosts/ holds one backend each) and where transfers are launched from. */
export const BACKENDS = ['local', 'container'] as const;
export const CLIENTS = ['machine', 'container'] as const;

export const hostSchema = z.strictObject({
  sshd: sshdOptionsSchema.default({}),
  /** K identical hosts named NAME-1..NAME-K; a transfer to or from NAME spreads its files over them. */
  count: int(1, 64).optional(),
});

export type HostSpec = z.infer<typeof hostSchema>;
export type BackendName = (typeof BACKENDS)[number];
export type ClientPlace = (typeof CLIENTS)[number];
