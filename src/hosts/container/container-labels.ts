import { hostname } from 'node:os';

/** Every container and network xferbench creates carries these, so `clean` can find them. */
export const LABEL = 'xferbench';
export const LABEL_OWNER_PID = 'xferbench.owner-pid';
export const LABEL_OWNER_MACHINE = 'xferbench.owner-machine';
export const LABEL_GROUP = 'xferbench.group';

export function containerLabels(group: string, host?: string): Record<string, string> {
  return {
    [LABEL]: 'true',
    [LABEL_OWNER_PID]: String(process.pid),
    [LABEL_OWNER_MACHINE]: hostname(),
    [LABEL_GROUP]: group,
    ...(host ? { 'xferbench.host': host } : {}),
  };
}
