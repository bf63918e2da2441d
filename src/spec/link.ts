import * as z from 'zod';
import { parseFineDuration } from '../util/duration.js';
import { explained, refuse } from '../util/explained.js';
import { rateSchema } from './rate.js';

/** Ten seconds: beyond any round trip on Earth (geostationary satellite hops are ~0.6 s). */
const MAX_RTT_MS = 10_000;

const linkMs = explained(z.string({ error: 'expected a duration such as 20ms' }), (v) => {
  const ms = parseFineDuration(v);
  if (typeof ms === 'string') return refuse(ms);
  return ms > MAX_RTT_MS ? refuse(`${v} is longer than ${MAX_RTT_MS / 1000} s, the most a link's round trip may be`) : ms;
});

/**
 * The network segment into a host (docs/links.md): what clients, and a jump host before it, cross
 * to reach its sshd. A relay process of the run carries every connection to the host, delaying
 * each direction by half the round trip (± half the jitter) and, with `rate`, queueing the link's
 * bytes behind a bottleneck of that rate each way.
 */
export const linkSchema = z
  .strictObject({
    rtt: linkMs,
    jitter: linkMs.default(0),
    rate: rateSchema.optional(),
  })
  .superRefine((l, ctx) => {
    if (l.jitter > l.rtt) ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'at most the round trip itself: a delay is never negative' });
  });

export interface Link {
  rtt_ms: number;
  jitter_ms: number;
  /** Bytes per second each way; absent: not limited. */
  rate?: number;
}

/** A host's link as the relay and the records take it. */
export const linkOf = (l: z.infer<typeof linkSchema>): Link => ({ rtt_ms: l.rtt, jitter_ms: l.jitter, ...(l.rate !== undefined ? { rate: l.rate } : {}) });
