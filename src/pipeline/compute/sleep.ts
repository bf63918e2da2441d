import { parseDuration } from '../../util/duration.js';
import { xorBytes, type ComputeKind } from './compute-kind.js';

const MAX_MS = 3_600_000;

/** `sleep:2s`: works that long, then transforms as `transform` does (a compute phase with a length). */
export const sleepCompute: ComputeKind = {
  argument: {
    required: true,
    example: 'sleep:2s',
    parse(text) {
      const ms = parseDuration(text);
      if (typeof ms === 'string') return ms;
      return ms > MAX_MS ? `at most ${MAX_MS / 60_000} minutes` : ms;
    },
  },
  outputPath: (input) => input,
  transform: xorBytes,
  behaviour: (ms) => ({ delayMs: ms }),
};
