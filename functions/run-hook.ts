import * as z from 'zod/mini';
import { invokeFunction } from './lib/aws/lambda.js';
import { PlanSchema, parseTaskInput } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';

const Input = z.object({ plan: PlanSchema, hook: z.enum(['preTraffic', 'postTraffic']) });

export interface HookResult {
  hook: 'preTraffic' | 'postTraffic';
  ran: boolean;
  functionArn?: string;
  answer?: unknown;
}

/**
 * Invokes the pair's preTraffic hook (before any traffic moves) or postTraffic hook (after the
 * promotion) with the plan: pair, deployment, green, blue. A hook that raises an error or does
 * not answer within hooks.timeoutSeconds is HookFailed: before traffic that refuses the run,
 * after the promotion it rolls back.
 */
export const handler = handled('Run hook', async (input: unknown): Promise<HookResult> => {
  const { plan, hook } = parseTaskInput(Input, input, 'Run hook');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId, hook });
  const functionArn = plan.hooks?.[hook];
  if (!functionArn) return { hook, ran: false };
  const event = { hook, pair: plan.pair, deploymentId: plan.deploymentId, executionArn: plan.executionArn, green: plan.green, blue: plan.blue, recordName: plan.recordName };
  const timeoutSeconds = plan.hooks!.timeoutSeconds;
  const result = await invokeFunction(functionArn, event, timeoutSeconds * 1000).catch((e: Error) =>
    fail('HookFailed', `${hook} hook ${functionArn} ${e.name === 'AbortError' || /no answer/.test(e.message) ? `did not answer within ${timeoutSeconds} s` : `could not be invoked: ${e.name}: ${e.message}`}`),
  );
  if (result.functionError) fail('HookFailed', `${hook} hook ${functionArn} failed: ${result.functionError}`.slice(0, 2000));
  logger.info('hook passed', { functionArn });
  return { hook, ran: true, functionArn, answer: result.payload };
});
