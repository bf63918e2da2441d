import * as z from 'zod';

/** Why a value was refused: a parser returns it instead of throwing, so zod puts it at the field's YAML path. */
export class Refusal {
  constructor(readonly message: string) {}
}

export const refuse = (message: string): Refusal => new Refusal(message);

/** For parsers that return their error as text (parseSize, parseDuration): that text as a Refusal. */
export const refusedIfText = <T>(result: T | string): T | Refusal => (typeof result === 'string' ? new Refusal(result) : result);

/** `input`, then `parse`: its value, or its Refusal as the field's issue. Every parse-or-explain field is built here. */
export function explained<I, O>(input: z.ZodType<I, unknown>, parse: (value: I) => O | Refusal) {
  return input.transform((value, ctx): O => {
    const result = parse(value);
    if (!(result instanceof Refusal)) return result;
    ctx.addIssue({ code: 'custom', message: result.message });
    return z.NEVER;
  });
}
