import * as z from 'zod';
import { describe } from './option-values.js';

/** What an rsync option takes: nothing, or a value of one shape. */
interface RsyncOption {
  value?: { re: RegExp; shape: string };
}

const SIZE = { re: /^\d{1,12}(\.\d{1,3})?([KMGTkmgt]i?[Bb]?)?([+-]1)?$/, shape: 'a size such as 4K, 1.5M or 100' };
const seconds = (max: number) => ({ re: new RegExp(`^\\d{1,${String(max).length}}$`), shape: `whole seconds up to ${max}` });

/**
 * rsync options people tune, in long form. `-a` and the transport are xferbench's; anything that
 * names a file, runs a program, deletes, filters by rules or changes what is transferred beyond
 * size limits is refused (REFUSED_RSYNC says why).
 */
export const SETTABLE_RSYNC: Record<string, RsyncOption> = {
  partial: {},
  inplace: {},
  append: {},
  'append-verify': {},
  'delay-updates': {},
  'whole-file': {},
  'no-whole-file': {},
  checksum: {},
  'ignore-times': {},
  'size-only': {},
  sparse: {},
  preallocate: {},
  fsync: {},
  'numeric-ids': {},
  'omit-dir-times': {},
  compress: {},
  'compress-level': { value: { re: /^\d{1,2}$/, shape: 'a compression level from 0 to 22' } },
  'compress-choice': { value: { re: /^(zstd|lz4|zlibx|zlib|none)$/, shape: 'zstd, lz4, zlibx, zlib or none' } },
  'checksum-choice': { value: { re: /^(auto|xxh128|xxh3|xxh64|md5|md4|sha1|none)(,(auto|xxh128|xxh3|xxh64|md5|md4|sha1|none))?$/, shape: 'a checksum such as xxh128, md5 or auto' } },
  'block-size': { value: { re: /^\d{1,9}$/, shape: 'a block size in bytes' } },
  bwlimit: { value: { re: /^\d{1,9}(\.\d{1,3})?([KMGkmg]i?[Bb]?)?$/, shape: 'a rate such as 500, 1.5m or 10M' } },
  timeout: { value: seconds(86_400) },
  contimeout: { value: seconds(3600) },
  'modify-window': { value: { re: /^-?\d{1,5}$/, shape: 'whole seconds' } },
  // Files over or under a size are skipped without an error: how a silent drop is reproduced.
  'max-size': { value: SIZE },
  'min-size': { value: SIZE },
};

/** One-letter spellings of settable options (-z is --compress). */
const SHORT: Record<string, string> = { z: 'compress', c: 'checksum', W: 'whole-file', S: 'sparse', I: 'ignore-times', B: 'block-size' };

const PROGRAM = 'runs a program';
const FILE = 'names a file or folder of this machine';
export const REFUSED_RSYNC: Record<string, string> = {
  rsh: `replaces the transport (and ${PROGRAM}); ssh settings go in transfer.ssh_options, jump hosts in transfer.via`,
  e: `replaces the transport (and ${PROGRAM}); ssh settings go in transfer.ssh_options, jump hosts in transfer.via`,
  'rsync-path': `${PROGRAM} on the remote side`,
  server: 'is rsync\'s internal remote mode',
  sender: 'is rsync\'s internal remote mode',
  daemon: 'starts a daemon',
  config: FILE,
  'password-file': FILE,
  'log-file': FILE,
  'write-batch': FILE,
  'only-write-batch': FILE,
  'read-batch': FILE,
  'files-from': FILE,
  'exclude-from': FILE,
  'include-from': FILE,
  filter: 'filter rules can read files (merge); datasets choose files',
  f: 'filter rules can read files (merge); datasets choose files',
  exclude: 'datasets choose which files are sent; a dropped file is reproduced with --max-size',
  include: 'datasets choose which files are sent',
  'temp-dir': FILE,
  T: FILE,
  'partial-dir': FILE,
  'backup-dir': FILE,
  'compare-dest': FILE,
  'copy-dest': FILE,
  'link-dest': FILE,
  'remove-source-files': 'deletes the source dataset',
  delete: 'deletes files at the destination',
  'delete-before': 'deletes files at the destination',
  'delete-during': 'deletes files at the destination',
  'delete-after': 'deletes files at the destination',
  'delete-excluded': 'deletes files at the destination',
  'dry-run': 'transfers nothing, so nothing would be measured',
  n: 'transfers nothing, so nothing would be measured',
  'list-only': 'transfers nothing, so nothing would be measured',
  port: 'talks to an rsync daemon; transfers go over ssh',
  address: 'binds another address; traffic stays on loopback',
  sockopts: 'changes socket options of the transport',
  iconv: 'converts file names, so verification would not find them',
  'copy-links': 'follows links out of the dataset',
  L: 'follows links out of the dataset',
  'copy-unsafe-links': 'follows links out of the dataset',
  'out-format': 'changes rsync\'s output',
  info: 'changes rsync\'s output',
  debug: 'changes rsync\'s output',
  progress: 'changes rsync\'s output',
  P: 'changes rsync\'s output (--progress); use --partial',
  verbose: 'changes rsync\'s output',
  v: 'changes rsync\'s output',
  a: 'xferbench always passes -a',
};

