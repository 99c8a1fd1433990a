import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools); POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName: 'ecs-dns-canary' });

/** Starts an invocation's log context: these keys go on every line until the next invocation. */
export function logFor(keys: Record<string, unknown>): void {
  logger.resetKeys();
  logger.appendKeys(keys);
}
