import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricAlarmCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type PairConfig } from '../functions/lib/config.js';
import { invoke } from '../local/lambda.js';
import { seedPair, targetGroupArn, taskDefinitionArn } from '../local/local-canary.js';
import { SIM_ACCOUNT, SIM_REGION, SimulatedAccount, type Place } from '../local/sim/account.js';
import { OPERATOR_ROLE_ARN, type SimRole } from '../local/sim/sts.js';
import { loadBalancerDimension, targetGroupDimension } from '../local/sim/traffic.js';
import type { LocalFunction, PolicyStatement } from '../local/stack.js';
import { VirtualClock } from '../local/virtual-time.js';
import { examplePair } from '../local/world.js';
import { world } from './helpers.js';

// The simulated organization: places (account, region), each with its own ECS, ELBv2 and
// CloudWatch; a request goes to the place of the credentials that signed it and of the region its
// endpoint names, and is authorized there as IAM would (ARNs built in that place; through an
// assumed role, against the role's permission policy).

const OTHER_ACCOUNT = '444455556666';
const OTHER_REGION = 'eu-central-1';
const SESSION = 'sim-organization-test';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

/** Virtual time, for what takes time (traffic, token buckets): install it before the organization. */
function virtualTime(): VirtualClock {
  const clock = VirtualClock.install(Date.parse('2026-11-23T09:00:00Z'));
  cleanups.push(() => clock.uninstall());
  return clock;
}

function organization(options: { throttling?: boolean } = {}): SimulatedAccount {
  const sim = new SimulatedAccount({ throttling: options.throttling ?? false });
  cleanups.push(sim.install());
  return sim;
}

const roleArn = (name: string) => `arn:aws:iam::${OTHER_ACCOUNT}:role/${name}`;

/** A role in the other account that the operator may assume, allowed `statements` there. */
function createRole(sim: SimulatedAccount, name: string, statements: SimRole['permissionPolicy']['Statement']): string {
  const arn = roleArn(name);
  sim.addAccount(OTHER_ACCOUNT).createRole({
    arn,
    trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: [OPERATOR_ROLE_ARN] }, Action: ['sts:AssumeRole'] }] },
    permissionPolicy: { Version: '2012-10-17', Statement: statements },
  });
  return arn;
}

/** Client settings for `region` with credentials of `role`, from STS AssumeRole (as route53For makes them). */
const through = (role: string, region: string) => ({ region, maxAttempts: 1, credentials: fromTemporaryCredentials({ params: { RoleArn: role, RoleSessionName: SESSION } }) });

const GREEN_SERVICE = `arn:aws:ecs:${OTHER_REGION}:${OTHER_ACCOUNT}:service/shop/shop-web-b`;

/** Green's service, target group and alarm, seeded in (OTHER_ACCOUNT, OTHER_REGION) by its platform team. */
function seedGreenElsewhere(sim: SimulatedAccount): Place {
  const place = sim.place(OTHER_ACCOUNT, OTHER_REGION);
  const where = { account: OTHER_ACCOUNT, region: OTHER_REGION };
  place.ecs.createService({ cluster: 'shop', service: 'shop-web-b', taskDefinition: taskDefinitionArn('shop-web-b', 1, where), desiredCount: 3, targetGroupArn: targetGroupArn('shop-web-b', where) });
  place.elbv2.addTargetGroup({ arn: targetGroupArn('shop-web-b', where), loadBalancerArns: [place.elbv2.addLoadBalancer({ name: 'shop-web-b-alb' })] });
  place.cloudwatch.putMetricAlarm({ AlarmName: 'shop-web-b-errors' });
  return place;
}

const describeGreen = (client: ECSClient) => client.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-web-b'] }));

