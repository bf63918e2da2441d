import { checksumCompute } from './checksum.js';
import type { ComputeKind } from './compute-kind.js';
import { failCompute } from './fail.js';
import { sleepCompute } from './sleep.js';
import { transformCompute } from './transform.js';

/** Every compute builtin by name: a new one is a file of its own and a line here. */
export const COMPUTE_REGISTRY: Record<string, ComputeKind> = {
  transform: transformCompute,
  checksum: checksumCompute,
  sleep: sleepCompute,
  fail: failCompute,
};

export interface ComputeSpec {
  name: string;
  kind: ComputeKind;
  /** The parsed argument (seconds in ms, a fraction), 0 when the builtin takes none. */
  argument: number;
}

/** `name` or `name:argument`, or an error message naming what is accepted. */
export function parseCompute(text: string): ComputeSpec | string {
  const colon = text.indexOf(':');
  const name = colon >= 0 ? text.slice(0, colon) : text;
  const arg = colon >= 0 ? text.slice(colon + 1) : undefined;
  const kind = Object.hasOwn(COMPUTE_REGISTRY, name) ? COMPUTE_REGISTRY[name]! : undefined;
  const known = Object.entries(COMPUTE_REGISTRY).map(([n, k]) => k.argument?.example ?? n).join(', ');
  if (!kind) return `unknown compute "${name.slice(0, 40)}"; use one of ${known}`;
  if (!kind.argument) return arg === undefined ? { name, kind, argument: 0 } : `${name} takes no argument`;
  if (arg === undefined) return `${name} needs an argument, e.g. ${kind.argument.example}`;
  const parsed = kind.argument.parse(arg);
  return typeof parsed === 'string' ? `${name}: ${parsed}` : { name, kind, argument: parsed };
}
