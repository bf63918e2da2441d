import * as z from 'zod';
import { scenarioSchema } from './scenario-schema.js';

/** Where the package ships the schema, relative to its root; scenarios point at it for editors. */
export const SCHEMA_FILE = 'schema/scenario.schema.json';

/**
 * JSON Schema of a scenario file, generated from the zod schema (never written by hand), for
 * editors' completion and checking. It describes the input: sizes as written ("1MiB"), defaults
 * as defaults. What only code can check (cross-references, sshd versions) is left to `validate`.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'xferbench scenario',
    description: 'A scenario for `xferbench run`: hosts, dataset, transfer, matrix, repeat, thresholds. `xferbench validate FILE` checks what a schema cannot (cross-references, sshd versions).',
  };
}

/** The file's text: what `xferbench schema` prints and SCHEMA_FILE holds. */
export const scenarioJsonSchemaText = () => `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
