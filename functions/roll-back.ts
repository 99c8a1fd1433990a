import * as z from 'zod/mini';
import { CaughtErrorSchema, errorText, JudgementSchema, PlanSchema, StatusSchema, pairRef, parseTaskInput, stepLabel } from './lib/canary-state.js';
import { handled, logFor, logger } from './lib/log.js';
import { claims } from './lib/pair-lock.js';
import { notificationDetail, notify } from './lib/notify.js';
import { restoreBlue } from './lib/record-pair.js';
import { ALL_BLUE, formatWeights, type Weights } from './lib/schedule.js';

const Input = z.object({
  plan: PlanSchema,
  status: StatusSchema,
  judgement: z.optional(z.nullable(JudgementSchema)),
  error: z.optional(CaughtErrorSchema),
});

export interface Rollback {
  outcome: 'ROLLED_BACK';
  reason: string;
  weights: Weights;
  changeId: string | null;
  notified: boolean;
}

/**
 * Puts all traffic back on blue (blue 100 / green 0), waits until Route53 has it INSYNC, and
 * says why. Idempotent: a retry, or a run that finds blue already at 100, writes nothing.
 */
export const handler = handled('Roll back', async (input: unknown): Promise<Rollback> => {
  const { plan, status, judgement, error } = parseTaskInput(Input, input, 'Roll back');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const why = error ? errorText(error) : judgement?.reasons.join('; ') || 'green was judged unhealthy';
  const reason = `${stepLabel(status)}: ${why}`.slice(0, 2000);

  // A canary that lost its claim (expired, taken over) leaves DNS to the one that holds it now.
  const claim = await claims().read(plan.pair);
  if (claim && claim.executionArn !== plan.executionArn) {
    logger.warn('pair is held by another canary: DNS left to it', { holder: claim.executionArn, reason });
    return { outcome: 'ROLLED_BACK', reason: `${reason} (DNS not touched: pair now held by ${claim.executionArn})`, weights: status.weights, changeId: null, notified: false };
  }

  const { from, changeId } = await restoreBlue(pairRef(plan), `${plan.pair} rolled back`);
  logger.warn('rolled back to blue', { reason, from: formatWeights(from), changeId });
  const notified = await notify(logger, 'RolledBack', notificationDetail(plan, { ...status, greenPercent: 0, weights: ALL_BLUE }, reason));
  await claims().release(plan.pair, plan.executionArn);
  return { outcome: 'ROLLED_BACK', reason, weights: ALL_BLUE, changeId, notified };
});
