import { parseConfig, type PairConfig } from '../functions/lib/config.js';
import { CANARY_NAMESPACE } from '../functions/lib/canary-metrics.js';
import { dashboardName, declareFunctions, environmentOf, STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import { rolePolicies } from '../functions/lib/roles.js';
import { eventBusPolicyResources } from '../functions/lib/forwarder.js';
import example, { CROSS_ACCOUNT } from './example.config.js';
import { SIM_ACCOUNT, SIM_REGION } from './sim/constants.js';
import { endpointOf } from './local-canary.js';
import type { LocalStack } from './stack.js';
import type { Fault } from './sim/account.js';
import type { SimRole } from './sim/sts.js';
import { loseFirstResponse, type ExecutionResult, type TaskHandler } from './step-functions.js';
import { createWorld, weightsOf, type World, type WorldOptions } from './world.js';

/**
 * Proof that the local world enforces what AWS enforces: for every function, each environment
 * variable its grants set and each IAM action of its role is removed from the stack, one at a
 * time, and at least one named scenario must then fail. A removal no scenario notices is
 * either not needed (drop it from the declaration) or not tested (add a scenario).
 */
export interface Mutation {
  fn: string;
  removed: string;
  apply(stack: LocalStack): void;
  /** Run against FULL_PAIR's scenario. */
  full?: boolean;
  /** Run against CROSS_ACCOUNT_SCENARIOS, with the example's zone in another account. */
  crossAccount?: boolean;
  /** What the mutation changes outside the stack (the DNS role in the other account). */
  options?: Pick<WorldOptions, 'role' | 'busPolicy'>;
}

/** The example pair across the simulated organization (local/example.config.ts). */
export const CROSS_ACCOUNT_PAIR = CROSS_ACCOUNT;

/** The scenarios that, between them, have every function that calls Route53 or reads green call it through its role. */
export const CROSS_ACCOUNT_SCENARIOS = [
  'a canary promotes green, notifying every step',
  'an alarm rolls the canary back',
  'the safety net restores a stopped run',
  'the sweep restores a stopped run whose status event was lost',
  // green scaled up through its role
  'with every option, green is scaled up, smoke-tested, hooked, promoted and the old side scaled down',
];

/**
 * The example pair with every optional check configured: green scaled down after an earlier
 * promotion, a smoke test with a secret, both hooks, and the idle side scaled down again.
 */
export const FULL_PAIR = {
  smokeTest: { url: endpointOf('shop-web-b'), secret: 'shop/smoke-token', successes: 2, intervalSeconds: 5, timeoutSeconds: 60 },
  hooks: { preTraffic: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-pre', postTraffic: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-post', timeoutSeconds: 60 },
  idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 },
};

const FULL_SCENARIO = 'with every option, green is scaled up, smoke-tested, hooked, promoted and the old side scaled down';

/**
 * `full`: the removals of what only FULL_PAIR's options are granted (the hooks, the secret, the scaling);
 * `crossAccount`: of what only the pair across accounts is granted (with FULL_PAIR's options):
 * sts:AssumeRole on each role, one role at a time, each role's trust and calls, the bus policy.
 */
