import { existsSync } from 'node:fs';

/** Sockets an engine listens on by default: Docker's, then rootful and rootless Podman's. */
export function candidateHosts(env: NodeJS.ProcessEnv): string[] {
  const out = ['unix:///var/run/docker.sock', 'unix:///run/podman/podman.sock'];
  if (env.XDG_RUNTIME_DIR) out.push(`unix://${env.XDG_RUNTIME_DIR}/podman/podman.sock`);
  return out;
}

/**
 * Whether an engine may already be listening, without loading an engine client (~0.6 s) or
 * starting a service: DOCKER_HOST is set or a default socket exists.
 */
export function engineSocketPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DOCKER_HOST) || candidateHosts(env).some((h) => existsSync(new URL(h).pathname));
}
