import type { FieldIssue } from '../spec/fields.js';
import type * as z from 'zod';
import type { OpenSshTools } from '../ssh/openssh-tools.js';
import type { TransferBase } from '../spec/transfer.js';
import type { TransferTool } from './transfer-tool.js';

/** A scenario as written (before validation completes), for a tool's own checks. */
export interface RawScenario {
  client?: unknown;
  backend?: unknown;
  transfer: Record<string, unknown>;
}


/** A transfer section as a tool with own fields `F` reads it. */
export type ToolTransfer<F extends z.ZodRawShape> = TransferBase & Partial<z.infer<z.ZodObject<F>>>;

/**
 * A transfer tool: its own fields of the transfer section (each optional; the scenario's schema is
 * composed from them, transfers/transfer-spec.ts), its checks, and how it is made for a cell.
 */
export interface ToolFactory<F extends z.ZodRawShape = z.ZodRawShape> {
  /** Fields of the transfer section that only this tool has. */
  readonly fields?: F;
  /** Shared transfer fields only this tool reads (rsync: rsync_args): given with another tool they are refused too. */
  readonly reads?: readonly string[];
  /** The tool's own rules between fields, on the raw scenario. */
  check?(scenario: RawScenario): FieldIssue[];
  /** Throws a SetupError, or a FieldError naming the field, when what the tool needs is missing. */
  create(programs: OpenSshTools, transfer: ToolTransfer<F>): Promise<TransferTool>;
}

/** Keeps a tool's own field types for its `create` (a registry of ToolFactory would widen them). */
export const defineTool = <F extends z.ZodRawShape>(tool: ToolFactory<F>): ToolFactory<F> => tool;
