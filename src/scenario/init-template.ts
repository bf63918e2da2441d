import { PACKAGE_ROOT } from '../util/package-root.js';
import { open, readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { XferbenchError } from '../util/errors.js';
import { SCHEMA_FILE } from './json-schema.js';


/** `init --template NAME`: the shipped seed scenario each starts from. */
export const TEMPLATES = {
  maxstartups: 'scenarios/maxstartups.yaml',
  mux: 'scenarios/mux.yaml',
  jump: 'scenarios/jump.yaml',
  container: 'scenarios/containers-staging.yaml',
} as const;
export type TemplateName = keyof typeof TEMPLATES;

export const SCHEMA_LINE = /^# yaml-language-server: \$schema=.*\n/;

/** The template's text for a file at `file`: the schema reference made relative to it, a header. */
export async function templateText(name: TemplateName, file: string): Promise<string> {
  const seed = await readFile(resolve(PACKAGE_ROOT, TEMPLATES[name]), 'utf8');
  const schema = relative(dirname(resolve(file)), resolve(PACKAGE_ROOT, SCHEMA_FILE));
  const header = [
    `# yaml-language-server: $schema=${schema}`,
    `# Written by \`xferbench init --template ${name}\` from ${TEMPLATES[name]}. Editors that read the`,
    '# line above complete and check every key. Check the file with `xferbench validate FILE`,',
    '# run it with `xferbench run FILE`; every field is described under "Scenario files" in the README.',
  ];
  return `${header.join('\n')}\n${seed.replace(SCHEMA_LINE, '')}`;
}

/** Writes the template to `file`; an existing file is never overwritten. */
export async function writeTemplate(file: string, name: TemplateName): Promise<void> {
  const text = await templateText(name, file);
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new XferbenchError(`${file} exists; xferbench init does not overwrite. Name another file or remove it.`);
    throw new XferbenchError(`cannot write ${file}: ${(e as Error).message}`);
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
