import * as z from 'zod/mini';
import { MAX_INSYNC_WAIT_SECONDS, waitForInsync } from './lib/aws/route53.js';
import { pairRef, parseTaskInput, PlanSchema } from './lib/canary-state.js';
import { handled, logger } from './lib/log.js';

/** The change, and the plan it belongs to: a change id is the zone's account's, so GetChange goes through the pair's DNS role when it has one. */
const Input = z.object({
  changeId: z.string().check(z.minLength(1)),
  plan: PlanSchema,
});

/** Returns once Route53 reports the change INSYNC (GetChange every few seconds). */
export const handler = handled('Wait for Route53 INSYNC', async (input: unknown): Promise<{ changeId: string; insyncAt: string }> => {
  const { changeId, plan } = parseTaskInput(Input, input, 'Wait for Route53 INSYNC');
  await waitForInsync(changeId, MAX_INSYNC_WAIT_SECONDS, pairRef(plan).access);
  const insyncAt = new Date().toISOString();
  logger.info('change INSYNC', { changeId });
  return { changeId, insyncAt };
});
