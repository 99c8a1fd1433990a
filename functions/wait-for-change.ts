import * as z from 'zod/mini';
import { waitForInsync } from './lib/aws/route53.js';
import { parseTaskInput } from './lib/canary-state.js';
import { handled, logger } from './lib/log.js';

const Input = z.object({ changeId: z.string().check(z.minLength(1)) });

/** Returns once Route53 reports the change INSYNC (GetChange every few seconds). */
export const handler = handled('Wait for Route53 INSYNC', async (input: unknown): Promise<{ changeId: string; insyncAt: string }> => {
  const { changeId } = parseTaskInput(Input, input, 'Wait for Route53 INSYNC');
  await waitForInsync(changeId);
  const insyncAt = new Date().toISOString();
  logger.info('change INSYNC', { changeId });
  return { changeId, insyncAt };
});
