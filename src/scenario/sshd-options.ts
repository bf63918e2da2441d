import { z } from 'zod';

/**
 * sshd_config keywords a scenario may set under `hosts.NAME.sshd`. Any keyword is accepted and
 * rendered verbatim; the ones below are validated because a typo in them silently changes what a
 * run measures. Keywords the harness owns (listen address, keys, logging target) are refused.
 */

export const MANAGED_SSHD_KEYWORDS = [
  'ListenAddress', 'Port', 'HostKey', 'AuthorizedKeysFile', 'PidFile', 'Subsystem',
  'AuthenticationMethods', 'PubkeyAuthentication', 'PasswordAuthentication', 'UsePAM',
  'KbdInteractiveAuthentication', 'ChallengeResponseAuthentication', 'AllowUsers', 'AllowGroups',
  'Include', 'Match', 'SyslogFacility',
] as const;

export interface MaxStartups {
  start: number;
  rate: number;
  full: number;
}

/** `n` means `n:100:n` (sshd_config(5)); sshd itself refuses start > full and rate outside 1..100. */
export function parseMaxStartups(value: string | number): MaxStartups | string {
  const text = String(value).trim();
  const parts = text.split(':');
  const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (nums.some(Number.isNaN) || (parts.length !== 1 && parts.length !== 3)) {
    return `must be "N" or "start:rate:full" with whole numbers, got "${text}"`;
  }
  const [start, rate, full] = parts.length === 1 ? [nums[0]!, 100, nums[0]!] : (nums as [number, number, number]);
  if (start > full) return `"${text}": start (${start}) must not exceed full (${full})`;
  if (rate < 1 || rate > 100) return `"${text}": rate must be between 1 and 100 percent`;
  if (full < 1) return `"${text}": full must be at least 1`;
  return { start, rate, full };
}

const TIME_SPEC = /^(\d+[sSmMhHdDwW]?)+$/;

type Check = (value: string) => string | undefined;
const wholeNumber = (min: number): Check => (v) =>
  /^\d+$/.test(v) && Number(v) >= min ? undefined : `must be a whole number >= ${min}, got "${v}"`;

const KNOWN: Record<string, Check> = {
  MaxStartups: (v) => {
    const r = parseMaxStartups(v);
    return typeof r === 'string' ? r : undefined;
  },
  MaxSessions: wholeNumber(0),
  MaxAuthTries: wholeNumber(1),
  LoginGraceTime: (v) => (TIME_SPEC.test(v) ? undefined : `must be seconds or a time like 30s, 2m; got "${v}"`),
  PerSourceMaxStartups: (v) => (v === 'none' || /^\d+$/.test(v) ? undefined : `must be a number or "none", got "${v}"`),
  PerSourceNetBlockSize: (v) => (/^\d+(:\d+)?$/.test(v) ? undefined : `must be "N" or "N:M", got "${v}"`),
  PerSourcePenalties: (v) => (v.length > 0 ? undefined : 'must not be empty'),
  ClientAliveInterval: wholeNumber(0),
  ClientAliveCountMax: wholeNumber(0),
  UseDNS: (v) => (v === 'yes' || v === 'no' ? undefined : `must be yes or no, got "${v}"`),
  LogLevel: (v) =>
    /^(QUIET|FATAL|ERROR|INFO|VERBOSE|DEBUG[123]?)$/i.test(v) ? undefined : `is not an sshd LogLevel: "${v}"`,
};

const CANONICAL = new Map<string, string>(
  [...Object.keys(KNOWN), ...MANAGED_SSHD_KEYWORDS].map((k) => [k.toLowerCase(), k]),
);

/** sshd keywords are case-insensitive; render them in their documented spelling when we know it. */
export function canonicalKeyword(key: string): string {
  return CANONICAL.get(key.toLowerCase()) ?? key;
}

export function sshdValueText(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
}

export const sshdOptionsSchema = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'sshd_config keywords are letters and digits, e.g. MaxStartups'),
    z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or yes/no' }),
  )
  .superRefine((options, ctx) => {
    for (const [key, value] of Object.entries(options)) {
      const name = canonicalKeyword(key);
      if ((MANAGED_SSHD_KEYWORDS as readonly string[]).includes(name)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${name} is set by xferbench for every host and cannot be overridden` });
        continue;
      }
      const problem = KNOWN[name]?.(sshdValueText(value));
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: `${name} ${problem}` });
    }
  });

export type SshdOptions = z.infer<typeof sshdOptionsSchema>;
