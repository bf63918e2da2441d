import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { HostBackend, HostGroup, StartedHost } from '../../src/hosts/host.js';
import type { OpenSshTools } from '../../src/ssh/openssh-tools.js';
import { runScenario } from '../../src/run/run-scenario.js';
import type { loadScenario } from '../../src/plan/load-plan.js';
import { readJsonl } from './harness.js';

/** Holds one unauthenticated connection open, on its own thread, and says when sshd has answered it. */
const HOLD = `
const { workerData } = require('node:worker_threads');
const s = require('node:net').connect({ host: workerData.address, port: workerData.port });
const say = (v) => { Atomics.store(workerData.flag, 0, v); Atomics.notify(workerData.flag, 0); };
s.once('data', () => say(1));
s.on('error', () => say(2));
`;

/**
 * Opens a connection to an sshd and holds it unauthenticated, one of its MaxStartups slots taken,
 * until released. Blocks the calling thread until sshd's banner came (so it is counted): from a
 * run's onEvent, the run goes on only once the slot is surely taken.
 */
export function holdStartupSlot(endpoint: { address: string; port: number }): { release(): void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(HOLD, { eval: true, workerData: { address: endpoint.address, port: endpoint.port, flag } });
  Atomics.wait(flag, 0, 0, 10_000);
  assert.equal(flag[0], 1, 'the held connection got sshd\'s banner');
  return { release: () => void worker.terminate() };
}

/**
 * `backend` handing every host it starts to `seen` as well, before a relay or anything else is put
 * in front of it: a test's way to a run's own sshd (to hold one of its slots).
 */
function capturing(backend: HostBackend, seen: (host: StartedHost) => void): HostBackend {
  return {
    kind: backend.kind,
    sshdVersion: () => backend.sshdVersion(),
    async open(ctx) {
      const group = await backend.open(ctx);
      const start: HostGroup['start'] = async (...a) => {
        const host = await group.start(...a);
        seen(host);
        return host;
      };
      return { start, [Symbol.asyncDispose]: () => group[Symbol.asyncDispose]() };
    },
  };
}

/**
 * Runs a scenario in this process, one unauthenticated slot of host `host`'s own sshd (behind any
 * relay) held from the topology's start until `releaseAfter` transfers are recorded: on a 1:100:1
 * sshd every connection until then is dropped. Resolves with the run's records.
 */
export async function runHoldingSlot(
  loaded: Awaited<ReturnType<typeof loadScenario>>,
  o: { base: string; outDir: string; backend: (tools: OpenSshTools) => HostBackend; host: string; releaseAfter: number },
): Promise<Record<string, unknown>[]> {
  let sshd: StartedHost | undefined;
  let holder: { release(): void } | undefined;
  let seen = 0;
  const release = () => holder?.release();
  const prior = process.env.XFERBENCH_STATE_DIR;
  process.env.XFERBENCH_STATE_DIR = o.base;
  try {
    const result = await runScenario(loaded, {
      outDir: o.outDir,
      backend: (_kind, tools) => capturing(o.backend(tools), (h) => h.name === o.host && (sshd = h)),
      onEvent: (e) => {
        if (e.type === 'topology_started') holder = holdStartupSlot(sshd!.endpoint);
        if (e.type === 'transfer' && ++seen === o.releaseAfter) release();
      },
    });
    return await readJsonl(join(result.reportDir, 'results.jsonl'));
  } finally {
    release();
    if (prior === undefined) delete process.env.XFERBENCH_STATE_DIR;
    else process.env.XFERBENCH_STATE_DIR = prior;
  }
}
