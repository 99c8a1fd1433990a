import { describe, expect, it } from 'vitest';
import { endpointOf, targetGroupArn, taskDefinitionArn } from '../local/local-canary.js';
import { greenSequence, weightsOf, world } from './helpers.js';

// Before traffic (scale-up, smoke test, pre-traffic hook) and after the promotion
// (post-traffic hook, the old side scaled down); target-group health while judging. Every
// function runs with its packaged environment and role, so each grant these need is checked.

const STEPS = [10, 25, 50, 100];
const ALL_BLUE = { blue: 100, green: 0 };
const ALL_GREEN = { blue: 0, green: 100 };
const PRE = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-web-pre-traffic';
const POST = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-web-post-traffic';
const smokeTest = { url: { 'shop-web-a': endpointOf('shop-web-a'), 'shop-web-b': endpointOf('shop-web-b') }, successes: 3, intervalSeconds: 5, timeoutSeconds: 60 };
const notifications = (w: ReturnType<typeof world>) => w.sim.events.map((e) => e.detailType);
const desired = (w: ReturnType<typeof world>, service: string) => w.sim.ecs.service('shop', service).desiredCount;

describe('the smoke test of green, before any traffic moves', () => {
  it('passes when green\'s own endpoint answers 200 three times in a row, then the canary runs', async () => {
    const w = world({ pair: { smokeTest } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const checks = w.sim.http.requests.filter((r) => r.url === endpointOf('shop-web-b'));
    expect(checks).toHaveLength(3);
    expect(checks[2]!.at - checks[0]!.at).toBe(10_000);
    // before the first shift
    expect(checks.at(-1)!.at).toBeLessThanOrEqual(w.sim.route53.applied[1]!.at);
  });

  it('fails with SmokeTestFailed naming the url and the status; nothing in DNS changes; the pair is released; Refused is sent', async () => {
    const w = world({ pair: { smokeTest } });
    w.sim.http.serve(endpointOf('shop-web-b'), { status: 503, body: 'upstream connect error' });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('SmokeTestFailed');
    expect(result!.cause).toMatch(/^SmokeTestFailed: GET http:\/\/shop-web-b\.lb\.internal\.example\.com\/health answered 503 \(expected 200\); 0 of 3 checks in a row passed in 60 s/);
    expect(w.route53Writes()).toBe(0);
    expect(w.claim()).toBeUndefined();
    expect(notifications(w)).toEqual(['Started', 'Refused']);
    expect(w.sim.events.at(-1)!.detail.reason).toMatch(/SmokeTestFailed/);
  });

  it('needs the successes in a row: a flapping endpoint that passes 2 in a row, fails, then passes 3, is accepted', async () => {
    const answers = [200, 200, 500, 200, 200, 200];
    const w = world({ pair: { smokeTest } });
    w.sim.http.serve(endpointOf('shop-web-b'), () => ({ status: answers.shift() ?? 200 }));
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(w.sim.http.requests.filter((r) => r.url === endpointOf('shop-web-b'))).toHaveLength(6);
  });

  it('checks the body when bodyIncludes is set', async () => {
    const w = world({ pair: { smokeTest: { ...smokeTest, bodyIncludes: '"status":"UP"' } } });
    w.sim.http.serve(endpointOf('shop-web-b'), { status: 200, body: '{"status":"DOWN"}' });
    const [result] = await w.runCanary();
    expect(result!.cause).toContain('answered 200 without ""status":"UP"" in its body');
  });

  it('sends the named Secrets Manager secret as the Authorization header (the role may read exactly that secret)', async () => {
    const w = world({ pair: { smokeTest: { ...smokeTest, secret: 'shop/smoke-token' } } });
    w.sim.secrets.put('shop/smoke-token', 'Bearer s3cr3t');
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(w.sim.http.requests.every((r) => r.headers.authorization === 'Bearer s3cr3t')).toBe(true);
    expect(w.stack.smokeTest!.policies).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/smoke-token-??????'] },
    ]);
  });
});