describe('places', () => {
  it('each place has its own ECS and CloudWatch: what is created in eu-central-1 is not in eu-west-1', async () => {
    const sim = organization();
    const central = new ECSClient({ region: OTHER_REGION });
    await central.send(new CreateClusterCommand({ clusterName: 'shop' }));
    await central.send(new RegisterTaskDefinitionCommand({ family: 'shop-web-b', containerDefinitions: [] }));
    await central.send(new CreateServiceCommand({ cluster: 'shop', serviceName: 'shop-web-b', taskDefinition: 'shop-web-b', desiredCount: 2 }));
    const found = await describeGreen(central);
    expect(found.services?.[0]).toMatchObject({
      serviceArn: `arn:aws:ecs:${OTHER_REGION}:${SIM_ACCOUNT}:service/shop/shop-web-b`,
      taskDefinition: `arn:aws:ecs:${OTHER_REGION}:${SIM_ACCOUNT}:task-definition/shop-web-b:1`,
    });
    await expect(describeGreen(new ECSClient({ region: SIM_REGION }))).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(sim.place(SIM_ACCOUNT, OTHER_REGION).ecs.service('shop', 'shop-web-b').desiredCount).toBe(2);
    expect(() => sim.ecs.service('shop', 'shop-web-b')).toThrow(/no service/);

    await new CloudWatchClient({ region: OTHER_REGION }).send(new PutMetricAlarmCommand({ AlarmName: 'shop-web-b-errors' } as never));
    const alarms = async (region: string) => (await new CloudWatchClient({ region }).send(new DescribeAlarmsCommand({}))).MetricAlarms?.map((a) => a.AlarmArn);
    expect(await alarms(OTHER_REGION)).toEqual([`arn:aws:cloudwatch:${OTHER_REGION}:${SIM_ACCOUNT}:alarm:shop-web-b-errors`]);
    expect(await alarms(SIM_REGION)).toEqual([]);
    // the calls say where they went: the region when not the stack's, no account (the stack's own)
    const ecs = sim.calls.filter((c) => c.service === 'ecs');
    expect(ecs.map((c) => [c.command, c.region, c.account])).toEqual([
      ['CreateCluster', OTHER_REGION, undefined],
      ['RegisterTaskDefinition', OTHER_REGION, undefined],
      ['CreateService', OTHER_REGION, undefined],
      ['DescribeServices', OTHER_REGION, undefined],
      ['DescribeServices', undefined, undefined],
    ]);
  });

  it('home is the stack place and its models are sim.ecs, sim.cloudwatch and sim.elbv2; onPlace hears of each new place', () => {
    const sim = organization();
    expect(sim.home).toMatchObject({ account: SIM_ACCOUNT, region: SIM_REGION });
    expect([sim.home.ecs, sim.home.cloudwatch, sim.home.elbv2]).toEqual([sim.ecs, sim.cloudwatch, sim.elbv2]);
    const heard: string[] = [];
    sim.onPlace((p) => heard.push(`${p.account}/${p.region}`));
    const central = sim.place(OTHER_ACCOUNT, OTHER_REGION);
    expect(sim.place(OTHER_ACCOUNT, OTHER_REGION)).toBe(central);
    sim.place(SIM_ACCOUNT, OTHER_REGION);
    expect(heard).toEqual([`${OTHER_ACCOUNT}/${OTHER_REGION}`, `${SIM_ACCOUNT}/${OTHER_REGION}`]);
    expect(sim.places().map((p) => `${p.account}/${p.region}`)).toEqual([`${SIM_ACCOUNT}/${SIM_REGION}`, ...heard]);
    // a place in another account makes it part of the organization (roles can be created there)
    expect(sim.accounts.has(OTHER_ACCOUNT)).toBe(true);
  });

  it("a place's ECS and CloudWatch emit their events with its account and region", () => {
    const sim = organization();
    const place = seedGreenElsewhere(sim);
    const events: { account: string; region: string; resources: string[] }[] = [];
    place.ecs.onDeploymentEvent((e) => events.push(e));
    place.cloudwatch.onStateChange((e) => events.push(e));
    place.ecs.deploy('shop', 'shop-web-b', taskDefinitionArn('shop-web-b', 2, place));
    place.cloudwatch.setState('shop-web-b-errors', 'ALARM');
    expect(events.map((e) => [e.account, e.region, e.resources[0]])).toEqual([
      [OTHER_ACCOUNT, OTHER_REGION, GREEN_SERVICE],
      [OTHER_ACCOUNT, OTHER_REGION, `arn:aws:cloudwatch:${OTHER_REGION}:${OTHER_ACCOUNT}:alarm:shop-web-b-errors`],
    ]);
  });

  it('only ECS, ELBv2 and CloudWatch are modeled in other regions: the stack-only services there are refused', async () => {
    organization();
    await expect(new DynamoDBClient({ region: OTHER_REGION, maxAttempts: 1 }).send(new ScanCommand({ TableName: 'claims' }))).rejects.toMatchObject({
      name: 'UnsupportedOperation',
      message: expect.stringContaining(`dynamodb in the stack's region (${SIM_REGION}) only, not in ${OTHER_REGION}`),
    });
  });

  it("ECS's throttling is per place: a burst in eu-central-1 leaves eu-west-1's bucket full", async () => {
    const clock = virtualTime();
    const sim = organization({ throttling: true });
    sim.place(SIM_ACCOUNT, OTHER_REGION).ecs.createService({ cluster: 'shop', service: 'shop-web-b', taskDefinition: taskDefinitionArn('shop-web-b', 1), desiredCount: 3 });
    sim.ecs.createService({ cluster: 'shop', service: 'shop-web-a', taskDefinition: taskDefinitionArn('shop-web-a', 1), desiredCount: 3 });
    const burst = (region: string, service: string, n: number) => {
      const client = new ECSClient({ region, maxAttempts: 1 });
      return clock.run(Promise.all(Array.from({ length: n }, () => client.send(new DescribeServicesCommand({ cluster: 'shop', services: [service] })).then(() => 'ok', (e: Error) => e.name))));
    };
    expect(new Set(await burst(OTHER_REGION, 'shop-web-b', 150))).toEqual(new Set(['ok', 'ThrottlingException']));
    expect(new Set(await burst(SIM_REGION, 'shop-web-a', 90))).toEqual(new Set(['ok']));
  });
});

