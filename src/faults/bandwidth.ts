import * as z from 'zod';
import { rateSchema } from '../spec/rate.js';
import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

/**
 * A slow link to the host: its traffic each way policed to `rate` (nftables drops what exceeds
 * it, and TCP backs off), root only. This kernel has no netem, so no delay is emulated.
 */
export const bandwidth: FaultKind = {
  acts: 'host',
  needsRoot: 'it adds an nftables table',
  fields: {
    rate: rateSchema,
    delay: z.unknown().refine((v) => v === undefined, 'delay needs the netem qdisc, which this kernel lacks; only the rate is emulated').optional(),
  },
  summary: 'traffic to and from the host policed to `rate` each way (nftables, root only; no delay)',
  async apply(spec, target) {
    const bytes = spec.rate as number;
    const undo = await controlOf(target).filterTraffic({ rateBytesPerS: bytes });
    return applied(`traffic policed to ${Math.round((bytes * 8) / 1e5) / 10} Mbit/s each way`, undo);
  },
};
