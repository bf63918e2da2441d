import { durationSchema } from '../spec/timing.js';
import type { FaultKind } from './fault-kind.js';
import { applied } from './fault-kind.js';

/**
 * Cold masters that expire almost at once (ControlPersist `persist`): a master exits as a new
 * client attaches to it (a known race), which then fails or connects on its own. A setting of the
 * lanes for the whole cell, so `at` and `for` only place it on the timeline.
 */
export const masterExpiry: FaultKind = {
  acts: 'client',
  fields: { persist: durationSchema.refine((ms) => ms >= 1000 && ms % 1000 === 0, 'ControlPersist takes whole seconds: 1s or more') },
  summary: 'ControlPersist of cold masters set to `persist` (whole seconds) for the cell',
  check: (transfer) => (transfer.mux === 'cold' ? undefined : 'master_expiry acts on cold masters (ControlPersist): set transfer.mux: cold'),
  lane: (spec) => ({ controlPersistS: (spec.persist as number) / 1000 }),
  async apply(spec) {
    return applied(`cold masters persist ${(spec.persist as number) / 1000} s`, async () => undefined);
  },
};
