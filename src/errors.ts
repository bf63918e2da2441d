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

/** The scenario (or a --set override) is invalid; nothing has been started or written. */
export class ScenarioError extends XferbenchError {
  constructor(
    readonly file: string,
    readonly issues: readonly ScenarioIssue[],
  ) {
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues
          .map((i) => `  - ${i.path || '(root)'}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`)
          .join('\n'),
    );
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
