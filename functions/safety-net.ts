import * as z from 'zod/mini';
import { describeExecution } from './lib/aws/stepfunctions.js';
import { pairRef } from './lib/canary-state.js';
import { findPairByService } from './lib/config.js';
import { parseDeploymentEvent } from './lib/deployment-event.js';
import { isCanaryError } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { markStopped, readClaim, releasePair } from './lib/pair-lock.js';
import { pairsConfig } from './lib/pairs.js';
import { readPair, restoreBlue } from './lib/record-pair.js';
import { ALL_BLUE, ALL_GREEN, formatWeights, sameWeights, type Weights } from './lib/schedule.js';
import { MAX_WAIT_SECONDS } from './wait-for-change.js';

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

/** Longer than a shift task may run (its Lambda timeout is 50 s). */
export const SETTLE_SECONDS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The last line of defence keeps trying through Route53 throttling that outlasted everything
 * before it (including the SDK's retry quota, which stops retrying under a long storm): for up
 * to PERSIST_SECONDS, 2 s doubling to 30 s between rounds, with full jitter.
 */
export const PERSIST_SECONDS = 600;

async function persistently<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + PERSIST_SECONDS * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (!isCanaryError(e, 'Route53Throttled') || Date.now() > deadline) throw e;
      await sleep(1_000 + Math.random() * Math.min(30_000, 2_000 * 2 ** attempt));
    }
  }
}

export interface SafetyNetResult {
  action: 'NONE' | 'RELEASED' | 'ROLLED_BACK';
  why: string;
  weights?: Weights;
}

/**
 * The safety net for runs that could not roll back by themselves: a console "Stop execution",
 * an execution timeout, or a failure outside the rollback path (Step Functions runs no Catch
 * for those). Target of the rule on `Step Functions Execution Status Change` (ABORTED,
 * TIMED_OUT, FAILED) for the canary's state machine.
 *
 * Acts only while the stopped execution still holds its pair's claim: the claim holds the
 * roles (which record is blue) as Preflight established them. Then it restores blue 100 /
 * green 0 (unless the run had already finished its promotion), sends RolledBack and releases
 * the claim. A pair held by another (newer) canary, or released by a run that ended through
 * its own rollback or promotion, is left alone. Running twice is harmless.
 */
export const handler = handled('Safety net', async (event: unknown): Promise<SafetyNetResult> => {
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
    const owner = findPairByService(pairsConfig(), deployment.cluster, deployment.service);
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

  const ref = pairRef(claim);
  const records = await persistently(() => readPair(ref));
  const ended = `execution ${status}${error ? ` (${error}${cause ? `: ${cause.slice(0, 300)}` : ''})` : ''}`;
  if (claim.phase === 'PROMOTING' && sameWeights(records.weights, ALL_GREEN)) {
    await releasePair(claim.pair, executionArn);
    logger.info('the run had finished its promotion; claim released', { status });
    return { action: 'RELEASED', why: `${ended} after its promotion`, weights: records.weights };
  }
  // Fence the run off first: a task of it still in flight (Step Functions does not stop a
  // running Lambda) finds STOPPED and writes nothing; one already past that check is caught by
  // the second look after SETTLE_SECONDS.
  await markStopped(claim.pair, executionArn);
  const restore = async (why: string) => (await persistently(() => restoreBlue(ref, why, MAX_WAIT_SECONDS))).changeId !== null;
  let wrote = await restore(`${claim.pair} safety net after ${status}`);
  await sleep(SETTLE_SECONDS * 1000);
  wrote = (await restore(`${claim.pair} safety net after ${status} (second look)`)) || wrote;
  if (!wrote) {
    await releasePair(claim.pair, executionArn);
    logger.info('DNS was already blue 100 / green 0; claim released', { status });
    return { action: 'RELEASED', why: `${ended}; DNS was already blue 100 / green 0`, weights: ALL_BLUE };
  }
  const reason = `${ended}: the safety net restored blue 100 / green 0 (was ${formatWeights(records.weights)})`;
  logger.warn('rolled back by the safety net', { reason });
  const step = Math.max(0, claim.steps.indexOf(records.weights.green) + 1);
  await notify(logger, 'RolledBack', notificationDetail(claim, { step, of: claim.steps.length, greenPercent: 0, weights: ALL_BLUE }, reason));
  await releasePair(claim.pair, executionArn);
  return { action: 'ROLLED_BACK', why: reason, weights: ALL_BLUE };
});
