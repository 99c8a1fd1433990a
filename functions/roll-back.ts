import * as z from 'zod/mini';
import { Canary } from './lib/canary.js';
import { CaughtErrorSchema, errorText, JudgementSchema, PlanSchema, StatusSchema, parseTaskInput } from './lib/canary-state.js';
import { emitMetrics, runOf, runStartedAt, secondsSince } from './lib/canary-metrics.js';
import { handled, logFor, logger } from './lib/log.js';
import { notify, type NotificationDetail, type NotificationType } from './lib/notify.js';
import { canaryClaims, lockTable, readClaim, releasePair } from './lib/pair-lock.js';
import { route53Router } from './lib/traffic/route53/route53-router.js';
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
 * says why: the error that ended the canary (GreenUnhealthy with the judge's reasons,
 * AlarmFired from the listener, AbortedByOperator...). Idempotent: a retry, or a run that
 * finds blue already at 100, writes nothing.
 */
export const handler = handled('Roll back', async (input: unknown): Promise<Rollback> => {
  const { plan, status, judgement, error } = parseTaskInput(Input, input, 'Roll back');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  // The judge's reasons read on their own; every other error says its name.
  const why = error ? (error.Error === 'GreenUnhealthy' && error.Cause ? error.Cause : errorText(error)) : judgement?.reasons.join('; ') || 'green was judged unhealthy';
  const notifier = { notify: (type: NotificationType, detail: NotificationDetail) => notify(logger, type, detail) };
  // When green got the weight it failed at (DetectionSeconds); a failed read never holds up the rollback.
  const decidedAt = Date.now();
  const shiftedAt = await readClaim(plan.pair).then((c) => (c?.executionArn === plan.executionArn ? c.progress?.shiftedAt : undefined), () => undefined);
  const { reason, from, changeId, notified } = await new Canary({ claims: canaryClaims(lockTable()), router: route53Router, notifier }).rollBack(plan, why, judgement?.analysis);
  if (!from) {
    logger.warn('pair is held by another canary: DNS left to it', { reason });
    return { outcome: 'ROLLED_BACK', reason, weights: status.weights, changeId: null, notified: false };
  }
  logger.warn('rolled back to blue', { reason, from: formatWeights(from), changeId });
  emitMetrics(
    plan.pair,
    { RolledBack: 1, GreenWeight: 0, CanaryDurationSeconds: secondsSince(runStartedAt(plan)), ...(from.green > 0 ? { DetectionSeconds: secondsSince(shiftedAt, decidedAt) } : {}) },
    { outcome: 'ROLLED_BACK', ...runOf(plan), reason: reason.slice(0, 1000) },
  );
  await releasePair(plan.pair, plan.executionArn);
  return { outcome: 'ROLLED_BACK', reason, weights: ALL_BLUE, changeId, notified };
});
