import { writeFile } from 'node:fs/promises';
import type { ThresholdResult } from '../report/threshold-check.js';
import { esc } from '../report/format.js';
import type { Exporter } from './exporter.js';

export interface JunitSuite {
  name: string;
  /** Seconds the run took. */
  time: number;
  thresholds: readonly ThresholdResult[];
  /** A run that could not finish is one failing test case. */
  error?: string;
}

/** JUnit XML: one test suite per scenario, one test case per matrix cell × threshold. */
export function renderJunit(suites: readonly JunitSuite[]): string {
  const body = suites.map((s) => {
    const cases = s.thresholds.map((t) => {
      const name = `${t.metric} ${t.condition} [${t.where}]`;
      const failure = t.passed ? '' : `\n      <failure message="${esc(`${t.metric} ${t.condition} failed: actual ${t.actual ?? 'n/a'}`)}" type="threshold">${esc(`${t.where}: ${t.metric} = ${t.actual ?? 'n/a'}, required ${t.condition}`)}</failure>\n    `;
      return `    <testcase classname="${esc(`xferbench.${s.name}`)}" name="${esc(name)}" time="0">${failure}</testcase>`;
    });
    if (s.error) cases.push(`    <testcase classname="${esc(`xferbench.${s.name}`)}" name="run" time="${s.time.toFixed(3)}">\n      <error message="${esc(s.error)}" type="harness"/>\n    </testcase>`);
    const failures = s.thresholds.filter((t) => !t.passed).length;
    return `  <testsuite name="${esc(s.name)}" tests="${cases.length}" failures="${failures}" errors="${s.error ? 1 : 0}" skipped="0" time="${s.time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = suites.reduce((n, s) => n + s.thresholds.length + (s.error ? 1 : 0), 0);
  const failures = suites.reduce((n, s) => n + s.thresholds.filter((t) => !t.passed).length, 0);
  const errors = suites.filter((s) => s.error).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="xferbench" tests="${tests}" failures="${failures}" errors="${errors}">\n${body.join('\n')}\n</testsuites>\n`;
}

/**
 * JUnit XML at `file`: one test suite per run (per scenario of a suite), one test case per
 * cell x threshold, a scenario that could not run as an error. The file is rewritten after every
 * run, so it is complete however far a suite got.
 */
export function junit(file: string): Exporter {
  const suites: JunitSuite[] = [];
  const flush = () => writeFile(file, renderJunit(suites));
  return {
    name: 'junit',
    async write({ records, summary, thresholds }) {
      const started = records.find((r) => r.type === 'run_start');
      const ended = records.findLast((r) => r.type === 'run_end');
      const time = started && ended ? (Date.parse(ended.ended_at) - Date.parse(started.started_at)) / 1000 : 0;
      suites.push({ name: summary.name, time, thresholds });
      await flush();
    },
    async failed(scenario, error) {
      suites.push({ name: scenario, time: 0, thresholds: [], error });
      await flush();
    },
  };
}
