import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

/** A hung host: sshd and its sessions frozen; new connections wait in the listen queue without a banner. */
export const pauseSshd: FaultKind = {
  acts: 'host',
  fields: {},
  summary: 'SIGSTOP sshd and its sessions (a hung host); SIGCONT when the fault ends',
  async apply(_spec, target) {
    const control = controlOf(target);
    await control.pause();
    return applied('sshd and its sessions stopped (SIGSTOP)', () => control.resume());
  },
};
