import * as z from 'zod/mini';
import { secretValue } from './lib/aws/secrets.js';
import { PlanSchema, parseTaskInput } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { sleep } from './lib/sleep.js';

const Input = z.object({ plan: PlanSchema });

/** One request of the smoke test may take this long. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface SmokeTestResult {
  passed: boolean;
  url?: string;
  checks?: number;
  why?: string;
}

/** One GET of green's endpoint: the status, or what went wrong, and whether it passes. */
async function check(url: string, headers: Record<string, string>, expect: { expectStatus: number[]; bodyIncludes?: string }): Promise<{ ok: boolean; what: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(url, { headers, signal: abort.signal, redirect: 'manual' });
    const body = expect.bodyIncludes ? await response.text() : '';
    if (!expect.expectStatus.includes(response.status)) return { ok: false, what: `answered ${response.status} (expected ${expect.expectStatus.join(' or ')})` };
    if (expect.bodyIncludes && !body.includes(expect.bodyIncludes)) return { ok: false, what: `answered ${response.status} without "${expect.bodyIncludes}" in its body` };
    return { ok: true, what: `answered ${response.status}` };
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } };
    return { ok: false, what: abort.signal.aborted ? `did not answer within ${REQUEST_TIMEOUT_MS / 1000} s` : `failed: ${error.cause?.code ?? error.cause?.message ?? error.message}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before any weight moves: green's own endpoint must pass `successes` checks in a row,
 * `intervalSeconds` apart, within `timeoutSeconds`. Otherwise SmokeTestFailed, naming the
 * url and what it answered; DNS is never touched here.
 */
export const handler = handled('Smoke test green', async (input: unknown): Promise<SmokeTestResult> => {
  const { plan } = parseTaskInput(Input, input, 'Smoke test green');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId });
  const test = plan.smokeTest;
  if (!test) return { passed: true, why: 'no smokeTest configured' };
  const headers: Record<string, string> = { 'user-agent': 'ecs-dns-canary smoke test' };
  if (test.secret) headers.authorization = await secretValue(test.secret);
  const deadline = Date.now() + test.timeoutSeconds * 1000;
  let inARow = 0;
  let checks = 0;
  for (;;) {
    const { ok, what } = await check(test.url, headers, test);
    checks++;
    inARow = ok ? inARow + 1 : 0;
    logger.info('smoke test check', { url: test.url, ok, what, inARow });
    if (inARow >= test.successes) return { passed: true, url: test.url, checks };
    if (Date.now() + test.intervalSeconds * 1000 > deadline)
      return fail('SmokeTestFailed', `GET ${test.url} ${what}; ${inARow} of ${test.successes} checks in a row passed in ${test.timeoutSeconds} s (${checks} checks)`);
    await sleep(test.intervalSeconds * 1000);
  }
});
