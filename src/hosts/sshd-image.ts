import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { SetupError } from '../errors.js';
import type { ContainerEngine } from './container-engine.js';
import { which } from './openssh-tools.js';

/** containers/sshd/ of this package (the same from src/ under tsx and from dist/). */
export const SSHD_CONTEXT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'containers', 'sshd');
export const IMAGE_REPO = 'localhost/xferbench-sshd';
const REGISTRY_BASE = 'debian:bookworm-slim';
const BOOTSTRAP_REPO = 'localhost/xferbench-bookworm-minbase';
const BOOTSTRAP_PACKAGES = ['openssh-server', 'rsync'];

/** Where the host image's base comes from: a registry, debootstrap, or whichever fits (auto). */
export type ImageBase = 'auto' | 'registry' | 'bootstrap';

export interface ImageBuildOptions {
  base?: ImageBase;
  /** Rebuild from nothing: a bootstrapped base too, even if images for this content exist. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

export interface SshdImage {
  tag: string;
  /** Set when this call built it; absent when the cached image was used. */
  built?: { base: string; ms: number };
}

/** Hash of every file in containers/sshd/ (names and bytes): the image tag, so an edit rebuilds. */
export async function contextHash(dir = SSHD_CONTEXT): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir)).sort();
  for (const f of files) hash.update(`${f}\0`).update(await readFile(join(dir, f))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  return docker.getImage(ref).inspect().then(() => true, () => false);
}

/** Follows a build/import/pull stream; engines report failures inside it, not as HTTP errors. */
type ProgressEvent = { stream?: string; status?: string; error?: string };

async function follow(docker: Docker, stream: NodeJS.ReadableStream, onProgress?: (line: string) => void): Promise<ProgressEvent[]> {
  return new Promise((res, rej) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, out: ProgressEvent[]) => {
        const failed = err?.message ?? out.find((o) => o.error)?.error;
        if (failed) rej(new SetupError(`image build failed: ${failed}`));
        else res(out);
      },
      (event: ProgressEvent) => {
        const line = (event.stream ?? event.status ?? '').trim();
        if (line) onProgress?.(line);
      },
    );
  });
}

/**
 * The configured Debian mirror, read from apt's sources (deb822 or one-line), so a site's own
 * mirror is used; undefined leaves debootstrap's default.
 */
export async function aptMirror(): Promise<string | undefined> {
  const deb822 = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  for (const stanza of deb822.split(/\n\s*\n/)) {
    const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
    if (uri && /^Suites:.*\bbookworm\b(?!-)/m.test(stanza)) return uri;
  }
  const list = await readFile('/etc/apt/sources.list', 'utf8').catch(() => '');
  return /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(list)?.[1];
}

/** A minbase bookworm root file system with the packages the host needs, imported as an image. */
async function bootstrapBase(engine: ContainerEngine, force: boolean, onProgress?: (line: string) => void): Promise<string> {
  const mirror = await aptMirror();
  const tag = `${BOOTSTRAP_REPO}:${createHash('sha256').update(`${BOOTSTRAP_PACKAGES.join(',')}|${mirror ?? ''}`).digest('hex').slice(0, 12)}`;
  if (!force && (await imageExists(engine.docker, tag))) return tag;
  const debootstrap = await which('debootstrap');
  if (!debootstrap) throw new SetupError('building the host image without a registry needs debootstrap: apt-get install -y debootstrap (or run scripts/container-setup.sh)');
  if (process.getuid?.() !== 0) throw new SetupError('debootstrap needs root; run `xferbench image build` once as root, or use --base registry');
  const root = await mkdtemp(join(tmpdir(), 'xferbench-rootfs-'));
  try {
    onProgress?.(`debootstrap bookworm from ${mirror ?? "debootstrap's default mirror"}`);
    const args = ['--variant=minbase', `--include=${BOOTSTRAP_PACKAGES.join(',')}`, 'bookworm', root, ...(mirror ? [mirror] : [])];
    const run = await execa(debootstrap, args, { reject: false, all: true });
    if (run.exitCode !== 0) throw new SetupError(`debootstrap failed (exit ${run.exitCode}):\n${String(run.all).split('\n').slice(-15).join('\n')}`);
    // Downloaded .debs and apt lists are not part of a host.
    await execa('sh', ['-c', 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*', 'sh', root]);
    onProgress?.(`importing ${tag}`);
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const [repo, version] = tag.split(/:(?=[^:]+$)/) as [string, string];
    const out = await follow(engine.docker, await engine.docker.importImage(tar.stdout, { repo, tag: version }), onProgress);
    // Engines differ in whether they apply `tag` on import (Podman's compatible API does not);
    // the last status names the image.
    const id = out.map((o) => o.status ?? '').reverse().find((s) => /^sha256:[0-9a-f]{64}$/.test(s));
    if (!(await imageExists(engine.docker, tag)) && id) await engine.docker.getImage(id).tag({ repo, tag: version });
    if (!(await imageExists(engine.docker, tag))) throw new SetupError(`importing the bootstrapped file system did not produce ${tag}`);
    return tag;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function chooseBase(engine: ContainerEngine, base: ImageBase, force: boolean, onProgress?: (line: string) => void): Promise<string> {
  if (base === 'registry') return REGISTRY_BASE;
  if (base === 'bootstrap') return bootstrapBase(engine, force, onProgress);
  // auto: a registry base already present costs nothing; otherwise bootstrap where debootstrap
  // is installed (air-gapped machines), else pull from the registry as any Containerfile would.
  if (await imageExists(engine.docker, REGISTRY_BASE)) return REGISTRY_BASE;
  if ((await which('debootstrap')) && process.getuid?.() === 0) return bootstrapBase(engine, force, onProgress);
  return REGISTRY_BASE;
}

/** Finds or builds the sshd host image for the current containers/sshd/ content. */
export async function ensureSshdImage(engine: ContainerEngine, opts: ImageBuildOptions = {}): Promise<SshdImage> {
  const tag = `${IMAGE_REPO}:${await contextHash()}`;
  if (!opts.force && (await imageExists(engine.docker, tag))) return { tag };
  const t0 = performance.now();
  const base = await chooseBase(engine, opts.base ?? 'auto', opts.force === true, opts.onProgress);
  const files = await readdir(SSHD_CONTEXT);
  const stream = await engine.docker.buildImage(
    { context: SSHD_CONTEXT, src: files },
    { t: tag, dockerfile: 'Containerfile', buildargs: { BASE: base }, labels: { 'xferbench.image': 'sshd' }, rm: true },
  );
  await follow(engine.docker, stream, opts.onProgress);
  if (!(await imageExists(engine.docker, tag))) throw new SetupError(`the build finished but ${tag} is not in the engine's image store`);
  return { tag, built: { base, ms: performance.now() - t0 } };
}
