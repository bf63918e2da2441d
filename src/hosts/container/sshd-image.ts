import { packageFile } from '../../util/package-root.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { SetupError } from '../../util/errors.js';
import type { ContainerEngine } from './container-engine.js';
import { which } from '../../ssh/openssh-tools.js';

/** containers/sshd/ of this package. */
export const SSHD_CONTEXT = packageFile('containers', 'sshd');
export const IMAGE_REPO = 'localhost/xferbench-sshd';
const REGISTRY_BASE = 'debian:bookworm-slim';
const BOOTSTRAP_REPO = 'localhost/xferbench-bookworm-minbase';
const BOOTSTRAP_PACKAGES = ['openssh-server', 'rsync', 'libsocket-msghdr-perl'];

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

export interface AptSources {
  /** Mirror serving bookworm and bookworm-updates. */
  main?: string;
  security?: string;
}

/** The mirrors in a deb822 .sources file or a one-line sources.list, for bookworm. */
export function parseAptSources(deb822: string, list: string): AptSources {
  const out: AptSources = {};
  for (const stanza of deb822.split(/\n\s*\n/)) {
    const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
    const suites = /^Suites:(.*)$/m.exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (!uri) continue;
    if (suites.includes('bookworm')) out.main ??= uri;
    if (suites.includes('bookworm-security')) out.security ??= uri;
  }
  for (const m of list.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(bookworm(?:-security)?)\s/gm)) {
    if (m[2] === 'bookworm') out.main ??= m[1];
    else out.security ??= m[1];
  }
  return out;
}

/** This machine's configured Debian mirrors, so a site's own (or air-gapped) mirror is used. */
async function aptSources(): Promise<AptSources> {
  const deb822 = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  const list = await readFile('/etc/apt/sources.list', 'utf8').catch(() => '');
  return parseAptSources(deb822, list);
}

/**
 * Brings the bootstrapped system up to date as `apt-get install` on a stock image would be:
 * debootstrap only reads the release itself, which would leave rsync and OpenSSH older than the
 * machine's (measured: rsync 3.2.7 in the container against 3.5.0 here, 20 % slower). No service
 * may start in the chroot, hence the policy-rc.d for the duration.
 */
const UPGRADE = `set -e
root=$1 security=$2
main=$(sed -n 's/^deb \\([^ ]*\\) bookworm main.*/\\1/p' "$root/etc/apt/sources.list" | head -n1)
{
  echo "deb $main bookworm main"
  echo "deb $main bookworm-updates main"
  [ -z "$security" ] || echo "deb $security bookworm-security main"
} > "$root/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get -qq update
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq -y upgrade
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
`;

/** A minbase bookworm root file system with the packages the host needs, imported as an image. */
async function bootstrapBase(engine: ContainerEngine, force: boolean, onProgress?: (line: string) => void): Promise<string> {
  const sources = await aptSources();
  const mirror = sources.main;
  const tag = `${BOOTSTRAP_REPO}:${createHash('sha256').update(`${BOOTSTRAP_PACKAGES.join(',')}|${mirror ?? ''}|${sources.security ?? ''}|upgraded`).digest('hex').slice(0, 12)}`;
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
    onProgress?.('apt-get upgrade in the bootstrapped system (bookworm-updates, bookworm-security)');
    const upgrade = await execa('sh', ['-c', UPGRADE, 'sh', root, sources.security ?? ''], { reject: false, all: true });
    if (upgrade.exitCode !== 0) throw new SetupError(`updating the bootstrapped system failed (exit ${upgrade.exitCode}):\n${String(upgrade.all).split('\n').slice(-15).join('\n')}`);
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
