/**
 * Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides
 * have no business in any scenario value: they split config lines, forge log lines and make
 * text read differently from what runs. Only `description`, which is prose shown in reports
 * (escaped), may hold newlines and tabs.
 */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const PROSE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

type Issue = { path: (string | number)[]; message: string };

function codeOf(text: string, re: RegExp): string {
  const c = re.exec(text)![0]!.codePointAt(0)!;
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Every key and string in the document that holds such a character, by path. */
export function controlCharacterIssues(value: unknown, path: (string | number)[] = []): Issue[] {
  if (typeof value === 'string') {
    const re = path.length === 1 && path[0] === 'description' ? PROSE : FORBIDDEN;
    return re.test(value) ? [{ path, message: `holds the control character ${codeOf(value, re)}; scenario values are plain text on one line` }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => controlCharacterIssues(v, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) =>
      FORBIDDEN.test(k)
        ? [{ path: [...path, k.replace(FORBIDDEN, '?')], message: `the key holds the control character ${codeOf(k, FORBIDDEN)}` }]
        : controlCharacterIssues(v, [...path, k]),
    );
  }
  return [];
}

/**
 * Keys that name a JavaScript object's prototype machinery. No scenario field, host, matrix axis,
 * placeholder or option has such a name, and any of them as a key could reach an object's
 * prototype where a plain map was meant: refused wherever a key is written.
 */
export const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Every key in the document (and every segment of a dotted matrix key) that is a prototype name. */
export function prototypeKeyIssues(value: unknown, path: (string | number)[] = []): Issue[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => prototypeKeyIssues(v, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((k) => {
    const segments = path.length === 1 && path[0] === 'matrix' ? k.split('.') : [k];
    const bad = segments.find((s) => PROTOTYPE_NAMES.has(s));
    if (bad) return [{ path: [...path, k], message: `"${bad}" is not a name xferbench accepts for a key: it names JavaScript's object machinery` }];
    return prototypeKeyIssues((value as Record<string, unknown>)[k], [...path, k]);
  });
}
