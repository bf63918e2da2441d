import type { FaultKind } from './fault-kind.js';
import { applied } from './fault-kind.js';

/**
 * The client's ControlMaster dies mid-run (SIGKILL): sessions over it are cut, new clients find a
 * dead socket and connect on their own. When the fault ends a warm master is started again.
 */
export const killMaster: FaultKind = {
  acts: 'client',
  fields: {},
  summary: "SIGKILL the client's ssh ControlMaster(s) (to host, or all); a warm one is started again when the fault ends",
  async apply(_spec, target) {
    const killed = (await Promise.all(target.masters.map((m) => m.kill()))).reduce((a, b) => a + b, 0);
    return applied(`${killed} ssh master(s) killed (SIGKILL)`, async () => void (await Promise.all(target.masters.map((m) => m.restart()))));
  },
};