describe('calls through a role assumed in another account', () => {
  it("are authorized against the role's permission policy: AccessDenied naming the action without its statement, answered from the role's place with it", async () => {
    const sim = organization();
    seedGreenElsewhere(sim);
    const without = createRole(sim, 'reads-alarms-only', [{ Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: ['*'] }]);
    await expect(describeGreen(new ECSClient(through(without, OTHER_REGION)))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        new RegExp(`^User: arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/reads-alarms-only/${SESSION} is not authorized to perform: ecs:DescribeServices on resource: ${GREEN_SERVICE.replace(/[/.]/g, '\\$&')}`),
      ),
    });
    const withIt = createRole(sim, 'reads-green', [
      { Effect: 'Allow', Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Resource: [GREEN_SERVICE] },
      { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTargetGroups', 'cloudwatch:GetMetricData'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: [`arn:aws:cloudwatch:${OTHER_REGION}:${OTHER_ACCOUNT}:alarm:shop-web-b-*`] },
    ]);
    const ecs = new ECSClient(through(withIt, OTHER_REGION));
    expect((await describeGreen(ecs)).services?.map((s) => s.serviceArn)).toEqual([GREEN_SERVICE]);
    expect((await ecs.send(new UpdateServiceCommand({ cluster: 'shop', service: 'shop-web-b', desiredCount: 1 }))).service?.desiredCount).toBe(1);
    const elbv2 = new ElasticLoadBalancingV2Client(through(withIt, OTHER_REGION));
    const tg = targetGroupArn('shop-web-b', { account: OTHER_ACCOUNT, region: OTHER_REGION });
    expect((await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }))).TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([tg]);
    expect((await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions).toHaveLength(3);
    const alarms = await new CloudWatchClient(through(withIt, OTHER_REGION)).send(new DescribeAlarmsCommand({ AlarmNames: ['shop-web-b-errors'] }));
    expect(alarms.MetricAlarms?.map((a) => a.AlarmArn)).toEqual([`arn:aws:cloudwatch:${OTHER_REGION}:${OTHER_ACCOUNT}:alarm:shop-web-b-errors`]);
    // the calls were made in that account and region
    const made = sim.calls.filter((c) => c.service !== 'sts' && !c.error);
    expect(made.length).toBe(5);
    expect(made.every((c) => c.account === OTHER_ACCOUNT && c.region === OTHER_REGION)).toBe(true);
  });

  it("the ARNs are built in the role's account and the request's region: a grant on the same service in eu-west-1 does not reach eu-central-1", async () => {
    const sim = organization();
    seedGreenElsewhere(sim);
    const role = createRole(sim, 'reads-green-in-eu-west-1', [{ Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: [`arn:aws:ecs:${SIM_REGION}:${OTHER_ACCOUNT}:service/shop/shop-web-b`] }]);
    await expect(describeGreen(new ECSClient(through(role, OTHER_REGION)))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(`on resource: ${GREEN_SERVICE}`) });
    // in eu-west-1 the grant holds, and that place has no such cluster: each place its own state
    await expect(describeGreen(new ECSClient(through(role, SIM_REGION)))).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
  });

  it('anything else through a role is UnsupportedOperation', async () => {
    const sim = organization();
    seedGreenElsewhere(sim);
    const role = createRole(sim, 'all', [{ Effect: 'Allow', Action: ['*'], Resource: ['*'] }]);
    await expect(new CloudWatchClient(through(role, OTHER_REGION)).send(new PutMetricAlarmCommand({ AlarmName: 'x' } as never))).rejects.toMatchObject({
      name: 'UnsupportedOperation',
      message: expect.stringContaining('not cloudwatch:PutMetricAlarm'),
    });
  });
});

