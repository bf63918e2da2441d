import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

/** A head node's sshd crashes or restarts: sshd and every session die at once; it comes back when the fault ends. */
export const killSshd: FaultKind = {
  acts: 'host',
  fields: {},
  summary: 'SIGKILL sshd and its sessions; start it again (same port, keys, config) when the fault ends',
  async apply(_spec, target) {
    const control = controlOf(target);
    await control.killSshd();
    return applied('sshd and its sessions killed (SIGKILL)', () => control.startSshd());
  },
};
