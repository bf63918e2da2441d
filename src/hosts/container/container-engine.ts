import { rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa, type ResultPromise } from 'execa';
import { SetupError } from '../../util/errors.js';
import { atEnd } from '../../util/end-tasks.js';
import { candidateHosts } from './engine-sockets.js';
import { which } from '../../ssh/openssh-tools.js';
import { ownerRecord, signal } from '../../process/process-tree.js';
import { ENGINE_DIR_PREFIX, EXTRA_DIRS_FILE, OWNER_FILE, stateBase } from '../state-dir.js';

/** A reachable Docker API (Docker itself, or Podman's compatible service). */
export interface ContainerEngine {
  readonly docker: Docker;
  /** The Docker API address, as DOCKER_HOST spells it. */
  readonly host: string;
  readonly name: 'docker' | 'podman';
  readonly version: string;
  /** Command-line client of the same engine (runs transfers inside client containers). */
  readonly cli: string | undefined;
  /** The engine runs on this machine (a UNIX socket), so its containers' processes are ours to see. */
  readonly local: boolean;
}

const PING_TIMEOUT_MS = 3_000;
const SERVICE_START_MS = 20_000;

function clientFor(host: string): Docker {
  const url = new URL(host);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname, timeout: 0 });
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
}

async function probe(host: string): Promise<ContainerEngine | undefined> {
  const docker = clientFor(host);
  try {
    const version = await Promise.race([
      docker.version(),
      sleep(PING_TIMEOUT_MS).then(() => {
        throw new Error('timeout');
      }),
    ]);
    const podman = (version.Components ?? []).some((c) => /podman/i.test(c.Name));
    const name = podman ? 'podman' : 'docker';
    return { docker, host, name, version: `${podman ? 'Podman' : 'Docker'} ${version.Version}`, cli: await which(name), local: host.startsWith('unix:') };
  } catch {
    return undefined;
  }
}

let shared: Promise<ContainerEngine> | undefined;

/** The Podman service this process started, if any, and the folders that go with it. */
let service: { proc: ResultPromise; dirs: string[] } | undefined;

/** Synchronous, so it can run in an 'exit' handler. */
function endService(): ResultPromise | undefined {
  const s = service;
  if (!s) return undefined;
  service = undefined;
  shared = undefined;
  process.off('exit', endService);
  if (s.proc.pid) signal(s.proc.pid, 'SIGTERM');
  for (const d of s.dirs) rmSync(d, { recursive: true, force: true });
  return s.proc;
}

/**
 * The engine this process uses, found once: DOCKER_HOST if set, else the Docker or Podman socket.
 * Where neither answers but podman is installed and we are root, a private `podman system
 * service` is started for this process and ended when it exits. testcontainers reads DOCKER_HOST
 * when first used, so it is set here to whatever was found.
 */
export function containerEngine(env: NodeJS.ProcessEnv = process.env, options: { startService?: boolean } = {}): Promise<ContainerEngine> {
  shared ??= discover(env, options.startService ?? true).then((engine) => {
    env.DOCKER_HOST = engine.host;
    // Ryuk (testcontainers' reaper) is an image from a registry; xferbench removes its own
    // containers by label instead. Ports are bound to 127.0.0.1, so that is the host to use.
    env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    return engine;
  });
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

const privateSocket = () => join(tmpdir(), `xb-engine-${process.pid}`, 'podman.sock');

async function discover(env: NodeJS.ProcessEnv, startService: boolean): Promise<ContainerEngine> {
  // DOCKER_HOST pointing at our own, since stopped, service is ours to restart.
  if (env.DOCKER_HOST && env.DOCKER_HOST !== `unix://${privateSocket()}`) {
    const engine = await probe(env.DOCKER_HOST);
    if (engine) return engine;
    throw new SetupError(`DOCKER_HOST=${env.DOCKER_HOST} does not answer. Start that engine, or unset DOCKER_HOST to let xferbench look for one.`);
  }
  for (const host of candidateHosts(env)) {
    const engine = await probe(host);
    if (engine) return engine;
  }
  const podman = await which('podman');
  if (podman && process.getuid?.() === 0 && startService) return startPrivateService(podman);
  throw new SetupError(
    'no container engine found: DOCKER_HOST is unset and neither the Docker nor the Podman socket answers. ' +
      'Start Docker, or run `bash scripts/container-setup.sh` as root (installs and configures Podman), ' +
      'or use backend: local.',
  );
}

/** How long the service may take to end on SIGTERM before it gets SIGKILL. */
const SERVICE_STOP_MS = 10_000;

async function startPrivateService(podman: string): Promise<ContainerEngine> {
  const base = stateBase();
  await mkdir(base, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(base, ENGINE_DIR_PREFIX));
  await writeFile(join(dir, OWNER_FILE), `${ownerRecord()}\n`);
  // A UNIX socket path must stay short (sun_path); the state folder may be deep. One path per
  // process: testcontainers keeps the client it made first, so a restarted service must reuse it.
  const sockDir = dirname(privateSocket());
  await rm(sockDir, { recursive: true, force: true });
  await mkdir(sockDir, { mode: 0o700 });
  await writeFile(join(dir, EXTRA_DIRS_FILE), `${sockDir}\n`);
  const socket = privateSocket();
  // Its own process group: a Ctrl-C meant for xferbench must not end the engine before
  // xferbench has removed its containers through it.
  const proc = execa(podman, ['system', 'service', '--time=0', `unix://${socket}`], {
    detached: true,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
    cleanup: false,
  });
  // The service must not keep this process alive: it ends with it (exit handler below).
  proc.unref();
  service = { proc, dirs: [dir, sockDir] };
  // Awaited by the command line before it exits; the exit handler is the backstop for any other way out.
  atEnd(stopPrivateEngine);
  process.once('exit', endService);
  const deadline = Date.now() + SERVICE_START_MS;
  while (Date.now() < deadline) {
    if (await access(socket).then(() => true, () => false)) {
      const engine = await probe(`unix://${socket}`);
      if (engine) return { ...engine, cli: podman };
    }
    if (proc.exitCode !== undefined && proc.exitCode !== null) break;
    await sleep(100);
  }
  endService();
  throw new SetupError(`podman system service did not come up on ${socket}; run \`bash scripts/container-setup.sh\` as root, then retry`);
}

/** Ends the private Podman service, if this process started one (tests call this to leave nothing running). */
export async function stopPrivateEngine(): Promise<void> {
  const proc = endService();
  if (!proc) return;
  // Unref'd at start; waiting for its exit must keep the loop alive. SIGKILL if SIGTERM is not enough.
  proc.ref();
  const late = setTimeout(() => proc.pid && signal(proc.pid, 'SIGKILL'), SERVICE_STOP_MS);
  await proc;
  clearTimeout(late);
}
