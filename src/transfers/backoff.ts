/**
 * Delay before retry `retry` (1-based): exponential with full jitter, so clients that failed
 * together (a MaxStartups burst) do not come back together.
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}
