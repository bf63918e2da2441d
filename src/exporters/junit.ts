import { writeFile } from 'node:fs/promises';
import { renderJunit, type JunitSuite } from '../report/junit-report.js';
import type { Exporter } from './exporter.js';

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
