import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package's root folder: the nearest folder above this module whose package.json names
 * xferbench. Files shipped beside the code (the Perl helpers, the relay, containers/, scenarios/)
 * are found from here, the same from src/ under tsx, from dist/ and from the bundled command line,
 * whose chunks sit at another depth than the modules they came from.
 */
function findRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'xferbench') return dir;
    if (dirname(dir) === dir) throw new Error(`no xferbench package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

export const PACKAGE_ROOT = findRoot();

/** A file of the package, by its path from the package root. */
export const packageFile = (...parts: string[]) => join(PACKAGE_ROOT, ...parts);
