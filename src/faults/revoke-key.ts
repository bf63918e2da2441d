import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

/** A credential expires: the run's key is removed from authorized_keys (atomically) and put back when the fault ends. */
export const revokeKey: FaultKind = {
  acts: 'host',
  fields: {},
  summary: "remove the run's key from the host's authorized_keys; restore it when the fault ends",
  async apply(_spec, target) {
    const control = controlOf(target);
    const previous = await control.setAuthorizedKeys('');
    return applied('authorized_keys emptied', async () => void (await control.setAuthorizedKeys(previous)));
  },
};
