import { createHash } from 'node:crypto';
import type { ComputeKind } from './compute-kind.js';

/** `checksum`: each input becomes NAME.sha256, one line of hex (small outputs: stage-out is all connection cost). */
export const checksumCompute: ComputeKind = {
  outputPath: (input) => `${input}.sha256`,
  *transform(input) {
    const hash = createHash('sha256');
    for (const chunk of input) hash.update(chunk);
    yield Buffer.from(`${hash.digest('hex')}\n`);
  },
};
