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
