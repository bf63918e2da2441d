/** Dotted paths into plain YAML data (`transfer.mux`, `hosts.target.sshd.MaxStartups`). */

export type PathKey = string | number;

export function splitPath(dotted: string): string[] {
  return dotted.split('.').filter((p) => p.length > 0);
}

export function formatPath(path: readonly PathKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key),
    '',
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns a copy of `root` with `value` at `path`, creating objects along the way. */
export function setIn(root: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const base = isRecord(root) ? root : {};
  return { ...base, [head]: setIn(base[head], rest, value) };
}

export function startsWith(path: readonly PathKey[], prefix: readonly PathKey[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(path[i]) === String(p));
}
