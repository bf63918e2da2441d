import { readBanner } from '../../ssh/ssh-banner.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BoundPorts, WaitStrategy } from 'testcontainers';
import type Dockerode from 'dockerode';

/**
 * Ready when sshd answers on the published port with its identification string (RFC 4253
 * "SSH-2.0-..."): a port that accepts connections (the engine's proxy does) proves nothing.
 */
export class SshBannerWaitStrategy implements WaitStrategy {
  private timeoutMs = 30_000;
  private timeoutSet = false;
  banner?: string;

  constructor(
    private readonly host: string,
    private readonly containerPort = 22,
  ) {}

  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts): Promise<void> {
    const port = boundPorts.getBinding(this.containerPort);
    const deadline = Date.now() + this.timeoutMs;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = await readBanner(this.host, port, 2_000);
      if (last?.startsWith('SSH-')) {
        this.banner = last;
        return;
      }
      const state = await container.inspect().then((i) => i.State, () => undefined);
      if (state && !state.Running) throw new Error(`container ${container.id.slice(0, 12)} exited (${state.ExitCode}) before sshd answered`);
      await sleep(50);
    }
    throw new Error(`no SSH banner from ${this.host}:${port} within ${this.timeoutMs} ms${last ? ` (got "${last.slice(0, 80)}")` : ''}`);
  }

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}
