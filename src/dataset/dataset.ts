import { createCipheriv, createHash } from 'node:crypto';
import type { DatasetSpec } from '../spec/dataset.js';
import { prng } from '../util/prng.js';

/** One file of a dataset: where it goes and how its bytes are made. */
export interface DatasetEntry {
  /** Relative path with forward slashes. */
  path: string;
  size: number;
  /** Per-file seed; the same dataset spec always gives the same bytes. */
  seed: number;
}

export interface DatasetPlan {
  entries: DatasetEntry[];
  /** Directories (relative) that must exist before the files, parents first. */
  dirs: string[];
  totalBytes: number;
}

function entryPath(spec: DatasetSpec, i: number, width: number): string {
  const n = String(i).padStart(width, '0');
  switch (spec.layout) {
    case 'flat':
      return `file-${n}.bin`;
    case 'tree':
      return `d${i % spec.fanout}/d${Math.floor(i / spec.fanout) % spec.fanout}/file-${n}.bin`;
    case 'timestep': {
      // HPC checkpoint pattern: timestep.K.root, then timestep.K/data.R for each rank R.
      const perStep = spec.ranks + 1;
      const step = Math.floor(i / perStep);
      const slot = i % perStep;
      return slot === 0 ? `timestep.${step}.root` : `timestep.${step}/data.${slot - 1}`;
    }
  }
}

export function planDataset(spec: DatasetSpec): DatasetPlan {
  const random = prng(spec.seed);
  const width = String(spec.files - 1).length;
  const entries: DatasetEntry[] = [];
  const dirs = new Set<string>();
  let totalBytes = 0;
  for (let i = 0; i < spec.files; i++) {
    const size =
      spec.size.kind === 'fixed'
        ? spec.size.bytes
        : Math.round(Math.exp(Math.log(spec.size.min) + random() * (Math.log(spec.size.max) - Math.log(spec.size.min))));
    const path = entryPath(spec, i, width);
    const parts = path.split('/');
    for (let d = 1; d < parts.length; d++) dirs.add(parts.slice(0, d).join('/'));
    entries.push({ path, size, seed: (spec.seed * 1_000_003 + i) >>> 0 });
    totalBytes += size;
  }
  return { entries, dirs: [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)), totalBytes };
}

const CHUNK = 1 << 20;

/**
 * The bytes of one file, in chunks: AES-128-CTR over zeros keyed by the file's seed, which is
 * deterministic, incompressible (as real data mostly is) and runs at memory speed.
 */
export function* fileContent(entry: DatasetEntry): Generator<Buffer> {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(entry.seed, 0);
  key.write('xferbench', 4, 'ascii');
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(CHUNK, Math.max(entry.size, 1)));
  for (let left = entry.size; left > 0; left -= CHUNK) {
    yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  }
}

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}
/** What every destination is verified against: relative path → size and SHA-256. */
export type Manifest = ManifestEntry[];

export function sha256Of(entry: DatasetEntry): string {
  const hash = createHash('sha256');
  for (const chunk of fileContent(entry)) hash.update(chunk);
  return hash.digest('hex');
}
