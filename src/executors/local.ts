import type { ExecutorKind } from './executor-kind.js';

/**
 * `executor: local` (the default): nothing to set up, nothing to check. What runs the transfers
 * (local-executor.ts) is loaded when a run sets it up: the scenario's schema needs only this.
 */
export const localKind: ExecutorKind = {
  async setUp() {
    const { localExecutor } = await import('./local-executor.js');
    return { forCell: () => localExecutor, [Symbol.asyncDispose]: async () => undefined };
  },
};
