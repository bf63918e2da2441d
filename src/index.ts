// Public API of xferbench, in pipeline order: scenario → plan → hosts → dataset → transfers →
// records → verification → report.

export { XferbenchError, ScenarioError, SetupError, HostStartError, RunAbortedError, type ScenarioIssue } from './util/errors.js';

export { resolveMatrixKey, type LoadOptions, type MatrixAxis } from './scenario/load-scenario.js';
export { loadScenario, parseScenario, type LoadedScenario } from './plan/load-plan.js';
export { DEFAULT_LIMITS, type Limits } from './spec/limits.js';
export { scenarioSchema, type Scenario } from './scenario/scenario-schema.js';
export type { TransferSpec } from './transfers/transfer-spec.js';
export type { DatasetSpec } from './spec/dataset.js';
export type { HostSpec, ClientPlace } from './spec/host.js';
export type { MuxMode } from './spec/fields.js';
export { parseSize, parseBytes, type SizeSpec } from './spec/size.js';
export { parseMaxStartups, SETTABLE_SSHD, REFUSED_SSHD, type MaxStartups, type SshdOptions } from './spec/sshd-options.js';
export { SETTABLE_SSH, REFUSED_SSH } from './spec/ssh-options.js';
export { SETTABLE_RSYNC, REFUSED_RSYNC } from './spec/rsync-args.js';
export { parseCondition, THRESHOLD_METRICS, type Threshold, type ThresholdMetric, type Condition } from './spec/thresholds.js';

export { buildPlan, type Plan, type PlanCell, type TopologyGroup } from './plan/plan.js';

export type { HostBackend, HostGroup, HostStartOptions, StartedHost, HostStartContext, HostEndpoint, CommandWrapper } from './hosts/host.js';
export type { HostFiles, ScannedFile } from './hosts/host-files.js';
export { LocalBackend } from './hosts/local/local-backend.js';
export { LocalSshdHost } from './hosts/local/local-sshd-host.js';
export { LocalHostFiles } from './hosts/local/local-host-files.js';
export { ContainerBackend, type ContainerBackendOptions } from './hosts/container/container-backend.js';
export { ContainerSshdHost, PUBLISH_ADDRESS } from './hosts/container/container-sshd-host.js';
export { containerEngine, stopPrivateEngine, type ContainerEngine } from './hosts/container/container-engine.js';
export { containerCommandWrapper } from './hosts/container/container-exec.js';
export { removeContainerLeftovers, cleanContainers, type ContainerSelection } from './hosts/container/container-leftovers.js';
export { ensureSshdImage, contextHash, parseAptSources, SSHD_CONTEXT, type ImageBase, type SshdImage } from './hosts/container/sshd-image.js';
export { startTopology, replicaNames, type StartedTopology, type ClientSide, type TopologyOptions } from './hosts/topology.js';
export { findTools, type OpenSshTools } from './ssh/openssh-tools.js';
export { parseOpenSshVersion, unsupportedKeywords, type OpenSshVersion } from './ssh/openssh-version.js';
export { renderSshdConfig, type SshdConfigInput } from './ssh/sshd-config.js';
export { renderSshClientConfig, renderKnownHosts } from './ssh/ssh-client-config.js';
export { SshdLog, parseSshdLine } from './ssh/sshd-log.js';
export { type SshdCounters, type SshdEvent } from './records/sshd-events.js';
export { createStateDir, stateBase, type StateDir } from './hosts/state-dir.js';
export { generateKeyPair, type KeyPair } from './ssh/ssh-keys.js';
export { cleanLeftovers } from './hosts/leftovers.js';

export { planDataset, fileContent, sha256Of, type DatasetPlan, type DatasetEntry, type Manifest, type ManifestEntry } from './dataset/dataset.js';