function refusal(name: string, shown: string): string {
  const why = REFUSED_RSYNC[name];
  if (why) return `${shown} cannot be used in rsync_args: it ${why}`;
  return `${shown} is not an rsync option a scenario may use; allowed: ${Object.keys(SETTABLE_RSYNC).map((o) => `--${o}`).join(', ')} (docs/security.md)`;
}

/**
 * Checks `rsync_args` against the allow-list, in `--opt=value`, `--opt value` and `-z` forms,
 * and yields one canonical `--opt` / `--opt=value` word per option.
 */
export const rsyncArgsSchema = z
  .array(z.unknown(), { error: (i) => `expected a list of rsync options, found ${describe(i.input)}` })
  .max(32, 'at most 32 rsync arguments')
  .transform((args, ctx) => {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg !== 'string') {
        ctx.addIssue({ code: 'custom', path: [i], message: `expected an rsync option (text), found ${describe(arg)}` });
        continue;
      }
      const shown = JSON.stringify(arg.length > 40 ? `${arg.slice(0, 40)}…` : arg);
      const fail = (message: string) => ctx.addIssue({ code: 'custom', path: [i], message });
      let name: string;
      let value: string | undefined;
      const long = /^--([a-z][a-z0-9-]{0,40})(=(.*))?$/s.exec(arg);
      const short = /^-([A-Za-z])$/.exec(arg);
      if (long) {
        name = long[1]!;
        value = long[3];
      } else if (short) {
        name = SHORT[short[1]!] ?? short[1]!;
      } else if (/^-[A-Za-z]{2,}$/.test(arg)) {
        fail(`${shown}: write one option per item (${[...arg.slice(1)].map((c) => `-${c}`).join(', ')}), so each is checked`);
        continue;
      } else {
        fail(arg.startsWith('-') ? `${shown} is not an rsync option a scenario may use` : `${shown}: rsync_args holds options only; what is copied and where comes from dataset and transfer`);
        continue;
      }
      const option = SETTABLE_RSYNC[name];
      if (!option) {
        fail(refusal(name, shown));
        continue;
      }
      if (option.value) {
        if (value === undefined) {
          if (i + 1 >= args.length) {
            fail(`${shown} needs a value: ${option.value.shape}`);
            continue;
          }
          const next = args[++i];
          if (typeof next !== 'string' && typeof next !== 'number') {
            fail(`${shown} needs a value: ${option.value.shape}`);
            continue;
          }
          value = String(next);
        }
        if (!option.value.re.test(value)) {
          fail(`--${name} expects ${option.value.shape}, found ${describe(value)}`);
          continue;
        }
        out.push(`--${name}=${value}`);
      } else if (value !== undefined) {
        fail(`--${name} takes no value`);
      } else {
        out.push(`--${name}`);
      }
    }
    return out;
  });
