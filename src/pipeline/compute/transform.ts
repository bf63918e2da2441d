import { xorBytes, type ComputeKind } from './compute-kind.js';

/** `transform`: each input becomes an output of the same name and size, every byte changed. */
export const transformCompute: ComputeKind = {
  outputPath: (input) => input,
  transform: xorBytes,
};
