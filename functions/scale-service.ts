import * as z from 'zod/mini';
import { describeService, setDesiredCount } from './lib/aws/ecs.js';
import { PlanSchema, parseTaskInput, sideAccess } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { steadyReasons } from './lib/judge.js';
import { handled, logFor, logger } from './lib/log.js';
import { sleep } from './lib/sleep.js';

const Input = z.object({ plan: PlanSchema, action: z.enum(['up', 'down']) });

/** How long green may take to be steady at its new count, and how often it is looked at. */
export const SCALE_UP_WAIT_SECONDS = 600;
export const SCALE_UP_POLL_SECONDS = 10;

export interface Scaling {
  scaled: boolean;
  service?: string;
  desiredCount?: number;
  why?: string;
}

/**
 * `up`, before any traffic moves: green, scaled down after an earlier promotion, goes back to
 * the live side's count, and the canary waits until it is steady on its new deployment.
 * `down`, after a promotion (and one DNS wait): the old side goes to `idleAfterPromotion`'s
 * count. A rollback never comes here. Nothing planned: nothing done.
 */
export const handler = handled('Scale service', async (input: unknown): Promise<Scaling> => {
  const { plan, action } = parseTaskInput(Input, input, 'Scale service');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  if (action === 'down') {
    if (!plan.idle) return { scaled: false, why: 'no idleAfterPromotion configured: the old side keeps running' };
    await setDesiredCount(plan.blue.cluster, plan.blue.service, plan.idle.desiredCount, sideAccess(plan.pair, plan.blue, plan.executionArn));
    logger.info('old side scaled down', { service: plan.blue.service, desiredCount: plan.idle.desiredCount });
    return { scaled: true, service: `${plan.blue.cluster}/${plan.blue.service}`, desiredCount: plan.idle.desiredCount };
  }
  if (!plan.scaleUp) return { scaled: false, why: 'green already runs the live side\'s count' };
  const { cluster, service } = plan.green;
  const green = sideAccess(plan.pair, plan.green, plan.executionArn);
  await setDesiredCount(cluster, service, plan.scaleUp.desiredCount, green);
  const deadline = Date.now() + SCALE_UP_WAIT_SECONDS * 1000;
  for (;;) {
    const reasons = steadyReasons(await describeService(cluster, service, green), plan.deploymentId);
    if (reasons.length === 0) break;
    if (Date.now() + SCALE_UP_POLL_SECONDS * 1000 > deadline)
      fail('GreenNotSteady', `green was scaled up to ${plan.scaleUp.desiredCount} tasks but is not steady after ${SCALE_UP_WAIT_SECONDS} s: ${reasons.join('; ')}`);
    await sleep(SCALE_UP_POLL_SECONDS * 1000);
  }
  logger.info('green scaled up and steady', { desiredCount: plan.scaleUp.desiredCount });
  return { scaled: true, service: `${cluster}/${service}`, desiredCount: plan.scaleUp.desiredCount };
});