export type { TransferTool, TransferJob, TransferCommand, Endpoint, SshInvocation, DirectEndpoint } from './transfers/transfer-tool.js';
export { TOOL_REGISTRY, TOOL_NAMES, createTool, type ToolName } from './transfers/tool-registry.js';
export { defineTool, type ToolFactory } from './transfers/tool-factory.js';
export { CommandTool, PLACEHOLDERS, templateIssues } from './transfers/command-tool.js';
export { Ssh2SftpTool } from './transfers/ssh2-sftp-tool.js';
export { RsyncTool } from './transfers/rsync-tool.js';
export { ScpTool } from './transfers/scp-tool.js';
export { SftpTool } from './transfers/sftp-tool.js';
export { CpTool } from './transfers/cp-tool.js';
export { renderLaneConfig, laneSshOptions } from './transfers/ssh-invocation.js';
export { MuxSession, type MuxStatus } from './transfers/mux-session.js';
export { runTransfer, type TransferPolicy } from './transfers/run-transfer.js';
export { runTransferPool } from './transfers/transfer-pool.js';
export { Launcher, type LaunchRequest, type LaunchResult } from './process/launcher.js';
export { classify, RULES as FAILURE_RULES, type Classification } from './transfers/failure-classifier.js';
export { backoffDelay } from './transfers/backoff.js';

export { FAILURE_CLASSES, type FailureClass, type TransferRecord, type TransferStatus, type AttemptRecord } from './records/transfer-record.js';
export { type ResultRecord } from './records/result-record.js';
export { STEP_NAMES, type StepName, type StepRecord, type InvariantsRecord, type InvariantViolation } from './records/pipeline-records.js';
export { type RunResumeRecord } from './records/run-records.js';
export { type VerificationRecord, type CellRecord, type FileVerdict } from './records/cell-record.js';
export { JsonlWriter } from './records/jsonl-writer.js';
export { readResults, createReportDir, loadReportScenario } from './report/report-dir.js';
export { ReportFolderError, REPORT_CAPS } from './records/report-folder.js';
export { resultRecordSchema } from './records/record-schema.js';
export { showText } from './util/show-text.js';

export { verifyDestination, silentDrops } from './verification/verify.js';

export { pipelineSchema, parseStrategy, type PipelineSpec, type StageSpec, type Strategy } from './pipeline/pipeline-spec.js';
export { COMPUTE_REGISTRY, parseCompute, type ComputeSpec } from './pipeline/compute/registry.js';
export type { ComputeKind } from './pipeline/compute/compute-kind.js';
export { STEP_REGISTRY } from './pipeline/steps/registry.js';
export type { StepKind, StepResult } from './pipeline/steps/step-kind.js';
export { finalizeStates, type RankFinalize } from './pipeline/finalize.js';
export { finalizeReport } from './run/finalize-report.js';
export { checkInvariants } from './pipeline/invariants.js';
export { readState, readStateFile, writeState, type RankState, type FileState } from './pipeline/state-file.js';
export { CELL_KINDS } from './cells/registry.js';
export type { CellKind, CellContext } from './cells/cell-kind.js';
export { planResume, type ResumeState } from './run/resume.js';
export type { Executor, ExecutorRun } from './executors/executor.js';

export { probeHost, estimateRate, type ProbeOptions, type ProbeResult, type MaxStartupsEstimate } from './probe/probe.js';
export { type ProbeTarget } from './probe/probe-target.js';

export { buildSummary, type Summary, type CellSummary, type RepeatMetrics } from './report/summary.js';
export { inFlight, type InFlight } from './report/in-flight.js';
export { percentile, spread, type Spread } from './report/statistics.js';
export { checkThresholds, type ThresholdResult } from './report/threshold-check.js';
export { renderSummaryTable, renderThresholds } from './report/summary-table.js';
export { EXPORTERS, exporter, folderExporters, type Exporter, type ExporterName, type ExporterOptions, type ReportInput } from './exporters/index.js';

// The stable entry point: a file, an object or a loaded scenario in, the typed summary out.
export { runScenario, type ScenarioRunOptions } from './api.js';
export type { RunOptions, RunResult, RunEvent } from './run/run-scenario.js';
