import * as z from 'zod';
import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

/**
 * A share of new connections to the host answered with a TCP reset (nftables, root only): a
 * flaky firewall or load balancer in front of a login node. A client sees a reset SYN as
 * "Connection refused".
 */
export const reset: FaultKind = {
  acts: 'host',
  needsRoot: 'it adds an nftables table',
  fields: { probability: z.number({ error: 'expected a share such as 0.1' }).gt(0, 'above 0').max(1, 'at most 1') },
  summary: 'a share (`probability`) of new connections to the host reset (nftables, root only)',
  async apply(spec, target) {
    const share = spec.probability as number;
    const undo = await controlOf(target).filterTraffic({ resetShare: share });
    return applied(`${Math.round(share * 1000) / 10} % of new connections reset`, undo);
  },
};
