import * as z from 'zod/mini';
import { describeAlarms } from './lib/aws/cloudwatch.js';
import { describeService } from './lib/aws/ecs.js';
import { describeTargetHealth } from './lib/aws/elbv2.js';
import { JudgementSchema, PlanSchema, StatusSchema, parseTaskInput, type Judgement } from './lib/canary-state.js';
import { judgeGreen } from './lib/judge.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema, judgement: z.nullable(JudgementSchema) });

/**
 * One check of green during a step's bake: alarms, ECS health, and the health of every target
 * registered in green's target groups. The bake of a step starts
 * at its first check; the step is complete once a healthy check comes at or after the end.
 */
export const handler = handled('Judge green', async (input: unknown): Promise<Judgement> => {
  const { plan, status, judgement: previous } = parseTaskInput(Input, input, 'Judge green');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId, step: status.step });
  const now = Date.now();
  const sameStep = previous?.step === status.step ? previous : null;
  const bakeStartedAt = sameStep ? Date.parse(sameStep.bakeStartedAt) : now;
  const bakeEndsAt = bakeStartedAt + plan.bakeSeconds * 1000;

  const [service, { alarms, missing }] = await Promise.all([
    describeService(plan.green.cluster, plan.green.service),
    describeAlarms(plan.alarms),
  ]);
  const targets = (await Promise.all(service.targetGroups.map(describeTargetHealth))).flat();
  const { reasons } = judgeGreen({ alarms, service, targets, expected: { deploymentId: plan.deploymentId, taskDefinition: plan.green.taskDefinition } });
  for (const name of missing) reasons.push(`alarm ${name} no longer exists`);
  if (now > Date.parse(plan.deadline)) reasons.push(`the canary ran past its execution timeout (deadline ${plan.deadline})`);

  const healthy = reasons.length === 0;
  const judgement: Judgement = {
    step: status.step,
    verdict: healthy ? 'HEALTHY' : 'UNHEALTHY',
    reasons,
    checks: (sameStep?.checks ?? 0) + 1,
    checkedAt: new Date(now).toISOString(),
    bakeStartedAt: new Date(bakeStartedAt).toISOString(),
    bakeEndsAt: new Date(bakeEndsAt).toISOString(),
    bakeComplete: healthy && now >= bakeEndsAt,
  };
  if (healthy) logger.info('green is healthy', { checks: judgement.checks, bakeComplete: judgement.bakeComplete });
  else logger.warn('green is unhealthy: rolling back', { reasons });
  if (judgement.bakeComplete) await notify(logger, 'StepCompleted', notificationDetail(plan, status));
  return judgement;
});
