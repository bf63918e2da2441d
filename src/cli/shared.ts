import { InvalidArgumentError, Option, type Command } from 'commander';
import { SignalGuard } from '../run/signal-guard.js';
import { parseLimit, type Limits } from '../spec/limits.js';
import { showText } from '../util/show-text.js';

// What the CLI prints holds scenario values, report folders' records and programs' messages: every
// line goes out with control characters escaped.
export const print = (text: string) => console.log(showText(text, true));
export const warn = (text: string) => console.error(showText(text, true));

export const collect = (value: string, previous: string[]) => [...previous, value];

/** Set once a command starts its work; ends the process with the signal that interrupted it. */
let guard: SignalGuard | undefined;
export const guardSignals = () => (guard = new SignalGuard());
export const endGuard = () => guard?.end();

export const limitOption = () =>
  new Option('--limit <name=n>', 'raise a size limit: cells, runs, transfers, bytes, hosts or concurrency (defaults in docs/security.md); repeatable')
    .argParser((value: string, previous: Partial<Limits> = {}) => {
      const parsed = parseLimit(value);
      if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
      return { ...previous, [parsed[0]]: parsed[1] };
    });

export interface RunFlags {
  external?: boolean;
  iAdministerThisHost?: boolean;
  out?: string;
  set: string[];
  limit?: Partial<Limits>;
  keepState?: boolean;
  quiet?: boolean;
  json?: boolean;
  junit?: string;
  png?: boolean;
}

/**
 * One command (or a group of two that share their code): it adds itself to the program. Each
 * imports what it uses when it runs: `validate` needs no transfer or chart code, and the whole
 * static graph cost every command ~240 ms before it did anything.
 */
export type CliCommand = (program: Command) => void;

/** The two flags that let a run aim load at a site's servers (docs/site.md). */
export const externalOptions = (command: Command) =>
  command
    .option('--external', "the scenario's external hosts are servers you mean to run it against (refused without it)")
    .option('--i-administer-this-host', 'the external hosts are yours: more than 30 transfers at once, and no pace on new ones');

/**
 * A reader that stops early (`xferbench validate F | head`) closes the pipe: what is left to print
 * is dropped and the command goes on to its end (a run still stops its hosts and writes its
 * report), instead of dying on an unhandled EPIPE. Any other error of the stream still throws.
 */
export function dropOutputOnClosedPipe(stream: NodeJS.EventEmitter): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}
