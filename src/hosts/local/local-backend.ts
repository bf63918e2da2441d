import { mkdir } from 'node:fs/promises';
import { HostStartError } from '../../util/errors.js';
import type { HostSpec } from '../../spec/host.js';
import type { HostBackend, HostGroup, HostStartContext, StartedHost } from '../host.js';
import { LocalSshdHost } from './local-sshd-host.js';
import type { OpenSshVersion } from '../../ssh/openssh-version.js';
import { requireTool, type OpenSshTools } from '../../ssh/openssh-tools.js';

/**
 * sshd running as root (even `sshd -t`) insists on its privilege separation directory, made by
 * the system service on a normal boot, absent in containers and CI images.
 */
async function ensurePrivsepDir(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch((e: Error) => {
    throw new HostStartError(`cannot create /run/sshd, which sshd needs when run as root: ${e.message}`);
  });
}

/** The embedded default: every host is an sshd process of this machine on its own loopback address. */
export class LocalBackend implements HostBackend {
  readonly kind = 'local' as const;
  private readonly sshd: string;

  constructor(private readonly tools: OpenSshTools) {
    this.sshd = requireTool(tools, 'sshd');
  }

  async sshdVersion(): Promise<OpenSshVersion> {
    return this.tools.sshdVersion ?? this.tools.sshVersion;
  }

  async open(ctx: HostStartContext): Promise<HostGroup> {
    return {
      start: (name, index, spec) => this.start(name, index, spec, ctx),
      // Local hosts share nothing beyond the machine.
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  private async start(name: string, index: number, spec: HostSpec, ctx: HostStartContext): Promise<StartedHost> {
    await ensurePrivsepDir();
    return LocalSshdHost.start(name, index, spec, ctx, {
      sshd: this.sshd,
      sshKeygen: this.tools.sshKeygen,
      version: await this.sshdVersion(),
    });
  }
}
