import { describe, expect, it } from 'vitest';
import { loadDefinition, loseFirstResponse, taskFunctions, type AslDefinition, type TaskHandler } from '../local/step-functions.js';
import { invoke } from '../local/lambda.js';
import { LOCAL_RESOURCES } from '../local/stack.js';
import { greenSequence, weightsOf, world } from './helpers.js';

const STEPS = [10, 25, 50, 100];
const ALL_BLUE = { blue: 100, green: 0 };
const ALL_GREEN = { blue: 0, green: 100 };


describe('happy path', () => {
  it('walks the schedule, promotes green, and says so in order', async () => {
    const w = world();
    const results = await w.runCanary();
    expect(results).toHaveLength(1);
    const [result] = results;
    expect(result!.status).toBe('SUCCEEDED');
    expect(result!.executionArn).toMatch(/:execution:ecs-dns-canary-prod:shop-web--ecs-svc-\d+$/);
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_GREEN);
    expect(w.sim.events.map((e) => e.detailType)).toEqual(['Started', 'StepCompleted', 'StepCompleted', 'StepCompleted', 'StepCompleted', 'Promoted']);
    expect(w.sim.events.every((e) => e.source === 'ecs-dns-canary')).toBe(true);
    const promoted = w.sim.events.at(-1)!.detail;
    expect(promoted).toMatchObject({
      pair: 'shop-web',
      step: 4,
      of: 4,
      greenPercent: 100,
      weights: ALL_GREEN,
      blue: { cluster: 'shop', service: 'shop-web-a' },
      green: { cluster: 'shop', service: 'shop-web-b' },
      executionArn: result!.executionArn,
    });
    expect(result!.output.outcome).toMatchObject({ outcome: 'PROMOTED', live: { service: 'shop-web-b' }, idle: { service: 'shop-web-a' } });
    expect(result!.output.status).toMatchObject({ step: 4, of: 4, greenPercent: 100, weights: ALL_GREEN });
  });

  it('waits for INSYNC and then the TTL before judging each step, and bakes for bakeSeconds', async () => {
    // exact times: INSYNC after the simulator's fixed 20 s (no AWS latencies)
    const w = world({ latency: false, seed: { alias: false, ttl: 90 } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const shifts = w.sim.route53.applied.slice(1).map((c) => c.at);
    const judged = result!.events.filter((e) => e.type === 'StateExited' && e.state?.name === 'Judge green').map((e) => (e.state!.output as any).judgement);
    for (const [k, shiftAt] of shifts.entries()) {
      const first = judged.find((j) => j.step === k + 1 && j.checks === 1);
      // INSYNC takes 20 s in the simulator; the TTL of 90 s comes on top of it.
      expect(Date.parse(first.checkedAt) - shiftAt).toBeGreaterThanOrEqual(20_000 + 90_000);
      const last = judged.filter((j) => j.step === k + 1).at(-1);
      expect(last.bakeComplete).toBe(true);
      expect(Date.parse(last.checkedAt) - Date.parse(first.checkedAt)).toBeGreaterThanOrEqual(120_000);
    }
  });

  it('works from either side: after a promotion the next deployment goes the other way', async () => {
    const w = world({ seed: { live: 1 } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(w.green.service).toBe('shop-web-a');
    expect(weightsOf(w.sim, w.pair, 1)).toEqual(ALL_GREEN);
  });

  it.each<[object, number[]]>([
    [{ canary: 20 }, [20, 100]],
    [{ linear: 30 }, [30, 60, 90, 100]],
  ])('supports the shorthand %j', async (steps, sequence) => {
    const w = world({ pair: { steps: steps as never } });
    await w.runCanary();
    expect(greenSequence(w.sim, w.pair)).toEqual(sequence);
  });

  it('a duplicate delivery of the deployment event starts one canary', async () => {
    const w = world();
    w.sim.ecs.onDeploymentEvent((e) => {
      if (e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED') void w.canary.deliver(e);
    });
    const results = await w.runCanary();
    expect(results).toHaveLength(1);
    expect(w.sim.executions.size).toBe(1);
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
  });
});

describe('rollback when green fails', () => {
  it.each(STEPS.map((percent) => ({ percent })))('an alarm firing during the step at $percent % rolls back to blue 100 / green 0', async ({ percent }) => {
    const w = world();
    w.whenGreenReaches(percent, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'));
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('CanaryRolledBack');
    // The alarm's state change reaches the run as an event (the signal function), before any poll.
    expect(result!.cause).toMatch(/AlarmFired: alarm shop-web-5xx-rate went to ALARM at \S+: Threshold Crossed/);
    expect(result!.cause).toContain(`step ${STEPS.indexOf(percent) + 1} of 4 (green ${percent} %)`);
    expect(greenSequence(w.sim, w.pair)).toEqual([...STEPS.slice(0, STEPS.indexOf(percent) + 1), 0]);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    const rolledBack = w.sim.events.at(-1)!;
    expect(rolledBack.detailType).toBe('RolledBack');
    expect(rolledBack.detail).toMatchObject({ weights: ALL_BLUE, reason: result!.cause });
  });

  it('a composite alarm (through one of its children) rolls back', async () => {
    const w = world();
    w.whenGreenReaches(25, () => w.sim.cloudwatch.setState('shop-web-health-latency-p99', 'ALARM', 'p99 > 800 ms'));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('AlarmFired: alarm shop-web-health went to ALARM');
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it.each<[string, (w: ReturnType<typeof world>) => void, RegExp]>([
    ['green loses tasks', (w) => w.sim.ecs.setRunningCount('shop', 'shop-web-b', 1), /runs 1 of 3 desired tasks/],
    ['green\'s deployment fails', (w) => w.sim.ecs.failDeployment('shop', 'shop-web-b', 'tasks failed to start'), /GreenDeploymentFailed: shop\/shop-web-b: SERVICE_DEPLOYMENT_FAILED \(ecs-svc\/\d+\): tasks failed to start/],
    [
      'green gets another task definition (no new canary: the trigger is off)',
      (w) => {
        w.canary.trigger = false;
        w.sim.ecs.deploy('shop', 'shop-web-b', 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-b:3');
      },
      /now on deployment/,
    ],
  ])('%s mid-canary: rollback', async (_, breakGreen, reason) => {
    const w = world();
    w.whenGreenReaches(25, () => breakGreen(w));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(reason);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('a canary that outlives its executionTimeoutSeconds rolls back', async () => {
    const w = world({ pair: { executionTimeoutSeconds: 780, bakeSeconds: 120, minWaitSeconds: 60 } });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('ran past its execution timeout');
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });
});

const definition = loadDefinition();
/** Task states whose failure ends at `target`: their own Catch, or the Catch of the Parallel they run in. */
const catchesTo = (target: string) =>
  Object.entries(definition.States).flatMap(([name, st]) => {
    if (!((st.Catch as { Next: string }[] | undefined) ?? []).some((c) => c.Next === target)) return [];
    if (st.Type === 'Parallel') return Object.keys(taskFunctions({ StartAt: '', States: Object.assign({}, ...(st.Branches as AslDefinition[]).map((b) => b.States)) }));
    return st.Type === 'Task' ? [name] : [];
  });

describe('every Task state has its way out', () => {
  it('before any traffic moves a failure refuses green; after the first shift it rolls back; the rest end the run', () => {
    expect(catchesTo('Refuse')).toEqual(['Scale up green', 'Smoke test green', 'Pre-traffic hook']);
    expect(catchesTo('Roll back')).toEqual(['Shift traffic', 'Wait for Route53 INSYNC', 'Judge green', 'Wait for approval', 'Promote', 'Listen for alarms', 'Post-traffic hook']);
    const rest = Object.keys(taskFunctions(definition)).filter((s) => !catchesTo('Refuse').includes(s) && !catchesTo('Roll back').includes(s));
    // Preflight fails closed by itself; the old side's scale-down goes on to Finish; the ends end.
    expect(rest).toEqual(['Preflight', 'Scale down the old side', 'Finish', 'Refuse', 'Roll back']);
  });
});

describe('refusal on any task error before the first shift', () => {
  it.each(catchesTo('Refuse'))('%s throws: the run ends with that error, DNS untouched, the pair released, Refused sent', async (state) => {
    const wrap = (name: string, handler: TaskHandler): TaskHandler => (name !== state ? handler : async () => Promise.reject(Object.assign(new Error('injected failure'), { name: 'InjectedError' })));
    const w = world({ start: { wrap } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('InjectedError');
    expect(result!.cause).toBe('InjectedError: injected failure');
    expect(w.route53Writes()).toBe(0);
    expect(w.claim()).toBeUndefined();
    expect(w.sim.events.map((e) => e.detailType)).toEqual(['Started', 'Refused']);
  });
});

describe('rollback on any task error after the first shift', () => {
  // The listener's first call runs beside the first shift; the gate runs only at a gate (test/operator.test.ts).
  const tasks = catchesTo('Roll back').filter((s) => s !== 'Listen for alarms' && s !== 'Wait for approval');

  it.each(tasks)('%s throws (after the first shift): blue 100 / green 0 and CanaryRolledBack', async (state) => {
    // The second call of Shift traffic is the first one after a shift; every other state's first call is.
    const failOnCall = state === 'Shift traffic' ? 2 : 1;
    let calls = 0;
    const wrap = (name: string, handler: TaskHandler): TaskHandler =>
      name !== state
        ? handler
        : async (input) => {
            if (++calls === failOnCall) throw Object.assign(new Error('injected failure'), { name: 'InjectedError' });
            return handler(input);
          };
    const w = world({ start: { wrap } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('InjectedError: injected failure');
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(w.sim.events.at(-1)!.detailType).toBe('RolledBack');
  });

  it('a Promote retried after a Lambda service error still promotes (its claim is idempotent)', async () => {
    const w = world({ start: { wrap: loseFirstResponse('Promote') } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(result!.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Promote')).toHaveLength(1);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_GREEN);
  });

  it('a failing Roll back is retried until blue has all the traffic', async () => {
    let failures = 3;
    const wrap = (name: string, handler: TaskHandler): TaskHandler =>
      name !== 'Roll back' ? handler : async (input) => (failures-- > 0 ? Promise.reject(new Error('flaky')) : handler(input));
    const w = world({ start: { wrap } });
    w.whenGreenReaches(50, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Roll back')).toHaveLength(3);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('a Roll back handler that hangs past its task timeout is retried', async () => {
    let hangs = 1;
    const wrap = (name: string, handler: TaskHandler): TaskHandler =>
      name !== 'Roll back' ? handler : async (input) => (hangs-- > 0 ? new Promise(() => undefined) : handler(input));
    const w = world({ start: { wrap } });
    w.whenGreenReaches(10, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });
});

describe('drift guard', () => {
  it('weights changed by someone else between steps: WeightsChangedOutside, then rollback', async () => {
    const w = world();
    w.whenGreenReaches(25, () => w.setWeights(60, 40),
    );
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('WeightsChangedOutside: DNS has blue 60 / green 40 but the canary last wrote blue 75 / green 25');
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });
});

describe('throttling is normal', () => {
  it('Throttling and PriorRequestNotComplete are retried by the SDK: same weights, no rollback', async () => {
    const w = world();
    w.sim.inject({ service: 'route53', error: 'Throttling', message: 'Rate exceeded', probability: 0.3 });
    w.sim.inject({ service: 'route53', command: 'ChangeResourceRecordSets', error: 'PriorRequestNotComplete', probability: 0.3 });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
    expect(w.sim.calls.filter((c) => c.error === 'Throttling' || c.error === 'PriorRequestNotComplete').length).toBeGreaterThan(5);
  });

  it('ECS or CloudWatch throttling while judging green is retried, not judged as green failing', async () => {
    const w = world();
    // the SDK makes 3 attempts per call: 6 throttles fail two whole attempts of "Judge green"
    w.whenGreenReaches(25, () => w.sim.inject({ service: 'ecs', command: 'DescribeServices', error: 'ThrottlingException', times: 6 }), 60_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(result!.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Judge green').length).toBe(2);
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
  });
});

describe('records keep every other field', () => {
  it.each([
    ['alias records', { alias: true }],
    ['plain records with a TTL and a health check', { alias: false, ttl: 60 }],
  ])('%s', async (_, seed) => {
    const w = world({ seed });
    if (!seed.alias) {
      // give the plain records a health check and a second value, which must survive the canary
      const sets = w.sim.route53.recordSets(w.pair.hostedZoneId).filter((r) => r.SetIdentifier);
      w.sim.route53.changeResourceRecordSets({
        HostedZoneId: w.pair.hostedZoneId,
        ChangeBatch: {
          Changes: sets.map((r, i) => ({
            Action: 'UPSERT' as const,
            ResourceRecordSet: { ...r, HealthCheckId: `hc-${i}`, ResourceRecords: [...r.ResourceRecords!, { Value: `10.9.${i}.1` }] },
          })),
        },
      });
    }
    const before = w.sim.route53.recordSets(w.pair.hostedZoneId);
    await w.runCanary();
    const after = w.sim.route53.recordSets(w.pair.hostedZoneId);
    const strip = (sets: typeof before) => sets.map(({ Weight: _w, ...rest }) => rest);
    expect(strip(after)).toEqual(strip(before));
    expect(after.some((r) => r.Weight === 100)).toBe(true);
    const batches = w.sim.route53.applied.slice(seed.alias ? 1 : 2);
    expect(batches.every((b) => b.changes.length === 2 && b.changes.every((c) => c.Action === 'UPSERT'))).toBe(true);
  });
});

describe('figures', () => {
  it('a 4-step canary: Route53 calls and state transitions (printed for the closing note)', async () => {
    const w = world();
    const [result] = await w.runCanary();
    const route53 = w.sim.calls.filter((c) => c.service === 'route53');
    const byCommand = Object.fromEntries(['ListResourceRecordSets', 'ChangeResourceRecordSets', 'GetChange'].map((c) => [c, w.sim.count('route53', c)]));
    console.log(`4-step canary: ${route53.length} Route53 calls ${JSON.stringify(byCommand)}, ${result!.transitions} state transitions, ${w.clock.elapsedMs() / 1000} virtual s`);
    expect(byCommand.ChangeResourceRecordSets).toBe(4);
    expect(result!.transitions).toBeGreaterThan(0);
  });
});

describe('IAM as AWS enforces it (each function runs with its packaged role)', () => {
  it('a wildcard record (*.shop.example.com): the grant names it as Route53 normalizes it (\\052), and the canary promotes', async () => {
    const w = world({ pair: { recordName: '*.shop.example.com' } });
    const write = w.stack.shiftTraffic!.policies.find((s) => s.Action.includes('route53:ChangeResourceRecordSets'))!;
    expect(write.Condition!['ForAllValues:StringEquals']!['route53:ChangeResourceRecordSetsNormalizedRecordNames']).toEqual(['\\052.shop.example.com']);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
  });

  it('the same wildcard pair granted its name as written (*.shop...) is denied its first shift, and nothing changes', async () => {
    const w = world({
      pair: { recordName: '*.shop.example.com' },
      mutate: (stack) => {
        for (const s of stack.shiftTraffic!.policies) if (s.Condition) s.Condition['ForAllValues:StringEquals']!['route53:ChangeResourceRecordSetsNormalizedRecordNames'] = ['*.shop.example.com'];
      },
    });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/AccessDenied: .*not authorized to perform: route53:ChangeResourceRecordSets/);
    expect(greenSequence(w.sim, w.pair)).toEqual([]);
  });

  it('a role that may write only other record names, types or actions is denied (the condition keys are evaluated)', async () => {
    const w = world({
      mutate: (stack) => {
        for (const s of stack.shiftTraffic!.policies) if (s.Condition) s.Condition['ForAllValues:StringEquals']!['route53:ChangeResourceRecordSetsRecordTypes'] = ['AAAA'];
      },
    });
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/AccessDenied/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('DescribeAlarms scoped to alarm ARNs hides composite alarms (as CloudWatch does): Preflight reports the composite missing', async () => {
    const alarmArns = ['shop-web-5xx-rate', 'shop-web-health'].map((a) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${a}`);
    const w = world({
      mutate: (stack) => {
        for (const s of stack.preflight!.policies) if (s.Action.includes('cloudwatch:DescribeAlarms')) s.Resource = alarmArns;
      },
    });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('AlarmNotFound');
    expect(result!.cause).toMatch(/shop-web-health/);
    expect(w.route53Writes()).toBe(0);
  });

  it('a denied GetChange ends the wait at once under its own name (not a 240 s timeout), and the canary rolls back', async () => {
    const w = world({
      mutate: (stack) => {
        stack.waitForChange!.policies = [];
      },
    });
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/AccessDenied: .*route53:GetChange/);
    const waited = result!.events.filter((e) => e.state?.name === 'Wait for Route53 INSYNC');
    expect(waited.at(-1)!.timestamp - waited[0]!.timestamp).toBeLessThan(60_000);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('a function sees its own environment, not the host process\'s: what its declaration does not give it is missing', async () => {
    const w = world();
    process.env.LOCK_TABLE = 'set-on-the-host';
    try {
      const read = async () => ({ table: process.env.LOCK_TABLE, name: process.env.AWS_LAMBDA_FUNCTION_NAME, home: process.env.HOME });
      expect(await invoke(w.stack.waitForChange!, read, {})).toEqual({ table: undefined, name: 'ecs-dns-canary-prod-waitForChange' });
      expect(await invoke(w.stack.shiftTraffic!, read, {})).toEqual({ table: LOCAL_RESOURCES.claimsTable, name: 'ecs-dns-canary-prod-shiftTraffic' });
      expect(process.env.LOCK_TABLE).toBe('set-on-the-host');
    } finally {
      delete process.env.LOCK_TABLE;
    }
  });
});