export function mutations({ full = false, crossAccount = false } = {}): Mutation[] {
  const config = full ? { pairs: [{ ...example.pairs[0], ...FULL_PAIR }] } : crossAccount ? { pairs: [{ ...example.pairs[0], ...FULL_PAIR, ...CROSS_ACCOUNT_PAIR }] } : example;
  const declarations = declareFunctions(parseConfig(config), STATE_MACHINE_NAME);
  const base = full || crossAccount ? new Set([...mutations(), ...(crossAccount ? mutations({ full: true }) : [])].map((m) => `${m.fn} ${m.removed}`)) : new Set<string>();
  const out: Mutation[] = [];
  for (const [fn, declaration] of Object.entries(declarations)) {
    for (const name of Object.keys(environmentOf(declaration)))
      out.push({ fn, removed: `env ${name}`, apply: (stack) => void delete stack[fn]!.environment[name] });
    const actions = [...new Set(declaration.access.flatMap((a) => a.statements.flatMap((s) => s.Action)))];
    // Each role a function may assume, on its own: a grant on one role must not stand for another's.
    for (const role of [...new Set(declaration.access.flatMap((a) => a.statements.filter((s) => s.Action.includes('sts:AssumeRole')).flatMap((s) => s.Resource)))] as string[])
      out.push({
        fn,
        removed: `sts:AssumeRole on ${role.split('/').at(-1)}`,
        apply: (stack) => {
          for (const s of stack[fn]!.policies) if (s.Action.includes('sts:AssumeRole')) s.Resource = s.Resource.filter((r) => r !== role);
          stack[fn]!.policies = stack[fn]!.policies.filter((s) => s.Resource.length > 0);
        },
      });
    for (const action of actions.filter((a) => a !== 'sts:AssumeRole'))
      out.push({
        fn,
        removed: action,
        apply: (stack) => {
          const policies = stack[fn]!.policies;
          for (const s of policies) s.Action = s.Action.filter((a) => a !== action);
          stack[fn]!.policies = policies.filter((s) => s.Action.length > 0);
        },
      });
  }
  // Each role in another account, as `iam` prints it: each function it trusts, and each call it allows.
  if (crossAccount)
    for (const role of rolePolicies(parseConfig(config), { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' })) {
      const name = role.roleArn.split('/').at(-1)!;
      const only = (change: (r: SimRole) => void) => (r: SimRole) => (r.arn === role.roleArn && change(r), r);
      role.functions.forEach((fn, k) => {
        const principal = role.trustPolicy.Statement[0]!.Principal!.AWS[k]!;
        out.push({ fn, removed: `${name}'s trust in its role`, apply: () => undefined, options: { role: only((r) => (r.trustPolicy.Statement[0]!.Principal!.AWS = r.trustPolicy.Statement[0]!.Principal!.AWS.filter((p) => p !== principal))) } });
      });
      for (const action of role.permissionPolicy.Statement.flatMap((s) => s.Action))
        out.push({ fn: name, removed: action, apply: () => undefined, options: { role: only((r) => (r.permissionPolicy.Statement = r.permissionPolicy.Statement.filter((s) => !s.Action.includes(action)))) } });
    }
  // The stack's bus policy, as packaged: each forwarder role of another account it lets in.
  if (crossAccount)
    for (const [id, policy] of Object.entries(eventBusPolicyResources(parseConfig(config), 'prod')))
      for (const principal of policy.Properties.Statement.Principal.AWS as { 'Fn::Sub': string }[]) {
        const without = (resources: ReturnType<typeof eventBusPolicyResources>) => {
          const changed = structuredClone(resources);
          const statement = changed[id]!.Properties.Statement;
          statement.Principal.AWS = statement.Principal.AWS.filter((p: { 'Fn::Sub': string }) => p['Fn::Sub'] !== principal['Fn::Sub']);
          return changed;
        };
        out.push({ fn: 'busPolicy', removed: `${policy.Properties.StatementId} ${principal['Fn::Sub'].split('/').at(-1)}`, apply: () => undefined, options: { busPolicy: without } });
      }
  return out.filter((m) => !base.has(`${m.fn} ${m.removed}`)).map((m) => (full ? { ...m, full } : crossAccount ? { ...m, crossAccount } : m));
}

class ScenarioFailed extends Error {}
const check = (ok: boolean, what: string) => {
  if (!ok) throw new ScenarioFailed(what);
};
const ALL_BLUE = { blue: 100, green: 0 };
const ALL_GREEN = { blue: 0, green: 100 };
const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);
const notifications = (w: World) => w.sim.events.map((e) => e.detailType).join(',');
const after = (w: World, minutes: number) => w.clock.run(new Promise((resolve) => setTimeout(resolve, minutes * 60_000)).then(() => w.canary.settled()));

/** A `wrap` that invokes `state`'s function `ms` of virtual time late. */
const late =
  (state: string, ms: number) =>
  (name: string, handler: TaskHandler): TaskHandler =>
    name !== state ? handler : async (input) => (await new Promise((resolve) => setTimeout(resolve, ms)), handler(input));

/** Every asynchronous invocation ended without an error. */
const asyncOk = async (w: World) => {
  for (const outcome of await Promise.all([...w.canary.safetyNets, ...w.canary.sweeps])) check(!(outcome instanceof Error), `an asynchronous invocation failed: ${(outcome as Error)?.message}`);
  check(w.sim.queues.values().next().value?.length === 0, 'something landed on the failures queue');
};

/** `fn` printed an EMF line of `metric` for the pair, in the canary's namespace, with the stage (its CANARY_STAGE) as a dimension. */
const emitted = (w: World, fn: string, metric: string) => {
  const found = w.sim.logs
    .emf(`/aws/lambda/${w.stack[fn]!.functionName}`)
    .some((l) => typeof l[metric] === 'number' && l.stage === 'prod' && l.pair === w.pair.name && l._aws.CloudWatchMetrics[0]?.Namespace === CANARY_NAMESPACE);
  check(found, `${fn} emitted no ${metric} metric for stage prod and pair ${w.pair.name}`);
};

/** The stack as packaged is never denied a call. */
const nothingDenied = (w: World) => {
  const denied = w.sim.calls.find((c) => c.caller && /AccessDenied/.test(c.error ?? ''));
  check(!denied, `${denied?.caller} was denied ${denied?.service}:${denied?.command}`);
};

/** A world for one scenario: `body` runs on it, then nothing may have been denied; it is always disposed. */
async function scenario(options: WorldOptions, body: (w: World) => Promise<void>): Promise<void> {
  const w = createWorld(options);
  try {
    await body(w);
    nothingDenied(w);
  } finally {
    w.dispose();
  }
}

const settled = (result: ExecutionResult | undefined) => `execution ${result?.status} ${result?.error ?? ''}: ${result?.cause ?? ''}`;

/** Each scenario runs a whole world and throws ScenarioFailed naming what was wrong. */
export const SCENARIOS: Record<string, (options: WorldOptions) => Promise<void>> = {
  'a canary promotes green, notifying every step': (options) =>
    scenario(options, async (w) => {
      const [result] = await w.runCanary();
      check(result?.status === 'SUCCEEDED', settled(result));
      check(same(weightsOf(w.sim, w.pair), ALL_GREEN), 'not all green');
      check(notifications(w) === 'Started,StepCompleted,StepCompleted,StepCompleted,StepCompleted,Promoted', `notifications ${notifications(w)}`);
      check(w.claim() === undefined, 'claim not released');
      await asyncOk(w);
      check(w.sim.cloudwatch.dashboards.has(dashboardName('prod', w.pair.name)), `no dashboard ${dashboardName('prod', w.pair.name)}`);
      for (const [fn, metric] of [['preflight', 'Started'], ['shiftTraffic', 'GreenWeight'], ['judgeGreen', 'HealthyVerdicts'], ['release', 'Promoted']] as const) emitted(w, fn, metric);
    }),

  'an alarm rolls the canary back': (options) =>
    scenario(options, async (w) => {
      w.whenGreenReaches(25, () => w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed'), 90_000);
      const [result] = await w.runCanary();
      // The alarm's event stops the run (the signal function), before the next poll would.
      check(result?.error === 'CanaryRolledBack' && /AlarmFired: alarm \S+ went to ALARM/.test(result.cause ?? ''), settled(result));
      check(same(weightsOf(w.sim, w.pair), ALL_BLUE), 'not all blue');
      check(notifications(w).endsWith('RolledBack'), `notifications ${notifications(w)}`);
      check(w.claim() === undefined, 'claim not released');
      emitted(w, 'rollBack', 'RolledBack');
    }),

  'a lost alarm event: the next poll rolls the canary back': (options) =>
    scenario({ ...options, start: { ...options.start, loseSignalEvents: true } }, async (w) => {
      w.whenGreenReaches(25, () => w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed'), 90_000);
      const [result] = await w.runCanary();
      check(result?.error === 'CanaryRolledBack' && /\(green 25 %\): metric alarm \S+ is in ALARM/.test(result.cause ?? ''), settled(result));
      check(same(weightsOf(w.sim, w.pair), ALL_BLUE), 'not all blue');
      check(w.claim() === undefined, 'claim not released');
    }),

  'a stop asked before the listener parks: the listener answers it at once': (options) =>
    scenario({ ...options, start: { ...options.start, wrap: late('Listen for alarms', 20_000) } }, async (w) => {
      let asked = 0;
      w.whenGreenReaches(10, () => void w.operator('abort', w.pair.name, '--by', 'dana').then(() => (asked = Date.now())), 5_000);
      const [result] = await w.runCanary();
      check(result?.error === 'CanaryRolledBack' && /AbortedByOperator: aborted by dana/.test(result.cause ?? ''), settled(result));
      const rollback = w.sim.route53.applied.slice(1).find((c) => c.at >= asked && c.changes.some((x) => x.ResourceRecordSet?.Weight === 100 && x.ResourceRecordSet.SetIdentifier !== w.green.setIdentifier));
      check(rollback !== undefined && rollback.at - asked <= 20_000, `rolled back ${rollback ? (rollback.at - asked) / 1000 : 'never'} s after the abort: not by the listener`);
    }),

  'the listener parks after the promotion: it lets the run finish': (options) =>
    // parks after the promotion: later than the whole canary (about 34 virtual minutes, the comparison's bakes included)
    scenario({ ...options, start: { ...options.start, wrap: late('Listen for alarms', 45 * 60_000) } }, async (w) => {
      const [result] = await w.runCanary();
      check(result?.status === 'SUCCEEDED', settled(result));
      check(same(weightsOf(w.sim, w.pair), ALL_GREEN), 'not all green');
    }),

  'a stop that lands while a shift is in flight: the shift puts blue back': (options) =>
    scenario(options, async (w) => {
      let done = false;
      w.onGreenWeight((weight) => {
        if (weight !== 25 || done) return;
        done = true;
        const stop = JSON.stringify({ error: 'AbortedByOperator', cause: 'aborted by erin', by: 'erin', at: new Date().toISOString() });
        w.sim.dynamodb.updateItem({ TableName: w.stack.shiftTraffic!.environment.LOCK_TABLE ?? '', Key: { pair: { S: w.pair.name } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'stopRequested' }, ExpressionAttributeValues: { ':s': { S: stop } } });
      });
      const [result] = await w.runCanary();
      check(result?.error === 'CanaryRolledBack' && /ClaimLost: the run was stopped while shifting to step 2; blue 100 \/ green 0 put back/.test(result.cause ?? ''), settled(result));
      check(same(weightsOf(w.sim, w.pair), ALL_BLUE), 'not all blue');
    }),

  'a firing alarm refuses the canary and frees the pair': (options) =>
    scenario(options, async (w) => {
      w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed');
      const [result] = await w.runCanary();
      check(result?.error === 'AlarmAlreadyFiring', settled(result));
      check(w.route53Writes() === 0, 'DNS was written');
      check(w.claim() === undefined, 'claim not released');
    }),

  'the safety net restores a stopped run': (options) =>
    scenario({ ...options, start: { ...options.start, sweep: false } }, async (w) => {
      w.whenGreenReaches(50, () => w.canary.executions[0]!.abort(), 30_000);
      await w.runCanary();
      const [net] = await Promise.all(w.canary.safetyNets);
      check(!(net instanceof Error) && net?.action === 'ROLLED_BACK', `safety net: ${net instanceof Error ? `${net.name}: ${net.message}` : net?.action}`);
      check(same(weightsOf(w.sim, w.pair), ALL_BLUE), 'not all blue');
      check(notifications(w).endsWith('RolledBack'), `notifications ${notifications(w)}`);
      check(w.claim() === undefined, 'claim not released');
      emitted(w, 'safetyNet', 'RolledBack');
    }),

  'the sweep restores a stopped run whose status event was lost': (options) =>
    scenario({ ...options, start: { ...options.start, loseStatusEvents: true } }, async (w) => {
      w.whenGreenReaches(50, () => w.canary.executions[0]!.abort(), 30_000);
      await w.runCanary();
      await after(w, 10);
      check(same(weightsOf(w.sim, w.pair), ALL_BLUE), 'not all blue');
      check(notifications(w).endsWith('RolledBack'), `notifications ${notifications(w)}`);
      check(w.claim() === undefined, 'claim not released');
      await asyncOk(w);
      emitted(w, 'sweep', 'RolledBack');
    }),

  'a claim left by an ended run is taken over': (options) =>
    scenario(options, async (w) => {
      const event = await w.completedDeployment();
      w.seedClaim(`arn:aws:states:eu-west-1:123456789012:execution:${STATE_MACHINE_NAME}:gone`);
      const result = await w.runExecution(event, `${w.pair.name}--takeover`);
      check(result.status === 'SUCCEEDED', settled(result));
    }),

  'a Promote retried after its response was lost still promotes': (options) =>
    scenario({ ...options, start: { ...options.start, wrap: loseFirstResponse('Promote') } }, async (w) => {
      const [result] = await w.runCanary();
      check(result?.status === 'SUCCEEDED', settled(result));
    }),

  [FULL_SCENARIO]: (options) =>
    scenario({ ...options, pair: { ...FULL_PAIR, ...options.pair } }, async (w) => {
      w.sim.secrets.put('shop/smoke-token', 'Bearer s3cr3t');
      w.sim.lambda.define(FULL_PAIR.hooks.preTraffic, () => ({ ok: true }));
      w.sim.lambda.define(FULL_PAIR.hooks.postTraffic, () => ({ ok: true }));
      // Each side where it runs (green elsewhere when the pair is across accounts).
      const ecsOf = (s: PairConfig['services'][number]) => w.sim.placeOf(s).ecs;
      ecsOf(w.green).updateService({ cluster: w.green.cluster, service: w.green.service, desiredCount: 0 });
      await w.clock.advance(60_000);
      const [result] = await w.runCanary();
      check(result?.status === 'SUCCEEDED', settled(result));
      check(ecsOf(w.green).service(w.green.cluster, w.green.service).runningCount === 3, 'green was not scaled up');
      check(w.sim.http.requests.length >= 2 && w.sim.http.requests.every((r) => r.headers.authorization === 'Bearer s3cr3t'), 'the smoke test did not run with the secret');
      check(w.sim.lambda.invocations.length === 2, `hooks invoked ${w.sim.lambda.invocations.length} times`);
      check(ecsOf(w.pair.services[0]).service(w.pair.services[0].cluster, w.pair.services[0].service).desiredCount === 0, 'the old side was not scaled down');
    }),

  'what the trigger, the signal function, the safety net and the sweep cannot do reaches the failures queue': (options) =>
    scenario({ ...options, start: { ...options.start, sweep: false } }, async (w) => {
      const queue = () => [...w.sim.queues.values()][0]!;
      const failing = async (fn: string, fault: Fault, run: () => Promise<unknown>) => {
        w.sim.inject({ ...fault, times: 3 });
        const before = queue().length;
        await w.clock.run(run());
        check(queue().length === before + 1, `${fn}'s failed event did not reach the queue`);
      };
      const event = await w.completedDeployment();
      await failing('startCanary', { service: 'sfn', command: 'StartExecution', error: 'ServiceUnavailable' }, () => w.canary.deliver(event));
      await failing('sweep', { service: 'dynamodb', command: 'Scan', error: 'ValidationException' }, () => w.canary.sweepNow());
      const status = { source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail: { executionArn: `arn:aws:states:eu-west-1:123456789012:execution:${STATE_MACHINE_NAME}:gone`, status: 'ABORTED' } };
      await failing('safetyNet', { service: 'sfn', command: 'DescribeExecution', error: 'ServiceUnavailable' }, () => w.canary.invokeAsync('safetyNet', status));
      const alarm = { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: w.pair.alarms[0], state: { value: 'ALARM', reason: 'Threshold Crossed' } } };
      await failing('signal', { service: 'dynamodb', command: 'GetItem', error: 'InternalServerError' }, () => w.canary.invokeAsync('signal', alarm));
    }),
};

export interface MutationResult {
  fn: string;
  removed: string;
  /** The first scenario that failed, with why; undefined when none did. */
  caughtBy?: { scenario: string; why: string };
}

/** Runs the scenarios against one mutation until one fails. */
export async function runMutation(m: Mutation): Promise<MutationResult> {
  for (const [scenario, run] of Object.entries(SCENARIOS)) {
    if (m.full && scenario !== FULL_SCENARIO) continue;
    if (m.crossAccount && !CROSS_ACCOUNT_SCENARIOS.includes(scenario)) continue;
    try {
      await run({ mutate: m.apply, ...(m.crossAccount ? { pair: CROSS_ACCOUNT_PAIR } : {}), ...m.options });
    } catch (e) {
      return { fn: m.fn, removed: m.removed, caughtBy: { scenario, why: (e as Error).message } };
    }
  }
  return { fn: m.fn, removed: m.removed };
}
