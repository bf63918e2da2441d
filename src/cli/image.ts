import { Option } from 'commander';
import { print, warn, type CliCommand } from './shared.js';
import type { ImageBase } from '../hosts/container/sshd-image.js';

/** `image build`: the sshd host image of backend: container. */
export const imageCommand: CliCommand = (program) => {
  const image = program.command('image').description('the sshd host image of backend: container');
  image
    .command('build')
    .description('build (or find) the image for the current containers/sshd/; run lazily by `run` too')
    .addOption(new Option('--base <kind>', 'registry: FROM debian:bookworm-slim; bootstrap: debootstrap from the apt mirror, no registry; auto: bootstrap where debootstrap is installed').choices(['auto', 'registry', 'bootstrap']).default('auto'))
    .option('--force', 'rebuild even if the image for this content exists')
    .action(async (opts: { base: ImageBase; force?: boolean }) => {
      const { containerEngine } = await import('../hosts/container/container-engine.js');
      const { ensureSshdImage } = await import('../hosts/container/sshd-image.js');
      const engine = await containerEngine();
      const img = await ensureSshdImage(engine, { base: opts.base, force: opts.force === true, onProgress: (l) => warn(l) });
      print(img.built ? `built ${img.tag} from ${img.built.base} in ${(img.built.ms / 1000).toFixed(1)} s (${engine.version})` : `${img.tag} is up to date (${engine.version})`);
    });
};
