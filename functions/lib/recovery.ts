import { pairRef } from './canary-state.js';
import { emitMetrics, runOf, secondsSince } from './canary-metrics.js';
import { isCanaryError } from './errors.js';
import { logger } from './log.js';
import { notificationDetail, notify } from './notify.js';
import { markStopped, releasePair, type PairClaim } from './pair-lock.js';
import { route53Router } from './traffic/route53/route53-router.js';
import { ALL_BLUE, ALL_GREEN, formatWeights, sameWeights, type Weights } from './schedule.js';
import { sleep } from './sleep.js';

/** Longer than a shift task may run (its Lambda timeout is 50 s). */
export const SETTLE_SECONDS = 60;

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

export interface Recovery {
  action: 'NONE' | 'RELEASED' | 'ROLLED_BACK';
  why: string;
  weights?: Weights;
}

/**
 * Restores the pair of a run that ended without rolling back by itself (stopped, timed out,
 * failed outside the rollback path), using the roles its claim recorded. The caller has
 * checked that the run still holds the claim and is no longer running.
 *
 * A finished promotion (claim PROMOTING, green at 100) is left as it is. Otherwise the run is
 * fenced off first (claim STOPPED: a task of it still in flight — Step Functions does not stop
 * a running Lambda — finds it and writes nothing; one already past that check is caught by the
 * second look after SETTLE_SECONDS), blue 100 / green 0 is restored, RolledBack sent naming
 * `ended`, and the claim released. Running it twice is harmless.
 */
export async function recoverStoppedRun(claim: PairClaim, ended: string): Promise<Recovery> {
  const router = route53Router(pairRef(claim));
  const weights = await persistently(() => router.read());
  if (claim.phase === 'PROMOTING' && sameWeights(weights, ALL_GREEN)) {
    await releasePair(claim.pair, claim.executionArn);
    logger.info('the run had finished its promotion; claim released', { ended });
    return { action: 'RELEASED', why: `${ended} after its promotion`, weights };
  }
  await markStopped(claim.pair, claim.executionArn);
  const restore = async (why: string) => {
    const { changeId } = await persistently(() => router.set(ALL_BLUE, 'any', why));
    if (changeId) await persistently(() => router.waitApplied(changeId));
    return changeId !== null;
  };
  let wrote = await restore(`${claim.pair} restored after ${ended}`);
  await sleep(SETTLE_SECONDS * 1000);
  wrote = (await restore(`${claim.pair} restored after ${ended} (second look)`)) || wrote;
  if (!wrote) {
    await releasePair(claim.pair, claim.executionArn);
    logger.info('DNS was already blue 100 / green 0; claim released', { ended });
    return { action: 'RELEASED', why: `${ended}; DNS was already blue 100 / green 0`, weights: ALL_BLUE };
  }
  const reason = `${ended}: restored blue 100 / green 0 (was ${formatWeights(weights)})`;
  logger.warn('pair restored after a run that could not roll back by itself', { reason });
  const step = Math.max(0, claim.steps.indexOf(weights.green) + 1);
  emitMetrics(claim.pair, { RolledBack: 1, GreenWeight: 0, CanaryDurationSeconds: secondsSince(claim.claimedAt) }, { outcome: 'ROLLED_BACK', ...runOf(claim), reason: reason.slice(0, 1000) });
  await notify(logger, 'RolledBack', notificationDetail(claim, { step, of: claim.steps.length, greenPercent: 0, weights: ALL_BLUE }, reason));
  await releasePair(claim.pair, claim.executionArn);
  return { action: 'ROLLED_BACK', why: reason, weights: ALL_BLUE };
}
