import type { CliCommand } from './shared.js';

/** `schema`: the JSON Schema of scenario files. */
export const schemaCommand: CliCommand = (program) => {
  program
    .command('schema')
    .description('print the JSON Schema of scenario files (shipped as schema/scenario.schema.json; scenarios name it for editors)')
    .action(async () => {
      const { scenarioJsonSchemaText } = await import('../scenario/json-schema.js');
      process.stdout.write(scenarioJsonSchemaText());
    });
};
