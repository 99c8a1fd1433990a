import * as z from 'zod/mini';
import { PlanSchema, StatusSchema, pairRef, parseTaskInput, type Status } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { claims } from './lib/pair-lock.js';
import { readPair, writePair } from './lib/record-pair.js';
import { formatWeights, sameWeights, weightsFor } from './lib/schedule.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema });

/**
 * Moves to the next step of the schedule: checks that DNS still holds what the canary last
 * wrote (drift guard), then UPSERTs both records in one change batch.
 */
export const handler = handled('Shift traffic', async (input: unknown): Promise<Status> => {
  const { plan, status } = parseTaskInput(Input, input, 'Shift traffic');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const step = status.step + 1;
  const greenPercent = plan.steps[step - 1];
  if (greenPercent === undefined) return fail('MalformedEvent', `Shift traffic called after the last step (${status.step} of ${status.of})`);
  const target = weightsFor(greenPercent);

  if (!(await claims().holds(plan.pair, plan.executionArn)))
    fail('ClaimLost', `this canary no longer holds pair ${plan.pair} (stopped, expired or taken over); not shifting`);
  const ref = pairRef(plan);
  const records = await readPair(ref);
  // A retry of this very step may find its own earlier write: that is not drift.
  if (!sameWeights(records.weights, status.weights) && !sameWeights(records.weights, target))
    fail(
      'WeightsChangedOutside',
      `DNS has ${formatWeights(records.weights)} but the canary last wrote ${formatWeights(status.weights)}: someone else changed the records`,
    );
  const changeId = await writePair(ref, records, target, `${plan.pair} step ${step}/${plan.steps.length}`);
  logger.info('traffic shifted', { step, of: plan.steps.length, weights: target, changeId });
  return { step, of: plan.steps.length, greenPercent, weights: target, changeId };
});
