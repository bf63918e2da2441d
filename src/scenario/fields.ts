import { z } from 'zod';

/** Field types every section of a scenario shares. */
export const MUX_MODES = ['off', 'cold', 'warm'] as const;

export const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'use letters, digits, ".", "_" or "-" (it names folders and hosts)');

export const int = (min: number, max: number) =>
  z.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
