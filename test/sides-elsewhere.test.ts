import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../functions/lib/config.js';
import { rolePolicies } from '../functions/lib/roles.js';
import { declareFunctions, statementsOf, STATE_MACHINE_NAME, type Statement } from '../functions/lib/stack.js';
import { SIM_ACCOUNT, SIM_REGION } from '../local/sim/account.js';
import { createWorld, examplePair, weightsOf, type World, type WorldOptions } from '../local/world.js';

/** Green runs in another account and region, reached through its role there; blue in the stack's place. */
const GREEN_ROLE = 'arn:aws:iam::444455556666:role/ecs-dns-canary-green';
const GREEN_AT = { region: 'eu-central-1', roleArn: GREEN_ROLE, externalId: 'shop-web-green' };
const elsewhere = (green: object = GREEN_AT) => ({ services: examplePair().services.map((s, i) => (i === 1 ? { ...s, ...green } : s)) as never });

let worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) w.dispose();
});
const world = (options: WorldOptions = {}) => {
  const w = createWorld({ latency: false, ...options });
  worlds.push(w);
  return w;
};

describe('a green in another account and region', () => {
  it('is judged where it runs: ECS, ELBv2 and CloudWatch of its place, through its role, and promotes', async () => {
    const w = world({ pair: elsewhere() });
    const event = await w.completedDeployment();
    expect(event).toMatchObject({ account: '444455556666', region: 'eu-central-1' });
    const result = await w.runExecution(event, 'shop-web--green-elsewhere');
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 0, green: 100 });
    const there = w.sim.calls.filter((c) => c.account === '444455556666');
    expect(new Set(there.map((c) => `${c.service}:${c.command}`))).toEqual(new Set(['ecs:DescribeServices', 'elbv2:DescribeTargetGroups', 'elbv2:DescribeTargetHealth', 'cloudwatch:GetMetricData']));
    expect(there.every((c) => c.region === 'eu-central-1' && !c.error)).toBe(true);
    const assumed = w.sim.sts.assumed.filter((a) => a.roleArn === GREEN_ROLE);
    expect(assumed.every((a) => a.outcome === 'Allowed' && a.externalId === 'shop-web-green')).toBe(true);
    // One AssumeRole per function and execution: its ECS, ELBv2 and CloudWatch clients share the session's credentials.
    expect(assumed.map((a) => a.caller.split('/').at(-1)).sort()).toEqual(['ecs-dns-canary-prod-judgeGreen', 'ecs-dns-canary-prod-preflight']);
  });
});

describe('bad configuration of a side elsewhere is refused before any traffic moves, DNS untouched', () => {
  const refused = async (options: WorldOptions, green: object = GREEN_AT) => {
    const w = world({ pair: elsewhere(green), ...options });
    const result = await w.runExecution(await w.completedDeployment(), 'shop-web--refused');
    expect(result.status).toBe('FAILED');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    expect(w.route53Writes()).toBe(0);
    expect(w.claim()).toBeUndefined();
    return result;
  };

  it('a service role that does not exist: ServiceRoleNotAssumable', async () => {
    const result = await refused({ role: (r) => (r.arn === GREEN_ROLE ? undefined : r) });
    expect(result.error).toBe('ServiceRoleNotAssumable');
    expect(result.cause).toContain(GREEN_ROLE);
    expect(result.cause).toContain('npx ecs-dns-canary iam');
  });

  it("a trust policy that lacks the stack's role: ServiceRoleNotTrusted, naming that role", async () => {
    const result = await refused({
      role: (r) => ((r.trustPolicy.Statement[0]!.Principal!.AWS = r.trustPolicy.Statement[0]!.Principal!.AWS.filter((p) => !p.includes('-preflight-'))), r),
    });
    expect(result.error).toBe('ServiceRoleNotTrusted');
    expect(result.cause).toContain('ecs-dns-canary-prod-preflight-eu-west-1-lambdaRole');
  });

  it('a wrong externalId fails the trust policy: ServiceRoleNotTrusted naming externalId', async () => {
    const result = await refused({ role: (r) => ((r.trustPolicy.Statement[0]!.Condition = { StringEquals: { 'sts:ExternalId': ['another-id'] } }), r) });
    expect(result.error).toBe('ServiceRoleNotTrusted');
    expect(result.cause).toContain('with the configured externalId');
  });

  it('a permission policy without a call the function makes: AccessDenied through the role, named', async () => {
    const result = await refused({ role: (r) => ((r.permissionPolicy.Statement = r.permissionPolicy.Statement.filter((s) => !s.Action.includes('elasticloadbalancing:DescribeTargetGroups'))), r) });
    expect(result.cause).toMatch(/assumed-role\/ecs-dns-canary-green\/shop-web--.* is not authorized to perform: elasticloadbalancing:DescribeTargetGroups/);
  });
});

