import { prng } from '../../util/prng.js';
import { xorBytes, type ComputeKind } from './compute-kind.js';

/**
 * `fail:0.2`: a seeded fifth of the ranks fail after writing half their outputs (so a failure
 * leaves partial results for on_failure to clean up); the others transform as `transform` does.
 */
export const failCompute: ComputeKind = {
  argument: {
    required: true,
    example: 'fail:0.2',
    parse(text) {
      const p = /^(0(\.\d+)?|1(\.0+)?)$/.test(text) ? Number(text) : NaN;
      return Number.isNaN(p) ? `"${text.slice(0, 20)}" is not a fraction from 0 to 1, e.g. fail:0.2` : p;
    },
  },
  outputPath: (input) => input,
  transform: xorBytes,
  // The rank's own stream: which ranks fail does not depend on how many there are.
  behaviour: (p, rank, seed) => ({ fail: prng((seed * 7919 + rank * 104_729) >>> 0)() < p }),
};