describe("a function's own call in another region of the stack's account", () => {
  const reader = (policies: PolicyStatement[]): LocalFunction => ({
    name: 'reader',
    functionName: 'ecs-dns-canary-prod-reader',
    handler: 'reader.handler',
    runtime: 'nodejs22.x',
    region: SIM_REGION,
    memorySize: 256,
    timeout: 30,
    environment: {},
    roleArn: `arn:aws:iam::${SIM_ACCOUNT}:role/ecs-dns-canary-prod-reader`,
    policies,
  });
  const serviceIn = (region: string) => `arn:aws:ecs:${region}:${SIM_ACCOUNT}:service/shop/shop-web-b`;
  const describeIn = (region: string) => async () => (await describeGreen(new ECSClient({ region, maxAttempts: 1 }))).services?.map((s) => s.serviceArn);

  it("goes to that region's place, authorized against the function's role with ARNs built in that region", async () => {
    const sim = organization();
    sim.place(SIM_ACCOUNT, OTHER_REGION).ecs.createService({ cluster: 'shop', service: 'shop-web-b', taskDefinition: taskDefinitionArn('shop-web-b', 1, { account: SIM_ACCOUNT, region: OTHER_REGION }), desiredCount: 3 });
    const homeOnly = reader([{ Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: [serviceIn(SIM_REGION)] }]);
    await expect(invoke(homeOnly, describeIn(OTHER_REGION), {})).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`not authorized to perform: ecs:DescribeServices on resource: ${serviceIn(OTHER_REGION)}`),
    });
    const central = reader([{ Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: [serviceIn(OTHER_REGION)] }]);
    expect(await invoke(central, describeIn(OTHER_REGION), {})).toEqual([serviceIn(OTHER_REGION)]);
    await expect(invoke(central, describeIn(SIM_REGION), {})).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining(serviceIn(SIM_REGION)) });
    expect(sim.calls.filter((c) => c.caller === 'reader').map((c) => [c.region, c.error])).toEqual([
      [OTHER_REGION, 'AccessDeniedException'],
      [OTHER_REGION, undefined],
      [undefined, 'AccessDeniedException'],
    ]);
  });
});

