import * as z from 'zod/mini';
import { PlanSchema, StatusSchema, pairRef, parseTaskInput } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { claims } from './lib/pair-lock.js';
import { readPair } from './lib/record-pair.js';
import { ALL_GREEN, formatWeights, sameWeights, type Weights } from './lib/schedule.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema });

export interface Promotion {
  outcome: 'PROMOTED';
  weights: Weights;
  live: { cluster: string; service: string };
  /** The next deployment goes here; it keeps running (weight 0) unless idleAfterPromotion scales it. */
  idle: { cluster: string; service: string };
}

/**
 * Green has passed every step, the last of which (always 100 %) gave it all the traffic:
 * DNS must still say so (drift guard), then the run marks its claim PROMOTING (the safety net
 * then leaves green in place) and the roles swap. Promote writes no record; the post-traffic
 * hook, the old side's scale-down and the release of the pair come after it. Idempotent.
 */
export const handler = handled('Promote', async (input: unknown): Promise<Promotion> => {
  const { plan, status } = parseTaskInput(Input, input, 'Promote');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const records = await readPair(pairRef(plan));
  if (!sameWeights(records.weights, ALL_GREEN))
    fail('WeightsChangedOutside', `DNS has ${formatWeights(records.weights)} but the canary last wrote ${formatWeights(status.weights)}`);
  if (!(await claims().markPromoting(plan.pair, plan.executionArn)))
    fail('ClaimLost', `this canary no longer holds pair ${plan.pair} (stopped, expired or taken over); not promoting`);
  logger.info('green promoted', { weights: ALL_GREEN });
  return {
    outcome: 'PROMOTED',
    weights: ALL_GREEN,
    live: { cluster: plan.green.cluster, service: plan.green.service },
    idle: { cluster: plan.blue.cluster, service: plan.blue.service },
  };
});
