import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../functions/lib/config.js';
import { declareFunctions, STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import example from '../local/example.config.js';
import type { Handler } from '../local/lambda.js';
import { stackFromTemplate, type LocalStack } from '../local/stack.js';
import { handlersFromZips } from '../local/zips.js';
import { SOURCE_HANDLERS } from '../local/handlers.js';
import { greenSequence, weightsOf, world } from './helpers.js';

/**
 * End to end on what `sls package` wrote, not on the TypeScript sources: every function is the
 * bundle from its zip, run with the environment and the role policies the packaged template
 * gives it (the simulated account authorizes each call against them).
 */
const dir = inject('packagedProject');
let stack: LocalStack;
let handlers: Record<string, Handler>;

beforeAll(() => {
  const template = JSON.parse(readFileSync(join(dir, 'out', 'cloudformation-template-update-stack.json'), 'utf8'));
  stack = stackFromTemplate(template, Object.keys(declareFunctions(parseConfig(example), STATE_MACHINE_NAME)));
  handlers = handlersFromZips(join(dir, 'out'), stack, join(dir, `unzipped-${process.pid}`));
});

describe('the packaged zips, with the packaged environment and roles', () => {
  it('promote green step by step', async () => {
    const w = world({ stack, handlers });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual([10, 25, 50, 100]);
    expect(w.sim.events.map((e) => e.detailType)).toEqual(['Started', 'StepCompleted', 'StepCompleted', 'StepCompleted', 'StepCompleted', 'Promoted']);
    // every call was made by a function, under its own role, and none was denied
    const calls = w.sim.calls.filter((c) => c.caller);
    expect(calls.length).toBeGreaterThan(50);
    expect(calls.filter((c) => /AccessDenied/.test(c.error ?? ''))).toEqual([]);
    expect(new Set(calls.map((c) => c.caller))).toEqual(new Set(['startCanary', 'preflight', 'shiftTraffic', 'waitForChange', 'judgeGreen', 'awaitSignal', 'promote', 'release', 'sweep']));
  });

  it('roll back at once when an alarm fires: its event reaches the packaged signal function, which stops the run', async () => {
    const w = world({ stack, handlers });
    w.whenGreenReaches(25, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'), 90_000);
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/AlarmFired: alarm shop-web-5xx-rate went to ALARM/);
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    const calls = w.sim.calls.filter((c) => c.caller);
    expect(calls.filter((c) => /AccessDenied/.test(c.error ?? ''))).toEqual([]);
    expect(calls.filter((c) => c.caller === 'signal').map((c) => `${c.service}:${c.command}`)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sfn:SendTaskFailure']);
  });

  it.each([
    ['the packaged safety net', false],
    ['the packaged sweep, its status event lost', true],
  ])('a stopped run is restored by %s', async (_, loseStatusEvents) => {
    const w = world({ stack, handlers, start: { loseStatusEvents } });
    w.whenGreenReaches(50, () => w.canary.executions[0]!.abort(), 30_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('ABORTED');
    if (loseStatusEvents) {
      expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 50, green: 50 });
      await w.clock.run(new Promise((resolve) => setTimeout(resolve, 10 * 60_000)).then(() => w.canary.settled()));
    }
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    expect(w.sim.events.filter((e) => e.detailType === 'RolledBack')).toHaveLength(1);
    expect(w.claim()).toBeUndefined();
  });

  it('with the zone in another account, the bundles assume the DNS role through the runtime SDK (fromTemporaryCredentials) and roll back there', async () => {
    // The zips carry the suite's fixture configuration, so Preflight (which reads dnsRoleArn from it into the plan) runs from source;
    // every later function is its bundle, taking the role from the plan, as the role policies the declarations give them.
    const role = 'arn:aws:iam::222222222222:role/ecs-dns-canary-dns';
    const w = world({ pair: { dnsRoleArn: role, dnsExternalId: 'shop-web-canary' }, handlers: { ...handlers, preflight: SOURCE_HANDLERS.preflight! } });
    w.whenGreenReaches(50, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(greenSequence(w.sim, w.pair)).toEqual([10, 25, 50, 0]);
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    const route53 = w.sim.calls.filter((c) => c.service === 'route53' && c.caller);
    expect(route53.every((c) => c.account === '222222222222' && !c.error)).toBe(true);
    const assumedBy = new Set(w.sim.sts.assumed.filter((a) => a.outcome === 'Allowed' && a.externalId === 'shop-web-canary').map((a) => a.caller.split('/')[1]));
    for (const fn of ['shiftTraffic', 'waitForChange', 'rollBack']) expect(assumedBy).toContain(`ecs-dns-canary-prod-${fn}-eu-west-1-lambdaRole`);
  });
});
