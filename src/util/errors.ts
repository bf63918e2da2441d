import { showText } from './show-text.js';

/** Base of every error xferbench raises on purpose: the message says what to do about it. */
export class XferbenchError extends Error {
  /** Process exit code the CLI uses for this error (2: bad input or harness error). */
  readonly exitCode: number = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem in a scenario file, located by its YAML path and (when known) line. */
export interface ScenarioIssue {
  path: string;
  line?: number;
  message: string;
}

export interface ScenarioCheckable {
  /** Hosts whose sshd options passed the schema: host → keyword → rendered value. */
  sshd: Record<string, Record<string, string>>;
  issueAt(path: readonly (string | number)[], message: string): ScenarioIssue;
}

/** The scenario (or a --set override) is invalid; nothing has been started or written. */
export class ScenarioError extends XferbenchError {
  readonly issues: readonly ScenarioIssue[];
  constructor(
    readonly file: string,
    found: readonly ScenarioIssue[],
    /** What a later check (sshd -t) can still look at, so its problems come out in the same pass. */
    readonly checkable?: ScenarioCheckable,
  ) {
    // One problem found by two checks (a matrix value and its cell) is said once.
    const issues = [...new Map(found.map((i) => [`${i.path}\u0000${i.message}`, i])).values()];
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues
          .map((i) => `  - ${showText(i.path) || '(root)'}${i.line ? ` (line ${i.line})` : ''}: ${showText(i.message)}`)
          .join('\n'),
    );
    this.issues = issues;
  }
}

/** One scenario field is wrong in a way only a later stage can tell (a program not on PATH). */
export class FieldError extends XferbenchError {
  constructor(
    readonly path: readonly (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

/** A program the harness needs is missing or unusable; the message names the install command. */
export class SetupError extends XferbenchError {}

/** A host could not be started (bad sshd_config, port in use, login check failed...). */
export class HostStartError extends XferbenchError {}

/** The run was interrupted (SIGINT/SIGTERM); everything started has been stopped. */
export class RunAbortedError extends XferbenchError {
  override readonly exitCode = 130;
}

/** Jobs of the run were cancelled from outside the workflow (the queue was lost); `xferbench resume` goes on. */
export class QueueLostError extends XferbenchError {
  override readonly exitCode = 3;
}
