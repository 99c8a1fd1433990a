import * as z from 'zod/mini';
import { waitForInsync } from './lib/aws/route53.js';
import { parseTaskInput } from './lib/canary-state.js';
import { handled, logger } from './lib/log.js';

const Input = z.object({ changeId: z.string().check(z.minLength(1)) });

/** Long enough for Route53's usual minute, short of the task's 300 s timeout. */
export const MAX_WAIT_SECONDS = 240;

/** Returns once Route53 reports the change INSYNC (SDK waiter on GetChange). */
export const handler = handled('Wait for Route53 INSYNC', async (input: unknown): Promise<{ changeId: string; insyncAt: string }> => {
  const { changeId } = parseTaskInput(Input, input, 'Wait for Route53 INSYNC');
  await waitForInsync(changeId, MAX_WAIT_SECONDS);
  const insyncAt = new Date().toISOString();
  logger.info('change INSYNC', { changeId });
  return { changeId, insyncAt };
});
