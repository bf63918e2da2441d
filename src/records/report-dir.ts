import { mkdir, readdir, writeFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { XferbenchError } from '../errors.js';
import type { ResultRecord } from './transfer-record.js';

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

export async function writeReportFile(dir: string, name: string, content: string | object): Promise<void> {
  await writeFile(join(dir, name), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
}

/** Reads results.jsonl back; a torn last line (a crash mid-write) is skipped, not fatal. */
export async function readResults(dir: string): Promise<ResultRecord[]> {
  const text = await readFile(join(dir, 'results.jsonl'), 'utf8');
  return text.split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line) as ResultRecord];
    } catch {
      return [];
    }
  });
}
