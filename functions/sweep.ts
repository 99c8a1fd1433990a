import { describeExecution } from './lib/aws/stepfunctions.js';
import { handled, logger } from './lib/log.js';
import { listClaims, type PairClaim } from './lib/pair-lock.js';
import { recoverStoppedRun, type Recovery } from './lib/recovery.js';
import { SAFETY_NET_TIMEOUT_SECONDS } from './lib/stack.js';

export interface SweepResult {
  claims: number;
  running: number;
  recovered: (Recovery & { pair: string; executionArn: string })[];
}

/** A claim the safety net (or an earlier sweep) fenced less than one safety-net run ago is still being handled. */
const beingRecovered = (claim: PairClaim, nowSeconds: number) =>
  claim.phase === 'STOPPED' && claim.stoppedAt !== undefined && nowSeconds - claim.stoppedAt < SAFETY_NET_TIMEOUT_SECONDS;

/**
 * Every few minutes (EventBridge Scheduler): restores any pair whose claim belongs to an
 * execution that is no longer RUNNING. The safety net acts on the execution's status-change
 * event, but EventBridge delivers those best-effort and Lambda's asynchronous retries end;
 * the sweep does not depend on any one event arriving. Only a definite answer counts: an
 * execution that has ended, or one Step Functions does not know.
 */
export const handler = handled('Sweep', async (): Promise<SweepResult> => {
  const held = await listClaims();
  const now = Math.floor(Date.now() / 1000);
  let running = 0;
  const recovered: SweepResult['recovered'] = [];
  const failures: Error[] = [];
  await Promise.all(
    held.map(async (claim) => {
      try {
        const { status } = await describeExecution(claim.executionArn).catch((e: Error) => {
          if (e.name === 'ExecutionDoesNotExist') return { status: 'DOES_NOT_EXIST' };
          throw e;
        });
        if (status === 'RUNNING') return void running++;
        if (beingRecovered(claim, now)) return;
        logger.warn('claim of an execution that is no longer running: restoring its pair', { pair: claim.pair, executionArn: claim.executionArn, status });
        const result = await recoverStoppedRun(claim, `execution ${status} (found by the sweep)`);
        recovered.push({ pair: claim.pair, executionArn: claim.executionArn, ...result });
      } catch (e) {
        logger.error('could not restore a pair; the next sweep tries again', { pair: claim.pair, error: e as Error });
        failures.push(e as Error);
      }
    }),
  );
  logger.info('sweep done', { claims: held.length, running, recovered: recovered.length, failed: failures.length });
  if (failures.length > 0) throw failures[0];
  return { claims: held.length, running, recovered };
});
