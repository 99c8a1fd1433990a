import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools); POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName: 'ecs-dns-canary' });

/** Starts an invocation's log context: these keys go on every line until the next invocation. */
export function logFor(keys: Record<string, unknown>): void {
  logger.resetKeys();
  logger.appendKeys(keys);
}

/**
 * A task handler that logs its failure once, as one line naming the error, and rethrows it
 * for Step Functions to Retry, Catch or fail the run with.
 */
export function handled<I, O>(task: string, run: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input: I) => {
    try {
      return await run(input);
    } catch (e) {
      const error = e as Error;
      logger.error(`${task} failed with ${error.name}: ${error.message}`, { errorName: error.name });
      throw e;
    }
  };
}
