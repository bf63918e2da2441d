import * as z from 'zod';
import { int } from './fields.js';
import { sizeSchema } from './size.js';

export const LAYOUTS = ['flat', 'tree', 'timestep'] as const;

export const datasetSchema = z.strictObject({
  files: int(1, 1_000_000),
  size: sizeSchema,
  layout: z.enum(LAYOUTS).default('flat'),
  /** Same seed, same bytes: a dataset is reproducible file for file. */
  seed: int(0, 2 ** 31 - 1).default(1),
  /** `timestep` layout: data files per timestep (one per rank). */
  ranks: int(1, 100_000).default(4),
  /** `tree` layout: subdirectories per level (two levels). */
  fanout: int(1, 1000).default(4),
});

export type DatasetSpec = z.infer<typeof datasetSchema>;
