import * as z from 'zod/mini';
import { Canary } from './lib/canary.js';
import { PlanSchema, StatusSchema, parseTaskInput, type Status } from './lib/canary-state.js';
import { emitMetrics } from './lib/canary-metrics.js';
import { handled, logFor, logger } from './lib/log.js';
import { canaryClaims, lockTable, readClaim, recordProgress } from './lib/pair-lock.js';
import { route53Router } from './lib/traffic/route53/route53-router.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema });

/**
 * Moves to the next step of the schedule (to the last one once an operator asked to promote):
 * checks that DNS still holds what the canary last wrote (drift guard), then UPSERTs both
 * records in one change batch.
 */
export const handler = handled('Shift traffic', async (input: unknown): Promise<Status> => {
  const { plan, status } = parseTaskInput(Input, input, 'Shift traffic');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const claim = await readClaim(plan.pair);
  const next = await new Canary({ claims: canaryClaims(lockTable()), router: route53Router }).shift(plan, status, claim);
  await recordProgress(plan.pair, plan.executionArn, { step: next.step, of: next.of, greenPercent: next.greenPercent, ...(next.shiftedAt ? { shiftedAt: next.shiftedAt } : {}) });
  logger.info('traffic shifted', { step: next.step, of: next.of, weights: next.weights, changeId: next.changeId });
  emitMetrics(plan.pair, { GreenWeight: next.greenPercent }, { deploymentId: plan.deploymentId, step: `${next.step}/${next.of}` });
  return next;
});
