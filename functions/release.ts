import * as z from 'zod/mini';
import { CaughtErrorSchema, errorText, PlanSchema, StatusSchema, parseTaskInput } from './lib/canary-state.js';
import { emitMetrics, runOf, runStartedAt, secondsSince } from './lib/canary-metrics.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { releasePair } from './lib/pair-lock.js';

const Input = z.object({
  plan: PlanSchema,
  status: StatusSchema,
  outcome: z.enum(['PROMOTED', 'REFUSED']),
  error: z.optional(CaughtErrorSchema),
});

export interface Release {
  outcome: 'PROMOTED' | 'REFUSED';
  released: boolean;
  /** REFUSED: the error the run ends with, and why. */
  error?: string;
  cause?: string;
}

/**
 * Ends a run that leaves DNS where it is: after a promotion (green 100, the roles swapped), or
 * when green was refused before any traffic moved (the smoke test, the pre-traffic hook, or
 * scaling up green failed). Releases the pair and says so: Promoted, or Refused with why.
 * Retried after it already released, it sends nothing twice.
 */
export const handler = handled('Release the pair', async (input: unknown): Promise<Release> => {
  const { plan, status, outcome, error } = parseTaskInput(Input, input, 'Release the pair');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const released = await releasePair(plan.pair, plan.executionArn);
  if (outcome === 'PROMOTED') {
    if (released) {
      emitMetrics(plan.pair, { Promoted: 1, CanaryDurationSeconds: secondsSince(runStartedAt(plan)) }, { outcome: 'PROMOTED', ...runOf(plan) });
      await notify(logger, 'Promoted', notificationDetail(plan, status));
    }
    logger.info('promotion complete; pair released', { released });
    return { outcome, released };
  }
  const reason = error ? errorText(error) : 'refused before any traffic moved';
  if (released) {
    emitMetrics(plan.pair, { Refused: 1 }, { outcome: 'REFUSED', ...runOf(plan), reason: reason.slice(0, 1000) });
    await notify(logger, 'Refused', notificationDetail(plan, status, reason));
  }
  logger.warn('green refused before any traffic moved; DNS untouched', { reason });
  return { outcome, released, error: error?.Error ?? 'CanaryRefused', cause: reason.slice(0, 2000) };
});
