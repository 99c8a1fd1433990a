import * as z from 'zod/mini';
import { describeAlarms } from './lib/aws/cloudwatch.js';
import { describeService } from './lib/aws/ecs.js';
import { describeTargetHealth } from './lib/aws/elbv2.js';
import { JudgementSchema, PlanSchema, StatusSchema, parseTaskInput, type Judgement, type Plan, type Status } from './lib/canary-state.js';
import { judgeGreen } from './lib/judge.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { readClaim, recordProgress, type PairClaim } from './lib/pair-lock.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema, judgement: z.nullable(JudgementSchema) });

/** The commands an operator answers a gate with (in the AwaitingApproval notification). */
export const gateCommands = (pair: string) => ({ approve: `npx ecs-dns-canary approve ${pair}`, reject: `npx ecs-dns-canary reject ${pair}` });

/**
 * Bake and gate, from one check's reasons: the bake of a step starts at its first check and is
 * complete once a healthy check comes at or after its end. At a gate step (approval.atPercent)
 * a complete bake opens the gate: WAITING until approved (APPROVED), or until the gate's
 * timeout (TIMED_OUT with onTimeout rollback, which rolls back; APPROVED with onTimeout
 * promote). An operator's promote completes the bake and passes any gate; an operator's or an
 * event's stop makes green unhealthy (the listener normally stopped the run already).
 */
export function judgementAfter(plan: Plan, status: Status, previous: Judgement | null, reasons: string[], claim: PairClaim | undefined, now: number): Judgement {
  const sameStep = previous?.step === status.step ? previous : null;
  const bakeStartedAt = sameStep ? Date.parse(sameStep.bakeStartedAt) : now;
  const bakeEndsAt = bakeStartedAt + plan.bakeSeconds * 1000;
  const all = [...reasons];
  if (claim?.stopRequested) all.push(`${claim.stopRequested.error}: ${claim.stopRequested.cause}`);
  if (claim && claim.executionArn !== plan.executionArn) all.push(`pair ${plan.pair} is now held by ${claim.executionArn}`);
  const promoteRequested = Boolean(claim?.promoteRequested);
  let healthy = all.length === 0;
  let bakeComplete = healthy && (now >= bakeEndsAt || promoteRequested);
  let gate: Judgement['gate'] = 'NONE';
  let gateOpenedAt = sameStep?.gateOpenedAt;
  const atGate = plan.approval?.atPercent.includes(status.greenPercent) && status.step < status.of;
  if (healthy && bakeComplete && atGate && !promoteRequested) {
    gateOpenedAt ??= new Date(now).toISOString();
    const timedOut = now >= Date.parse(gateOpenedAt) + plan.approval!.timeoutSeconds * 1000;
    if (claim?.approved?.step === status.step) gate = 'APPROVED';
    else if (!timedOut) gate = 'WAITING';
    else if (plan.approval!.onTimeout === 'promote') gate = 'APPROVED';
    else {
      gate = 'TIMED_OUT';
      all.push(`ApprovalTimedOut: no approval within ${plan.approval!.timeoutSeconds} s at green ${status.greenPercent} % (onTimeout: rollback)`);
      healthy = false;
      bakeComplete = false;
    }
  }
  return {
    step: status.step,
    verdict: healthy ? 'HEALTHY' : 'UNHEALTHY',
    reasons: all,
    reason: all.join('; '),
    checks: (sameStep?.checks ?? 0) + 1,
    checkedAt: new Date(now).toISOString(),
    bakeStartedAt: new Date(bakeStartedAt).toISOString(),
    bakeEndsAt: new Date(bakeEndsAt).toISOString(),
    bakeComplete,
    gate,
    ...(gateOpenedAt ? { gateOpenedAt } : {}),
    ...(promoteRequested ? { promoteRequested } : {}),
  };
}

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
