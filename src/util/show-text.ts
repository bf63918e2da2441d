/**
 * Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides in
 * text that came from input (a scenario, a report folder from elsewhere, a program's stderr),
 * written as `\u001b` and the like: they would drive the terminal (retitle it, clear it, print a
 * fake "thresholds passed"), forge lines of a log, or make text read differently from what it is.
 * The one function every place that shows such text goes through (docs/security.md).
 */
const EVERY = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same but for newline and tab, for text whose lines are the writer's own. */
const BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const code = (c: string) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;

/** `text` with every such character escaped; with `lines`, newlines and tabs are kept. */
export function showText(text: string, lines = false): string {
  return text.replace(lines ? BUT_LINES : EVERY, code);
}
