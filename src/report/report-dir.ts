import { mkdir, readdir } from 'node:fs/promises';
import { checkInside, confined, jsonlLines, readCapped, REPORT_CAPS, ReportFolderError, schemaProblem, writeNoFollow } from '../records/report-folder.js';
import { resultRecordSchema } from '../records/record-schema.js';
import { type LoadOptions } from '../scenario/load-scenario.js';
import { parseScenario, type LoadedScenario } from '../plan/load-plan.js';
import { MAX_FILE_BYTES } from '../spec/limits.js';
import { dirname, join, resolve } from 'node:path';
import { XferbenchError } from '../util/errors.js';
import type { ResultRecord } from '../records/result-record.js';

export function defaultReportDir(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '').replace(/\..*$/, 'Z');
  return resolve('reports', `${name}-${stamp}`);
}

/** Creates the report folder; an existing non-empty folder is refused rather than mixed into. */
export async function createReportDir(path: string): Promise<string> {
  const dir = resolve(path);
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0) throw new XferbenchError(`report folder ${dir} exists and is not empty; choose another --out`);
  await mkdir(join(dir, 'logs'), { recursive: true });
  return dir;
}

/** A file of the report folder, written without following a link planted at its name. */
export async function writeReportFile(dir: string, name: string, content: string | Uint8Array | object): Promise<void> {
  // The folders on the way are checked; a link at the name itself is replaced by the rename.
  if (dirname(name) !== '.') checkInside(dir, join(dir, dirname(name)));
  await writeNoFollow(join(dir, name), typeof content === 'string' || content instanceof Uint8Array ? content : `${JSON.stringify(content, null, 2)}\n`);
}

/**
 * Reads results.jsonl back, a report folder being input from elsewhere: no link followed, its
 * size and each line's capped, each record checked against its schema. A torn last line (a crash
 * mid-write, no newline after it) is skipped; any other bad line is refused with its line number.
 */
export async function readResults(dir: string): Promise<ResultRecord[]> {
  const file = join(dir, 'results.jsonl');
  const records: ResultRecord[] = [];
  for await (const { line, text, last } of jsonlLines(confined(dir, 'results.jsonl'), REPORT_CAPS.results)) {
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (last) continue;
      throw new ReportFolderError(`${file} line ${line}: not JSON (${(e as Error).message.slice(0, 120)})`);
    }
    const parsed = resultRecordSchema.safeParse(value);
    if (!parsed.success) throw new ReportFolderError(`${file} line ${line}: ${schemaProblem(parsed.error)}`);
    records.push(parsed.data);
  }
  return records;
}

/** The scenario a report folder ran, read as any scenario file from elsewhere (no link followed). */
export async function loadReportScenario(dir: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const file = join(dir, 'scenario.yaml');
  const text = readCapped(confined(dir, 'scenario.yaml'), MAX_FILE_BYTES + 1);
  if (!text) throw new ReportFolderError(`${file} is missing: not a report folder of xferbench run`);
  return parseScenario(text.toString('utf8'), file, options);
}
