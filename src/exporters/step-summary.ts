import { appendFile } from 'node:fs/promises';
import { renderMarkdownSummary } from '../report/markdown-summary.js';
import type { Exporter } from './exporter.js';

/** Under GitHub Actions (GITHUB_STEP_SUMMARY set), each run's table goes on the job's page. */
export function stepSummary(env: NodeJS.ProcessEnv = process.env): Exporter {
  return {
    name: 'step-summary',
    async write({ dir, summary, thresholds }) {
      if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(summary, thresholds, dir));
    },
  };
}
