import * as z from 'zod/mini';
import { describeExecution } from './lib/aws/stepfunctions.js';
import { findPairByService } from './lib/config.js';
import { eventPlaces, parseDeploymentEvent } from './lib/deployment-event.js';
import { isCanaryError } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { readClaim } from './lib/pair-lock.js';
import { pairsConfig } from './lib/pairs.js';
import { recoverStoppedRun, type Recovery } from './lib/recovery.js';

const StatusChange = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    status: z.string(),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
  }),
});

const ENDED_BADLY = new Set(['ABORTED', 'TIMED_OUT', 'FAILED']);

/**
 * The safety net for runs that could not roll back by themselves: a console "Stop execution",
 * an execution timeout, or a failure outside the rollback path (Step Functions runs no Catch
 * for those). Target of the rule on `Step Functions Execution Status Change` (ABORTED,
 * TIMED_OUT, FAILED) for the canary's state machine. The scheduled sweep does the same for
 * runs whose status event never arrived.
 *
 * Acts only while the stopped execution still holds its pair's claim (the claim holds the
 * roles, which record is blue, as Preflight established them). A pair held by another (newer)
 * canary, or released by a run that ended through its own rollback or promotion, is left alone.
 */
export const handler = handled('Safety net', async (event: unknown): Promise<Recovery> => {
  const parsed = StatusChange.safeParse(event);
  if (!parsed.success) {
    logger.error('not a Step Functions execution status change; ignored', { issue: parsed.error.issues[0]?.message });
    return { action: 'NONE', why: 'not an execution status change' };
  }
  const { executionArn, status, error, cause } = parsed.data.detail;
  if (!ENDED_BADLY.has(status)) return { action: 'NONE', why: `execution ${status}` };

  const execution = await describeExecution(executionArn);
  let pairName: string;
  try {
    const deployment = parseDeploymentEvent(JSON.parse(execution.input ?? 'null'));
    const owner = findPairByService(pairsConfig(), deployment.cluster, deployment.service, eventPlaces(deployment, executionArn));
    if (!owner) return { action: 'NONE', why: `service ${deployment.cluster}/${deployment.service} is in no pair` };
    pairName = owner.pair.name;
  } catch (e) {
    if (!isCanaryError(e) && !(e instanceof SyntaxError)) throw e;
    logger.info('the execution was not a canary of a known pair; nothing to restore', { executionArn });
    return { action: 'NONE', why: 'input is not a deployment event of a configured pair' };
  }
  logFor({ pair: pairName, executionArn });

  const claim = await readClaim(pairName);
  if (!claim) return { action: 'NONE', why: `no canary holds pair ${pairName}: the run released it (its own rollback or promotion ran)` };
  if (claim.executionArn !== executionArn) {
    logger.info('pair is held by another canary; leaving DNS to it', { holder: claim.executionArn });
    return { action: 'NONE', why: `pair ${pairName} is held by ${claim.executionArn}` };
  }
  return recoverStoppedRun(claim, `execution ${status}${error ? ` (${error}${cause ? `: ${cause.slice(0, 300)}` : ''})` : ''}`);
});
