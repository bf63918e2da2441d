import type { DatasetPlan, Manifest } from '../dataset/dataset.js';
import type { OpenSshTools } from '../ssh/openssh-tools.js';
import type { OpenSshVersion } from '../ssh/openssh-version.js';
import type { StartedTopology } from '../hosts/topology.js';
import type { PlanCell } from '../plan/plan.js';
import type { TransferRecord } from '../records/transfer-record.js';
import type { ResultRecord } from '../records/result-record.js';
import type { CellRecord, VerificationRecord } from '../records/cell-record.js';
import type { Launcher } from '../process/launcher.js';
import type { Executor } from '../executors/executor.js';

/** Where a dataset was materialised, and what it must look like wherever it is copied. */
export interface PlacedDataset {
  plan: DatasetPlan;
  manifest: Manifest;
  /** The side holding the source files (undefined host: the client). */
  source: { host?: string; dir: string };
}

/** What the runner hands every cell: its started hosts, the run's clock, launcher and records. */
export interface CellContext {
  cell: PlanCell;
  topology: StartedTopology;
  tools: OpenSshTools;
  /** ssh version of the client side (the machine's, or the client container's). */
  clientVersion: OpenSshVersion;
  clock: () => number;
  /** Short directory for ControlMaster sockets; each repeat takes a folder below it. */
  controlBase: string;
  /** New transfers to external hosts are paced (spec/external-host.ts): false with --i-administer-this-host. */
  paceExternal: boolean;
  /** The run's client key (in-process clients read it; command-line tools get it from the ssh_config). */
  clientKeyPath: string;
  launcher: Launcher;
  /** Where the cell's transfers are launched (executors/: this process, or a Slurm cluster). */
  executor: Executor;
  reportDir: string;
  /** Datasets already written in this run, by where and what (cells with the same dataset share one). */
  datasets: Map<string, PlacedDataset>;
  /** Keep what the cell moved after it is verified (--keep-state). */
  keepData: boolean;
  /** Index of the cell's topology in the plan (datasets are per topology). */
  topologyIndex: number;
  signal?: AbortSignal;
  /** Transfer and step records of this repeat from before the run was interrupted (xferbench resume), else none. */
  earlier(repeat: number): readonly ResultRecord[];
  /** Appends to results.jsonl. */
  write(record: ResultRecord): void;
  /** A transfer's record, as it completes (written and shown as progress). */
  onTransfer(record: TransferRecord): void;
  /** A transfer's record shown as progress only: the cell writes it later (once sshd's log confirms its class). */
  showTransfer(record: TransferRecord): void;
}

export interface CellRepeatResult {
  transfers: TransferRecord[];
  verification: VerificationRecord;
  cell: CellRecord;
}

/**
 * How one kind of cell runs (a transfer per file, a staging pipeline per rank): prepared once
 * per cell on its started topology, then run once per repeat. The runner (run-scenario.ts) does
 * the rest (hosts, records, reports) the same way for every kind.
 */
export interface CellKind {
  prepare(ctx: CellContext): Promise<{ run(repeat: number): Promise<CellRepeatResult> }>;
}