describe('an event from where the pair does not run the service', () => {
  it('is refused as ForeignEvent, naming where the service runs', async () => {
    const w = world({ pair: elsewhere() });
    const event = await w.completedDeployment();
    const home = { ...event, account: SIM_ACCOUNT, region: SIM_REGION, resources: [event.resources[0]!.replace('eu-central-1:444455556666', `${SIM_REGION}:${SIM_ACCOUNT}`)] };
    const result = await w.runExecution(home, 'shop-web--foreign');
    expect(result.error).toBe('ForeignEvent');
    expect(result.cause).toContain('pair shop-web runs shop/shop-web-b in account 444455556666, eu-central-1');
    expect(w.route53Writes()).toBe(0);
  });
});

describe('a blue in another region of the stack account', () => {
  it("is read there with the functions' own role (no role to assume), and the canary promotes", async () => {
    const w = world({ pair: { services: examplePair().services.map((s, i) => (i === 0 ? { ...s, region: 'us-east-1' } : s)) as never } });
    const result = await w.runCanary();
    expect(result.map((r) => r.status)).toEqual(['SUCCEEDED']);
    const there = w.sim.calls.filter((c) => c.region === 'us-east-1');
    expect(new Set(there.map((c) => `${c.service}:${c.command}`))).toEqual(new Set(['ecs:DescribeServices', 'elbv2:DescribeTargetGroups', 'cloudwatch:GetMetricData']));
    expect(there.every((c) => c.account === undefined && c.caller && !c.error)).toBe(true);
    expect(w.sim.sts.assumed).toEqual([]);
  });
});