describe('pre- and post-traffic hooks', () => {
  it('are invoked with the plan: the pre-traffic hook before the first shift, the post-traffic hook after the promotion', async () => {
    const w = world({ pair: { hooks: { preTraffic: PRE, postTraffic: POST, timeoutSeconds: 60 } } });
    const seen: { name: string; at: number; greenWeight: number; event: Record<string, unknown> }[] = [];
    const hook = (name: string) => (event: unknown) => void seen.push({ name, at: Date.now(), greenWeight: weightsOf(w.sim, w.pair).green, event: event as Record<string, unknown> });
    w.sim.lambda.define(PRE, hook('pre'));
    w.sim.lambda.define(POST, hook('post'));
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(seen.map((s) => [s.name, s.greenWeight])).toEqual([
      ['pre', 0],
      ['post', 100],
    ]);
    expect(seen[0]!.event).toMatchObject({ hook: 'preTraffic', pair: 'shop-web', green: { service: 'shop-web-b' }, blue: { service: 'shop-web-a' }, deploymentId: expect.stringMatching(/^ecs-svc\//) });
    expect(seen[1]!.event).toMatchObject({ hook: 'postTraffic' });
    expect(w.stack.runHook!.policies).toEqual([{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [PRE, POST] }]);
  });

  it('a pre-traffic hook that fails refuses green with HookFailed: nothing in DNS changes', async () => {
    const w = world({ pair: { hooks: { preTraffic: PRE, timeoutSeconds: 60 } } });
    w.sim.lambda.define(PRE, () => {
      throw Object.assign(new Error('schema migration 42 not applied'), { name: 'MigrationMissing' });
    });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('HookFailed');
    expect(result!.cause).toBe(`HookFailed: preTraffic hook ${PRE} failed: MigrationMissing: schema migration 42 not applied`);
    expect(w.route53Writes()).toBe(0);
    expect(notifications(w)).toEqual(['Started', 'Refused']);
  });

  it('a pre-traffic hook that does not answer within timeoutSeconds is HookFailed too', async () => {
    const w = world({ pair: { hooks: { preTraffic: PRE, timeoutSeconds: 30 } } });
    w.sim.lambda.define(PRE, () => new Promise(() => undefined));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('HookFailed');
    expect(result!.cause).toMatch(/did not answer within 30 s/);
    expect(w.route53Writes()).toBe(0);
  });

  it('a post-traffic hook that fails rolls back: blue 100 / green 0, and blue was never scaled down', async () => {
    const w = world({ pair: { hooks: { postTraffic: POST, timeoutSeconds: 60 }, idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 } } });
    w.sim.lambda.define(POST, () => {
      throw new Error('synthetic checkout failed');
    });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/HookFailed: postTraffic hook .* failed: Error: synthetic checkout failed/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(desired(w, 'shop-web-a')).toBe(3);
    expect(w.sim.calls.filter((c) => c.command === 'UpdateService')).toHaveLength(0);
  });
});

describe('target-group health while judging', () => {
  it('an unhealthy registered target of green rolls back, naming the target', async () => {
    const w = world();
    w.whenGreenReaches(25, () => w.sim.elbv2.setUnhealthy(targetGroupArn('shop-web-b'), 1), 90_000);
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/step 2 of 4 \(green 25 %\): target 10\.0\.\d+\.10:8080 of targetgroup\/shop-web-b\/\w+ is unhealthy \(Target\.ResponseCodeMismatch: Health checks failed with these codes: \[502\]\)/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });
});

describe('the idle side', () => {
  const idle = { idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 } };

  it('after a promotion the old side is scaled down, no sooner than afterSeconds (and one DNS wait) after it', async () => {
    const w = world({ pair: idle });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(desired(w, 'shop-web-a')).toBe(0);
    expect(desired(w, 'shop-web-b')).toBe(3);
    const promoted = result!.events.find((e) => e.type === 'StateExited' && e.state?.name === 'Promote')!.timestamp;
    const scaled = w.sim.calls.find((c) => c.command === 'UpdateService')!.at;
    expect(scaled - promoted).toBeGreaterThanOrEqual(120_000);
    expect(notifications(w).at(-1)).toBe('Promoted');
  });

  it('the next deployment goes to the side scaled to 0: it is brought back to the live count, steady, then the canary runs', async () => {
    const w = world({ pair: idle });
    await w.runCanary();
    // the next version goes to shop-web-a, now idle at 0 tasks
    w.sim.ecs.deploy('shop', 'shop-web-a', taskDefinitionArn('shop-web-a', 3));
    await w.clock.run(new Promise((resolve) => setTimeout(resolve, w.sim.ecs.rolloutMs + 1)));
    const results = await w.clock.run(w.canary.settled());
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const second = results[1]!;
    expect(second.output.scaleUp).toEqual({ scaled: true, service: 'shop/shop-web-a', desiredCount: 3 });
    expect(weightsOf(w.sim, w.pair, 1)).toEqual(ALL_GREEN); // shop-web-a live again
    expect(desired(w, 'shop-web-a')).toBe(3);
    expect(desired(w, 'shop-web-b')).toBe(0);
    expect(greenSequence(w.sim, w.pair, 1).slice(-4)).toEqual(STEPS);
  });

  it('a rollback never scales anything down', async () => {
    const w = world({ pair: idle });
    w.whenGreenReaches(50, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'), 90_000);
    await w.runCanary();
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(w.sim.calls.filter((c) => c.command === 'UpdateService')).toHaveLength(0);
    expect([desired(w, 'shop-web-a'), desired(w, 'shop-web-b')]).toEqual([3, 3]);
  });

  it.each(['Scale up green', 'Wait before scaling down the old side'])('a run stopped in "%s" leaves DNS as it was and the services serving', async (state) => {
    let stopped = false;
    const w: ReturnType<typeof world> = world({
      pair: idle,
      start: {
        onEvent: (e) => {
          if (stopped || e.type !== 'StateEntered' || e.state?.name !== state) return;
          stopped = true;
          setTimeout(() => w.canary.executions[0]!.abort(), 5_000);
        },
      },
    });
    // for the scale-up: green was scaled down after an earlier promotion
    if (state === 'Scale up green') w.sim.ecs.updateService({ cluster: 'shop', service: 'shop-web-b', desiredCount: 0 });
    await w.clock.advance(60_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('ABORTED');
    expect(weightsOf(w.sim, w.pair)).toEqual(state === 'Scale up green' ? ALL_BLUE : ALL_GREEN);
    const live = state === 'Scale up green' ? 'shop-web-a' : 'shop-web-b';
    expect(w.sim.ecs.service('shop', live).runningCount).toBe(3);
    expect(desired(w, 'shop-web-a')).toBe(3); // a stopped run scales nothing down
    expect(w.claim()).toBeUndefined();
  });
});
