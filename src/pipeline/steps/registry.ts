import type { StepName } from '../../records/pipeline-records.js';
import { cleanupStep } from './cleanup.js';
import { computeStep } from './compute.js';
import { stageInStep, stageOutStep } from './stage.js';
import type { StepKind } from './step-kind.js';

/** Every pipeline step by name, in the order a rank runs them (cleanup only after a failure). */
export const STEP_REGISTRY: Record<StepName, StepKind> = {
  stage_in: stageInStep,
  compute: computeStep,
  stage_out: stageOutStep,
  cleanup: cleanupStep,
};