describe('least privilege across accounts', () => {
  const config = parseConfig({ pairs: [{ ...examplePair(), ...elsewhere({ ...GREEN_AT, alarms: ['shop-web-b-5xx'] }) }] });
  const declarations = declareFunctions(config, STATE_MACHINE_NAME);
  const assumes = (fn: string) => statementsOf(declarations[fn]!).filter((s) => s.Action.includes('sts:AssumeRole'));

  it('exactly the functions that read a side assume its role, each in one statement', () => {
    const assuming = Object.keys(declarations).filter((fn) => assumes(fn).length);
    expect(assuming.sort()).toEqual(['judgeGreen', 'preflight', 'startCanary']);
    for (const fn of assuming) expect(assumes(fn)).toEqual([{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: [GREEN_ROLE] }]);
  });

  it("the functions' own ECS grant names only the side in the stack's account; the role's names green's ARN where it runs", () => {
    const own = statementsOf(declarations.preflight!).filter((s: Statement) => s.Action.includes('ecs:DescribeServices'));
    expect(own.flatMap((s) => s.Resource)).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/shop/shop-web-a' }]);
    const [role] = rolePolicies(config, { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' });
    expect(role!.account).toBe('444455556666');
    expect(role!.functions.sort()).toEqual(['judgeGreen', 'preflight', 'startCanary']);
    expect(role!.trustPolicy.Statement[0]!.Condition).toEqual({ StringEquals: { 'sts:ExternalId': ['shop-web-green'] } });
    expect(role!.permissionPolicy.Statement).toEqual([
      { Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: ['arn:aws:ecs:eu-central-1:444455556666:service/shop/shop-web-b'] },
      { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetHealth'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: ['*'] },
    ]);
  });

  it('green without alarms of its own, or without analysis, is not granted DescribeAlarms or GetMetricData there', () => {
    const bare = parseConfig({ pairs: [{ ...examplePair(), analysis: false, ...elsewhere() }] });
    const actions = rolePolicies(bare, { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' })[0]!.permissionPolicy.Statement.flatMap((s) => s.Action);
    expect(actions.sort()).toEqual(['ecs:DescribeServices', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth']);
  });

  it('idleAfterPromotion adds scaleService, granted UpdateService on exactly green there', () => {
    const idle = parseConfig({ pairs: [{ ...examplePair(), idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 }, ...elsewhere() }] });
    const role = rolePolicies(idle, { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' })[0]!;
    expect(role.functions).toContain('scaleService');
    // Each action once: DescribeServices on green is the readers' grant already.
    expect(role.permissionPolicy.Statement).toContainEqual({ Effect: 'Allow', Action: ['ecs:UpdateService'], Resource: ['arn:aws:ecs:eu-central-1:444455556666:service/shop/shop-web-b'] });
    expect(role.permissionPolicy.Statement.flatMap((s) => s.Action).filter((a) => a === 'ecs:DescribeServices')).toHaveLength(1);
  });
});

describe('a blue in another account, scaled down after the promotion', () => {
  it("scaleService scales it through its role, where it runs (ECS UpdateService there)", async () => {
    const BLUE_ROLE = 'arn:aws:iam::444455556666:role/ecs-dns-canary-blue';
    const services = examplePair().services.map((s, i) => (i === 0 ? { ...s, region: 'eu-central-1', roleArn: BLUE_ROLE } : s)) as never;
    const w = world({ pair: { services, idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 } } });
    const result = await w.runCanary();
    expect(result.map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(w.sim.place('444455556666', 'eu-central-1').ecs.service('shop', 'shop-web-a').desiredCount).toBe(0);
    const scaled = w.sim.calls.filter((c) => c.command === 'UpdateService');
    expect(scaled).toEqual([expect.objectContaining({ caller: 'scaleService', account: '444455556666', region: 'eu-central-1' })]);
    expect(scaled[0]!.error).toBeUndefined();
  });
});

describe("the operator's analyze of a pair with green elsewhere", () => {
  it('reads green where it runs, through its role in an operator session, and replays the canary HEALTHY', async () => {
    const w = world({ pair: elsewhere(), operatorTrust: [`arn:aws:iam::${SIM_ACCOUNT}:role/operator`] });
    const start = Date.now();
    const result = await w.runExecution(await w.completedDeployment(), 'shop-web--analyzed');
    expect(result.status).toBe('SUCCEEDED');
    await w.clock.advance(300_000);
    const iso = (ms: number) => new Date(ms).toISOString();
    const r = await w.operator('analyze', 'shop-web', '--from', iso(start - 10 * 60_000), '--to', iso(Date.now()), '--green', 'shop-web-b', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ outcome: 'HEALTHY' });
    const operatorThere = w.sim.calls.filter((c) => !c.caller && c.account === '444455556666');
    expect(new Set(operatorThere.map((c) => `${c.service}:${c.command}`))).toEqual(new Set(['ecs:DescribeServices', 'elbv2:DescribeTargetGroups', 'cloudwatch:GetMetricData']));
    expect(w.sim.sts.assumed.filter((a) => a.roleArn === GREEN_ROLE && /assumed-role\/operator\//.test(a.caller)).map((a) => a.sessionName)).toEqual([expect.stringMatching(/^shop-web--cli@/)]);
  });
});

describe('the same cluster and service names in two regions', () => {
  // The usual cross-region pair: shop/shop-web in the stack's region (blue) and in eu-central-1 (green).
  const SAME_NAMES = {
    services: [
      { cluster: 'shop', service: 'shop-web', setIdentifier: 'shop-web-euw1' },
      { cluster: 'shop', service: 'shop-web', setIdentifier: 'shop-web-euc1', region: 'eu-central-1', alarms: ['shop-web-5xx-euc1'] },
    ] as never,
  };

  it('are two services: the pair is valid; the same service in one place twice is not', () => {
    expect(parseConfig({ pairs: [{ ...examplePair(), ...SAME_NAMES }] }).pairs[0]!.services[1].region).toBe('eu-central-1');
    const twice = { services: examplePair().services.map((s) => ({ ...s, service: 'shop-web', region: 'eu-central-1' })) as never };
    expect(() => parseConfig({ pairs: [{ ...examplePair(), ...twice }] })).toThrow(/the two services must differ \(by cluster, service, region or account\)/);
  });

  it("promotes: blue's failing tasks in its own region (same names as green's) do not stop the canary", async () => {
    const w = world({ pair: SAME_NAMES });
    // Blue's tasks fail to start (the stack's region): blue's event, as the stack's bus receives it, not green's.
    const event = { source: 'aws.ecs', 'detail-type': 'ECS Service Action', account: SIM_ACCOUNT, region: SIM_REGION, resources: [`arn:aws:ecs:${SIM_REGION}:${SIM_ACCOUNT}:service/shop/shop-web`], detail: { eventName: 'SERVICE_TASK_START_IMPAIRED' } };
    w.whenGreenReaches(25, () => w.canary.publish(event), 30_000);
    const [result] = await w.runCanary();
    expect(result!.status, result!.cause).toBe('SUCCEEDED');
    const blueSignal = await w.canary.signals.find((s) => (s.event as { region?: string }).region === SIM_REGION)!.outcome;
    expect(blueSignal).toEqual({ pairs: [{ pair: 'shop-web', outcome: 'NOT_GREEN', detail: expect.stringContaining('shop/shop-web is not the green side') }] });
  });

  it("green's own failing tasks in eu-central-1 stop the canary (its event, as the stack's bus receives it from the forwarder)", async () => {
    const w = world({ pair: SAME_NAMES });
    const event = { source: 'aws.ecs', 'detail-type': 'ECS Service Action', account: SIM_ACCOUNT, region: 'eu-central-1', resources: [`arn:aws:ecs:eu-central-1:${SIM_ACCOUNT}:service/shop/shop-web`], detail: { eventName: 'SERVICE_TASK_START_IMPAIRED' } };
    w.whenGreenReaches(25, () => w.canary.publish(event), 30_000);
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('GreenTasksFailing: shop/shop-web: SERVICE_TASK_START_IMPAIRED');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
  });
});
