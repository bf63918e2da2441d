/**
 * A compute builtin: what a rank's compute step makes of its staged inputs. Outputs are a pure
 * function of the inputs, so the bytes stage-out must deliver are known before the run and every
 * output is verified like a transferred file.
 */
export interface ComputeKind {
  /** What may follow `name:`; absent when the builtin takes none. */
  readonly argument?: { required: boolean; parse(text: string): number | string; example: string };
  /** The output file a rank writes for one input (relative path). */
  outputPath(input: string): string;
  /** The output's bytes, from the input's. */
  transform(input: Iterable<Buffer>): Iterable<Buffer>;
  /** Per rank: how long it works before writing, and whether it fails (seeded, so replayable). */
  behaviour?(argument: number, rank: number, seed: number): { delayMs?: number; fail?: boolean };
}

/** Every input byte XOR 0xA5: same size as the input, different bytes, cheap to compute and to check. */
export function* xorBytes(input: Iterable<Buffer>): Iterable<Buffer> {
  for (const chunk of input) {
    const out = Buffer.allocUnsafe(chunk.length);
    for (let i = 0; i < chunk.length; i++) out[i] = chunk[i]! ^ 0xa5;
    yield out;
  }
}
