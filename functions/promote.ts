import * as z from 'zod/mini';
import { sendTaskSuccess } from './lib/aws/stepfunctions.js';
import { Canary } from './lib/canary.js';
import { PlanSchema, StatusSchema, parseTaskInput } from './lib/canary-state.js';
import { canaryClaims, lockTable } from './lib/pair-lock.js';
import { handled, logFor, logger } from './lib/log.js';
import { ALL_GREEN, type Weights } from './lib/schedule.js';
import { route53Reader } from './lib/traffic/route53/route53-router.js';

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
 * then leaves green in place; an operator's abort is refused from here on), the listener stops
 * and the roles swap. Promote writes no record; the post-traffic hook, the old side's
 * scale-down and the release of the pair come after it. Idempotent.
 */
export const handler = handled('Promote', async (input: unknown): Promise<Promotion> => {
  const { plan, status } = parseTaskInput(Input, input, 'Promote');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  await new Canary({ claims: canaryClaims(lockTable()), reader: route53Reader, signals: { succeed: sendTaskSuccess } }).promote(plan, status);
  logger.info('green promoted', { weights: ALL_GREEN });
  return {
    outcome: 'PROMOTED',
    weights: ALL_GREEN,
    live: { cluster: plan.green.cluster, service: plan.green.service },
    idle: { cluster: plan.blue.cluster, service: plan.blue.service },
  };
});
