import * as z from 'zod';
import { transferFields, type TransferBase } from '../spec/transfer.js';
import { TOOL_NAMES, TOOL_REGISTRY, type ToolName } from './tool-registry.js';

type Registry = typeof TOOL_REGISTRY;
/** A tool's own fields; a tool without any infers the bare shape type, which adds nothing. */
type OwnFields<K extends ToolName> = Registry[K] extends { readonly fields?: infer F } ? (string extends keyof F ? Record<never, never> : NonNullable<F>) : Record<never, never>;
type Merged<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type AllToolFields = Merged<{ [K in ToolName]: OwnFields<K> }[ToolName]>;

/** Every tool's own fields: each applies to its tool only (toolFieldIssues refuses it with another). */
const toolFields = Object.assign({}, ...Object.values(TOOL_REGISTRY).map((t) => ('fields' in t ? t.fields : {}))) as AllToolFields;

/** The transfer section: the shared fields (spec/transfer.ts), the tool, and each tool's own fields. */
export const transferSchema = z.strictObject({
  tool: z.enum(TOOL_NAMES).default('rsync'),
  ...transferFields,
  ...toolFields,
});

export type TransferSpec = z.infer<typeof transferSchema> & TransferBase;
