import * as z from 'zod/mini';
import { describeAlarms } from './lib/aws/cloudwatch.js';
import { describeService } from './lib/aws/ecs.js';
import { describeTargetHealth } from './lib/aws/elbv2.js';
import { gateCommands } from './lib/canary.js';
import { JudgementSchema, PlanSchema, StatusSchema, parseTaskInput, type Judgement } from './lib/canary-state.js';
import { judgeGreen, judgementAfter } from './lib/judge.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { readClaim, recordProgress } from './lib/pair-lock.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema, judgement: z.nullable(JudgementSchema) });

/**
 * One check of green during a step's bake: alarms, ECS health, and the health of every target
 * registered in green's target groups; then the bake and the gate (judgementAfter). Where the
 * run is goes on the claim for `ecs-dns-canary status`.
 */
export const handler = handled('Judge green', async (input: unknown): Promise<Judgement> => {
  const { plan, status, judgement: previous } = parseTaskInput(Input, input, 'Judge green');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId, step: status.step });
  const now = Date.now();
  const [service, { alarms, missing }, claim] = await Promise.all([
    describeService(plan.green.cluster, plan.green.service),
    describeAlarms(plan.alarms),
    readClaim(plan.pair),
  ]);
  const targets = (await Promise.all(service.targetGroups.map(describeTargetHealth))).flat();
  const { reasons } = judgeGreen({ alarms, service, targets, expected: { deploymentId: plan.deploymentId, taskDefinition: plan.green.taskDefinition } });
  for (const name of missing) reasons.push(`alarm ${name} no longer exists`);
  if (now > Date.parse(plan.deadline)) reasons.push(`the canary ran past its execution timeout (deadline ${plan.deadline})`);
  const judgement = judgementAfter(plan, status, previous, reasons, claim, now);

  await recordProgress(plan.pair, plan.executionArn, {
    step: status.step,
    of: status.of,
    greenPercent: status.greenPercent,
    verdict: judgement.verdict,
    reasons: judgement.reasons,
    checkedAt: judgement.checkedAt,
    bakeEndsAt: judgement.bakeEndsAt,
    ...(judgement.gate !== 'NONE' ? { gate: judgement.gate, gateEndsAt: new Date(Date.parse(judgement.gateOpenedAt!) + plan.approval!.timeoutSeconds * 1000).toISOString() } : {}),
  });
  if (judgement.verdict === 'HEALTHY') logger.info('green is healthy', { checks: judgement.checks, bakeComplete: judgement.bakeComplete, gate: judgement.gate });
  else logger.warn('green is unhealthy: rolling back', { reasons: judgement.reasons });
  const detail = notificationDetail(plan, status);
  if (judgement.gate === 'WAITING' && previous?.gate !== 'WAITING')
    await notify(logger, 'AwaitingApproval', {
      ...detail,
      reason: `green baked ${plan.bakeSeconds} s at ${status.greenPercent} % and is healthy; approve within ${plan.approval!.timeoutSeconds} s or the canary will ${plan.approval!.onTimeout === 'rollback' ? 'roll back' : 'go on'}`,
      commands: gateCommands(plan.pair),
    });
  if (judgement.bakeComplete && judgement.gate !== 'WAITING') await notify(logger, 'StepCompleted', detail);
  return judgement;
});
