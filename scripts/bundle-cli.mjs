// The command line as users run it (package.json "bin"): dist/cli.js as tsc wrote it, bundled
// with its pure-JavaScript dependencies into dist/bin/ by esbuild, one chunk per lazily loaded
// command. Node 20 has no compile cache: loading ~100 of our modules and ~200 of zod's and
// yaml's files cost `validate` more than Node's own start. What needs native code or is loaded
// only for containers stays a package import. Tests and the API use the unbundled dist/.
import { rmSync, chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist', 'bin');
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['zod', 'yaml', 'commander', 'p-limit', 'cli-progress']);

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { xferbench: join(root, 'dist', 'cli.js') },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  external: Object.keys(dependencies).filter((d) => !BUNDLED.has(d)),
  // Bundled CommonJS (yaml, commander) calls require() for Node's own modules.
  banner: { js: "import { createRequire as __xferbenchRequire } from 'node:module'; const require = __xferbenchRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(join(out, 'xferbench.js'), 0o755);
