import * as z from 'zod/mini';
import { sendTaskFailure, sendTaskSuccess } from './lib/aws/stepfunctions.js';
import { Canary } from './lib/canary.js';
import { parseTaskInput } from './lib/canary-state.js';
import { handled, logFor, logger } from './lib/log.js';
import { canaryClaims, lockTable } from './lib/pair-lock.js';

const Input = z.object({
  token: z.string().check(z.minLength(1)),
  pair: z.string(),
  executionArn: z.string(),
  step: z.int(),
  slot: z.enum(['listen', 'gate']),
  /** How long the state waits (its TimeoutSecondsPath): for the logs. */
  timeoutSeconds: z.optional(z.int()),
});

/**
 * Invoked by the two `.waitForTaskToken` states: `Listen for alarms` (the whole canary) and
 * `Wait for approval` (a gate). Keeps the task token with the pair's claim, where the signal
 * function and the operator's CLI find it; answers it at once when what it waits for has
 * already happened. Step Functions waits for the answer, not for this function's result.
 */
export const handler = handled('Await signal', async (input: unknown): Promise<{ slot: string; outcome: string }> => {
  const { token, pair, executionArn, step, slot } = parseTaskInput(Input, input, 'Await signal');
  logFor({ pair, executionArn, slot });
  const outcome = await new Canary({ claims: canaryClaims(lockTable()), signals: { succeed: sendTaskSuccess, fail: sendTaskFailure } }).park(pair, executionArn, slot, step, token);
  logger.info(outcome === 'PARKED' ? 'task token parked with the claim' : 'answered at once', { step });
  return { slot, outcome };
});
