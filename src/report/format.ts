import { showText } from '../util/show-text.js';
import type { Spread } from './statistics.js';

/** Text for HTML and XML, attribute values included (control characters escaped: XML 1.0 has no place for them). */
export const esc = (s: string): string => showText(s, true).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** A share as a percentage; tiny non-zero shares keep a second decimal so they do not read as 0. */
export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(v > 0 && v < 0.001 ? 2 : 1)}%`);

/** A measured value with as many decimals as its size deserves. */
export const num = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** "mean (min–max)" when repeats differ, the mean alone when they agree or there is one. */
export const spreadText = (s: Spread | null | undefined, f: (v: number) => string, range = (min: string, max: string) => ` (${min}–${max})`): string =>
  !s ? '-' : s.min === s.max ? f(s.mean) : `${f(s.mean)}${range(f(s.min), f(s.max))}`;

/** sshd's MaxStartups drops of a cell over its repeats, or what could not be counted (external hosts). */
export function sshdDropsText(repeats: readonly { sshd_maxstartups_drops: number | null; sshd_unobserved: readonly string[] }[]): string {
  const unobserved = [...new Set(repeats.flatMap((r) => r.sshd_unobserved))];
  if (repeats.length > 0 && repeats.every((r) => r.sshd_maxstartups_drops === null)) return 'not observed';
  const drops = String(repeats.reduce((n, r) => n + (r.sshd_maxstartups_drops ?? 0), 0));
  return unobserved.length > 0 ? `${drops} (${unobserved.join(',')}: not observed)` : drops;
}
