import * as z from 'zod';
import { attemptFields, int, MUX_MODES, nameSchema } from './fields.js';

/**
 * The transfer fields every tool shares. `tool` and each tool's own fields are declared by the
 * tools (transfers/tool-registry.ts), which compose the whole section (transfers/transfer-spec.ts).
 */
export const transferFields = {
  direction: z.enum(['push', 'pull']).default('push'),
  to: nameSchema,
  via: z.array(nameSchema).default([]),
  /** With `client: container`: the host (a worker container) transfers are launched in. */
  from: nameSchema.optional(),
  mux: z.enum(MUX_MODES).default('off'),
  concurrency: int(1, 10_000).default(10),
  /**
   * New transfers (and retries) per second, one at a time: workers that start over time rather
   * than all at once. Absent: each starts as soon as a slot is free.
   */
  start_rate: z.number({ error: 'expected a number of starts per second' }).gt(0).max(10_000).optional(),
  ...attemptFields,
};

/** A transfer section as every tool reads it; a tool reads its own fields besides (ToolFactory). */
export type TransferBase = z.infer<z.ZodObject<typeof transferFields>> & { tool: string };
