import * as z from 'zod';
import { explained, refuse } from '../util/explained.js';

/**
 * Typed values of the sshd_config and ssh_config keywords a scenario may set. Each kind accepts
 * what people write in YAML (a number, yes/no, a list) and yields the one text xferbench renders:
 * nothing the scenario wrote reaches a config file unless it matched one of these shapes, so a
 * value cannot carry a second directive, a quote or a space-separated extra argument.
 */
export type OptionValue = z.ZodType<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/** A value matching `pattern` (anchored); `shape` says what was expected. */
export function pattern(re: RegExp, shape: string): OptionValue {
  return explained(z.unknown(), (v) => {
    const t = text(v);
    return t !== undefined && re.test(t) ? t : refuse(`expected ${shape}, found ${describe(v)}`);
  });
}

export const count = (min: number, max: number): OptionValue =>
  explained(z.unknown(), (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? String(n) : refuse(`expected a whole number from ${min} to ${max}, found ${describe(v)}`);
  });

export const oneOf = (words: readonly string[]): OptionValue =>
  explained(z.unknown(), (v) => {
    const word = typeof v === 'boolean' && words.includes('yes') ? (v ? 'yes' : 'no') : v;
    return typeof word === 'string' && words.includes(word) ? word : refuse(`expected one of ${words.join(', ')}, found ${describe(v)}`);
  });

export const yesNo = oneOf(['yes', 'no']);

/** sshd/ssh time format: `30`, `30s`, `2m`, `1h30m`. */
export const timeSpec = pattern(/^(\d{1,6}[smhdwSMHDW]?){1,4}$/, 'seconds or a time such as 30s, 2m, 1h30m');

const ALGORITHM = '[A-Za-z0-9][A-Za-z0-9@._-]{0,63}';
const ALGORITHMS = new RegExp(`^[+^-]?${ALGORITHM}(,${ALGORITHM}){0,63}$`);

/** Cipher, MAC, KEX or key algorithm list: `a,b`, `+a` (append), `-a` (remove), `^a` (prefer); or a YAML list. */
export const algorithms: OptionValue = explained(z.unknown(), (v) => {
  const joined = Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : v;
  return typeof joined === 'string' && ALGORITHMS.test(joined) ? joined : refuse(`expected algorithm names separated by commas (optionally starting with +, - or ^), found ${describe(v)}`);
});

/** `RekeyLimit`: bytes (`default`, `none`, `1G`, `512M`) and optionally a time. */
export const rekeyLimit = pattern(/^(default|none|\d{1,12}[KMG]?)( (none|\d{1,6}[smhdwSMHDW]?))?$/, 'a data limit such as 1G or default, optionally followed by a time such as 1h');

const QOS = '(af[1-4][1-3]|cs[0-7]|ef|le|lowdelay|throughput|reliability|none|\\d{1,3})';
/** `IPQoS`: one class, or interactive and bulk classes. */
export const ipQos = pattern(new RegExp(`^${QOS}( ${QOS})?$`), 'one or two DSCP classes such as af21 cs1, or none');

/** Keywords both sshd_config and ssh_config have, with the same meaning: how the connection is made. */
export const TRANSPORT_OPTIONS: Record<string, OptionValue> = {
  TCPKeepAlive: yesNo,
  Ciphers: algorithms,
  MACs: algorithms,
  KexAlgorithms: algorithms,
  HostKeyAlgorithms: algorithms,
  PubkeyAcceptedAlgorithms: algorithms,
  RekeyLimit: rekeyLimit,
  IPQoS: ipQos,
};

/** A value shown to people, never echoed verbatim: long text is cut, control characters escaped. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') {
    const shown = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    return `the text ${shown}`;
  }
  return `${typeof v === 'number' ? 'the number' : typeof v === 'boolean' ? 'the value' : typeof v} ${String(v)}`;
}

export interface KeywordPolicy {
  /** Keywords a scenario may set, each with its typed value. */
  settable: Readonly<Record<string, OptionValue>>;
  /** Keywords the harness owns or that would run a command, each with why and what to use instead. */
  refused: Readonly<Record<string, string>>;
  /** Names the file the keywords go to, for messages: "sshd_config", "ssh_config". */
  file: string;
}

/**
 * A mapping of keywords to typed values under an allow-list: each key is either settable (and
 * its value must fit its kind), refused with a reason, or unknown. Keywords must be written in
 * their documented spelling, so the report shows what the daemon read. For editors, the JSON
 * Schema lists the settable keywords and refuses others.
 */
export function keywordOptions(policy: KeywordPolicy) {
  const lower = new Map(Object.keys(policy.settable).map((k) => [k.toLowerCase(), k]));
  const refusedLower = new Map(Object.entries(policy.refused).map(([k, why]) => [k.toLowerCase(), [k, why] as const]));
  // One transform over the whole mapping, so a bad value never hides a refused key beside it.
  return z
    .record(z.string(), z.unknown())
    .transform((options, ctx) => {
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(options)) {
        const kind = policy.settable[key];
        if (kind) {
          const r = kind.safeParse(value);
          if (r.success) out[key] = r.data;
          else for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: [key], message: issue.message });
          continue;
        }
        const refused = refusedLower.get(key.toLowerCase());
        const canonical = lower.get(key.toLowerCase());
        const message = refused
          ? `${refused[0]} cannot be set by a scenario: ${refused[1]}`
          : canonical
            ? `write ${canonical} (the documented spelling)`
            : `${describeKey(key)} is not a ${policy.file} keyword a scenario may set; settable: ${Object.keys(policy.settable).join(', ')} (docs/security.md)`;
        ctx.addIssue({ code: 'custom', path: [key], message });
      }
      return out;
    })
    .meta({ properties: Object.fromEntries(Object.keys(policy.settable).map((k) => [k, {}])), additionalProperties: false });
}

function describeKey(key: string): string {
  return /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key) ? key : `the key ${JSON.stringify(key.slice(0, 40))}`;
}
