import * as z from 'zod';
import { explained, refuse } from '../util/explained.js';
import { destinationDir } from '../hosts/host.js';
import { parseBytes } from '../spec/size.js';
import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

const bytesSchema = explained(z.union([z.string(), z.number()]), (v) => {
  const n = parseBytes(String(v));
  // tmpfs takes size= in whole bytes; past 1 TiB a number would be written as 1e+21 and mount
  // would fail once hosts had started.
  if (typeof n === 'string') return refuse(n);
  return n < 4096 ? refuse('at least 4KiB (one page)') : n > 2 ** 40 ? refuse('at most 1TiB (what a tmpfs size= is written as)') : n;
});

/**
 * The destination fills up: only `free` bytes of space in the host's destination folder (a
 * size-limited tmpfs mounted over it, so root only), and transfers meet ENOSPC. What arrived is
 * kept when the fault ends, for verification to judge, partial files included.
 */
export const diskFull: FaultKind = {
  acts: 'host',
  needsRoot: 'it mounts a size-limited tmpfs over the destination folder',
  fields: { free: bytesSchema },
  check: (transfer) => (transfer.direction === 'pull' ? 'disk_full fills the destination on a host: a push (a pull lands on this machine)' : undefined),
  summary: 'only `free` bytes left in the host\'s destination folder (tmpfs, root only); what arrived is kept',
  async apply(spec, target) {
    const control = controlOf(target);
    const free = spec.free as number;
    const undo = await control.limitSpace(destinationDir(target.host!), free);
    return applied(`destination limited to ${free} bytes`, undo);
  },
};
