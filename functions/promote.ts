import * as z from 'zod/mini';
import { waitForInsync } from './lib/aws/route53.js';
import { PlanSchema, StatusSchema, pairRef, parseTaskInput } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { markPromoting, releasePair } from './lib/pair-lock.js';
import { notificationDetail, notify } from './lib/notify.js';
import { readPair, writePair } from './lib/record-pair.js';
import { ALL_GREEN, formatWeights, sameWeights, type Weights } from './lib/schedule.js';
import { MAX_WAIT_SECONDS } from './wait-for-change.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema });

export interface Promotion {
  outcome: 'PROMOTED';
  weights: Weights;
  live: { cluster: string; service: string };
  /** The next deployment goes here; it keeps running (weight 0) until then. */
  idle: { cluster: string; service: string };
  notified: boolean;
}

/** Green has passed every step: it keeps all the traffic, and the roles swap. */
export const handler = handled('Promote', async (input: unknown): Promise<Promotion> => {
  const { plan, status } = parseTaskInput(Input, input, 'Promote');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  if (!(await markPromoting(plan.pair, plan.executionArn)))
    fail('ClaimLost', `this canary no longer holds pair ${plan.pair} (its claim expired or was taken over); not promoting`);
  const ref = pairRef(plan);
  const records = await readPair(ref);
  if (!sameWeights(records.weights, ALL_GREEN)) {
    if (!sameWeights(records.weights, status.weights))
      fail('WeightsChangedOutside', `DNS has ${formatWeights(records.weights)} but the canary last wrote ${formatWeights(status.weights)}`);
    await waitForInsync(await writePair(ref, records, ALL_GREEN, `${plan.pair} promoted`), MAX_WAIT_SECONDS);
  }
  const final = { ...status, greenPercent: 100, weights: ALL_GREEN };
  logger.info('green promoted', { weights: ALL_GREEN });
  const notified = await notify(logger, 'Promoted', notificationDetail(plan, final));
  await releasePair(plan.pair, plan.executionArn);
  return {
    outcome: 'PROMOTED',
    weights: ALL_GREEN,
    live: { cluster: plan.green.cluster, service: plan.green.service },
    idle: { cluster: plan.blue.cluster, service: plan.blue.service },
    notified,
  };
});
