const DURATION = /^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/**
 * The longest duration a scenario may give (a fault's `at` and `for`, a compute step's sleep):
 * 24 hours, far below the 2^31 − 1 ms (24.8 days) a Node timer honours; a longer one would fire
 * at once (docs/security.md).
 */
const MAX_DURATION_MS = 24 * 3_600_000;

/** "500ms", "2s", "1.5m" in whole milliseconds, or an error message. */
export function parseDuration(text: string): number | string {
  const ms = parseFineDuration(text);
  return typeof ms === 'number' ? Math.round(ms) : ms;
}

/** The same, keeping fractions of a millisecond ("0.2ms": a round trip inside a machine room). */
export function parseFineDuration(text: string): number | string {
  const m = DURATION.exec(text);
  if (!m) return `"${text.slice(0, 40)}" is not a duration such as 500ms, 2s or 1m`;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) return `${text} is longer than 24 hours, the most a duration may be (1440m)`;
  return ms;
}