describe('seeding a pair whose green runs in another region and account', () => {
  const GREEN_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/ecs-dns-canary-shop-web-b`;
  const elsewhere = { account: OTHER_ACCOUNT, region: OTHER_REGION };
  const pairWithGreenElsewhere = (): PairConfig => {
    const pair = examplePair();
    const [blue, green] = pair.services;
    return parseConfig({ pairs: [{ ...pair, services: [{ ...blue, alarms: ['shop-web-a-errors'] }, { ...green, region: OTHER_REGION, roleArn: GREEN_ROLE, alarms: ['shop-web-b-errors'] }] }] }).pairs[0]!;
  };

  it("puts green's service, task definition, ALB, target group and own alarms in its place; blue's and the pair's stay home", () => {
    const sim = organization();
    const pair = pairWithGreenElsewhere();
    seedPair(sim, pair);
    const place = sim.place(OTHER_ACCOUNT, OTHER_REGION);
    const green = place.ecs.service('shop', 'shop-web-b');
    expect(green).toMatchObject({ serviceArn: GREEN_SERVICE, taskDefinition: taskDefinitionArn('shop-web-b', 1, elsewhere), loadBalancers: [{ targetGroupArn: targetGroupArn('shop-web-b', elsewhere) }] });
    expect(targetGroupArn('shop-web-b', elsewhere)).toMatch(new RegExp(`^arn:aws:elasticloadbalancing:${OTHER_REGION}:${OTHER_ACCOUNT}:targetgroup/shop-web-b/`));
    expect(() => sim.ecs.service('shop', 'shop-web-b')).toThrow(/no service/);
    expect(sim.ecs.service('shop', 'shop-web-a').serviceArn).toBe(`arn:aws:ecs:${SIM_REGION}:${SIM_ACCOUNT}:service/shop/shop-web-a`);
    const [alb] = place.elbv2.describeLoadBalancers({ Names: ['shop-web-b-alb'] }).LoadBalancers;
    expect(alb!.LoadBalancerArn).toMatch(new RegExp(`^arn:aws:elasticloadbalancing:${OTHER_REGION}:${OTHER_ACCOUNT}:loadbalancer/app/shop-web-b-alb/`));
    expect(place.elbv2.describeTargetGroups({ TargetGroupArns: [targetGroupArn('shop-web-b', elsewhere)] }).TargetGroups[0]!.LoadBalancerArns).toEqual([alb!.LoadBalancerArn]);
    expect(() => sim.elbv2.describeLoadBalancers({ Names: ['shop-web-b-alb'] })).toThrow(expect.objectContaining({ name: 'LoadBalancerNotFoundException' }));
    expect(() => sim.elbv2.describeTargetGroups({ TargetGroupArns: [targetGroupArn('shop-web-b', elsewhere)] })).toThrow(expect.objectContaining({ name: 'TargetGroupNotFoundException' }));
    // green's own alarm is in its place; blue's and the pair's are home's
    const names = (p: Place) => p.cloudwatch.describeAlarms({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    const all = (p: Place) => [...names(p).MetricAlarms, ...names(p).CompositeAlarms].map((a) => a.AlarmName).sort();
    expect(all(place)).toEqual(['shop-web-b-errors']);
    expect(all(sim.home)).toEqual(expect.arrayContaining(['shop-web-a-errors', ...pair.alarms]));
    expect(all(sim.home)).not.toContain('shop-web-b-errors');
    // green's alias answers with its own region's load balancer
    const alias = sim.route53.recordSets(pair.hostedZoneId).find((r) => r.SetIdentifier === pair.services[1].setIdentifier)!.AliasTarget!.DNSName;
    expect(alias).toBe(`shop-web-b-1234567890.${OTHER_REGION}.elb.amazonaws.com.`);
  });

  it("green's ALB metrics land in its place's CloudWatch (read there through its role), blue's in the stack's", async () => {
    const clock = virtualTime();
    const sim = organization();
    const pair = pairWithGreenElsewhere();
    seedPair(sim, pair);
    const role = createRole(sim, 'ecs-dns-canary-shop-web-b', [{ Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: ['*'] }]);
    // half the clients to green
    sim.route53.changeResourceRecordSets({
      HostedZoneId: pair.hostedZoneId,
      ChangeBatch: { Changes: sim.route53.recordSets(pair.hostedZoneId).filter((r) => r.SetIdentifier).map((r) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { ...r, Weight: 50 } })) },
    });
    const start = Date.now();
    await clock.advance(10 * 60_000);
    const requests = (place: Place, service: string): MetricDataQuery => {
      const where = { account: place.account, region: place.region };
      const tg = targetGroupArn(service, where);
      const lb = place.elbv2.describeTargetGroups({ TargetGroupArns: [tg] }).TargetGroups[0]!.LoadBalancerArns[0]!;
      return {
        Id: 'requests',
        MetricStat: {
          Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancerDimension(lb) }, { Name: 'TargetGroup', Value: targetGroupDimension(tg) }] },
          Period: 60,
          Stat: 'Sum',
        },
      };
    };
    const sum = async (client: CloudWatchClient, query: MetricDataQuery) =>
      ((await client.send(new GetMetricDataCommand({ MetricDataQueries: [query], StartTime: new Date(start), EndTime: new Date() }))).MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
    const place = sim.place(OTHER_ACCOUNT, OTHER_REGION);
    const greenThere = await sum(new CloudWatchClient(through(role, OTHER_REGION)), requests(place, 'shop-web-b'));
    const greenHome = await sum(new CloudWatchClient({ region: SIM_REGION }), requests(place, 'shop-web-b'));
    const blueHome = await sum(new CloudWatchClient({ region: SIM_REGION }), requests(sim.home, 'shop-web-a'));
    expect(greenThere).toBeGreaterThan(0);
    expect(greenHome).toBe(0);
    expect(blueHome).toBeGreaterThan(0);
    // every request green served is published there, once
    expect(greenThere).toBeLessThanOrEqual(sim.traffic.requests(targetGroupArn('shop-web-b', elsewhere)));
  });

  it("world.deployGreen deploys green where it runs: its place's ECS, a task definition of that place", () => {
    const [blue, green] = examplePair().services;
    const w = world({ pair: { services: [blue, { ...green, region: OTHER_REGION, roleArn: GREEN_ROLE }] } });
    const id = w.deployGreen(2);
    const there = w.sim.place(OTHER_ACCOUNT, OTHER_REGION).ecs.service('shop', 'shop-web-b');
    expect(there.deployments[0]).toMatchObject({ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: taskDefinitionArn('shop-web-b', 2, elsewhere) });
    expect(() => w.sim.ecs.service('shop', 'shop-web-b')).toThrow(/no service/);
  });
});
