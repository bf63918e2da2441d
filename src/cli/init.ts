import { Option } from 'commander';
import { print, type CliCommand } from './shared.js';

/** `init`: a scenario to start from. */
export const initCommand: CliCommand = (program) => {
  program
    .command('init')
    .description('write a scenario to start from, with comments and the schema reference for editors; never overwrites')
    .argument('[file]', 'the scenario file to write', 'scenario.yaml')
    .addOption(new Option('--template <name>', 'the seed scenario to start from').choices(['maxstartups', 'mux', 'jump', 'container']).default('maxstartups'))
    .action(async (file: string, opts: { template: 'maxstartups' | 'mux' | 'jump' | 'container' }) => {
      const { writeTemplate, TEMPLATES } = await import('../scenario/init-template.js');
      await writeTemplate(file, opts.template);
      print(`wrote ${file} from ${TEMPLATES[opts.template]}; next: xferbench validate ${file}`);
    });
};
