import { print, type CliCommand } from './shared.js';

/** `report`: the derived report of an existing report folder. */
export const reportCommand: CliCommand = (program) => {
  program
    .command('report')
    .description('write summary, report.html and the charts as PNG (charts/*.png) from an existing report folder')
    .argument('<dir>', 'report folder (holds results.jsonl)')
    .action(async (dir: string) => {
      const [{ writeDerivedReport }, { exporter }] = await Promise.all([import('../exporters/write-report.js'), import('../exporters/index.js')]);
      await writeDerivedReport(dir, { exporters: [exporter('png'), exporter('table')] });
      print(`wrote ${dir}/charts/*.png`);
    });
};
