// Every output of xferbench by name. A new output is a new file here and one line below.
import type { Exporter } from './exporter.js';
import { html } from './html.js';
import { json } from './json.js';
import { junit } from './junit.js';
import { png } from './png.js';
import { stepSummary } from './step-summary.js';
import { summaryJson } from './summary-json.js';
import { summaryTxt } from './summary-txt.js';
import { table } from './table.js';

export type { Exporter, ReportInput } from './exporter.js';

/** Options an exporter may need: where a file goes, where text is printed. */
export interface ExporterOptions {
  file?: string;
  print?: (text: string) => void;
}

export const EXPORTERS = {
  'summary-json': () => summaryJson,
  'summary-txt': () => summaryTxt,
  html: () => html,
  png: () => png,
  table: (o: ExporterOptions) => table(o.print),
  json: (o: ExporterOptions) => json(o.print),
  junit: (o: ExporterOptions) => {
    if (!o.file) throw new Error('the junit exporter needs a file');
    return junit(o.file);
  },
  'step-summary': () => stepSummary(),
} satisfies Record<string, (options: ExporterOptions) => Exporter>;

export type ExporterName = keyof typeof EXPORTERS;

export function exporter(name: ExporterName, options: ExporterOptions = {}): Exporter {
  return EXPORTERS[name](options);
}

/** What every run writes into its report folder; png and the rest are asked for. */
export function folderExporters(): Exporter[] {
  return (['summary-json', 'summary-txt', 'html'] as const).map((n) => exporter(n));
}
