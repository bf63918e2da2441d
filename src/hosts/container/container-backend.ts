import { randomBytes } from 'node:crypto';
import { SetupError } from '../../util/errors.js';
import { containerEngine, type ContainerEngine } from './container-engine.js';
import { containerLabels } from './container-labels.js';
import { removeContainerLeftovers } from './container-leftovers.js';
import { ContainerSshdHost } from './container-sshd-host.js';
import type { HostBackend, HostGroup, HostStartContext } from '../host.js';
import { which } from '../../ssh/openssh-tools.js';
import { parseOpenSshVersion, type OpenSshVersion } from '../../ssh/openssh-version.js';
import { ensureSshdImage, type ImageBase, type SshdImage } from './sshd-image.js';

export interface ContainerBackendOptions {
  imageBase?: ImageBase;
  /** Image build progress (the first run on a machine builds it). */
  onProgress?: (line: string) => void;
}

/**
 * Every host is a container of the sshd image, on a network created for its topology, with its
 * port 22 published on 127.0.0.1. The image is found or built on first use.
 */
export class ContainerBackend implements HostBackend {
  readonly kind = 'container' as const;
  private ready?: Promise<{ engine: ContainerEngine; image: SshdImage; version: OpenSshVersion }>;

  constructor(private readonly options: ContainerBackendOptions = {}) {}

  /** Engine, image and the image's sshd version, once per backend. */
  private prepare() {
    this.ready ??= (async () => {
      const engine = await containerEngine();
      // Containers of runs that died without stopping them (owner process gone) go first.
      await removeContainerLeftovers(engine, {});
      const image = await ensureSshdImage(engine, { base: this.options.imageBase ?? 'auto', ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}) });
      return { engine, image, version: await imageSshdVersion(engine, image.tag) };
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async sshdVersion(): Promise<OpenSshVersion> {
    return (await this.prepare()).version;
  }

  async describe(): Promise<Record<string, string>> {
    const { engine, image, version } = await this.prepare();
    return { container_engine: `${engine.version} (${engine.host})`, container_image: image.tag, container_sshd: version.text };
  }

  async open(ctx: HostStartContext): Promise<HostGroup> {
    const { engine, image, version } = await this.prepare();
    const nsenter = engine.local && process.getuid?.() === 0 ? await which('nsenter') : undefined;
    const groupId = randomBytes(4).toString('hex');
    const network = `xferbench-${groupId}`;
    await engine.docker.createNetwork({ Name: network, Driver: 'bridge', Labels: containerLabels(groupId) });
    return {
      start: (name, _index, spec, opts) =>
        ContainerSshdHost.start(name, spec, ctx, { engine, image: image.tag, network, groupId, version, mounts: opts?.mounts ?? [], readOnlyMounts: opts?.readOnlyMounts ?? [], ...(nsenter ? { nsenter } : {}) }),
      // Hosts stop themselves; this catches any that failed half-way, then the network goes.
      [Symbol.asyncDispose]: async () => {
        await removeContainerLeftovers(engine, { group: groupId });
      },
    };
  }
}

/** `sshd -V` in a throwaway container of the image (sshd prints its version and exits). */
async function imageSshdVersion(engine: ContainerEngine, image: string): Promise<OpenSshVersion> {
  const container = await engine.docker.createContainer({
    Image: image,
    Entrypoint: ['/usr/sbin/sshd', '-V'],
    Labels: containerLabels('probe'),
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, stderr: true });
    const version = parseOpenSshVersion(logs.toString('latin1'));
    if (!version) throw new SetupError(`image ${image}: sshd -V printed no OpenSSH version`);
    return version;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
