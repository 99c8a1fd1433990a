import * as z from 'zod/mini';
import { PlanSchema, StatusSchema, pairRef, parseTaskInput } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { markPromoting, readClaim, releasePair } from './lib/pair-lock.js';
import { notificationDetail, notify } from './lib/notify.js';
import { readPair } from './lib/record-pair.js';
import { ALL_GREEN, formatWeights, sameWeights, type Weights } from './lib/schedule.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema });

export interface Promotion {
  outcome: 'PROMOTED';
  weights: Weights;
  live: { cluster: string; service: string };
  /** The next deployment goes here; it keeps running (weight 0) until then. */
  idle: { cluster: string; service: string };
  notified: boolean;
}

/**
 * Green has passed every step, the last of which (always 100 %) gave it all the traffic:
 * DNS must still say so (drift guard), then the roles swap. Promote writes no record.
 */
export const handler = handled('Promote', async (input: unknown): Promise<Promotion> => {
  const { plan, status } = parseTaskInput(Input, input, 'Promote');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const ref = pairRef(plan);
  const records = await readPair(ref);
  let notified = false;
  if (await markPromoting(plan.pair, plan.executionArn)) {
    if (!sameWeights(records.weights, ALL_GREEN))
      fail('WeightsChangedOutside', `DNS has ${formatWeights(records.weights)} but the canary last wrote ${formatWeights(status.weights)}`);
    logger.info('green promoted', { weights: ALL_GREEN });
    notified = await notify(logger, 'Promoted', notificationDetail(plan, { ...status, greenPercent: 100, weights: ALL_GREEN }));
    await releasePair(plan.pair, plan.executionArn);
  } else {
    // A retried Promote whose earlier attempt finished (green 100, claim released) is done;
    // anything else means the pair is no longer this canary's to promote.
    const claim = await readClaim(plan.pair);
    if (claim || !sameWeights(records.weights, ALL_GREEN))
      fail('ClaimLost', `this canary no longer holds pair ${plan.pair} (stopped, expired or taken over); not promoting`);
    logger.info('promotion already completed by an earlier attempt');
  }
  return {
    outcome: 'PROMOTED',
    weights: ALL_GREEN,
    live: { cluster: plan.green.cluster, service: plan.green.service },
    idle: { cluster: plan.blue.cluster, service: plan.blue.service },
    notified,
  };
});
