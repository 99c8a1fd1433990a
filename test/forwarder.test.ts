import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { run } from '../cli/main.js';
import { parseConfig, type CanaryConfigInput } from '../functions/lib/config.js';
import { eventBusPolicyResources, forwarderRoleName, forwarderStackName, forwarderTemplate, type CfnResource, type ForwarderTemplate } from '../functions/lib/forwarder.js';
import { alarmRulePattern, deploymentRulePattern, greenFailureRulePatterns } from '../functions/lib/stack.js';
import example from '../local/example.config.js';
import { EVENT_DELIVERY_MS } from '../local/local-canary.js';
import { mutations } from '../local/mutations.js';
import { weightsOf, world } from './helpers.js';
import type { WorldOptions } from '../local/world.js';

// Sides in other regions and accounts: the forwarder of each place (its rules, its role), the
// stack's bus policy, `npx ecs-dns-canary forwarder`.

const STACK = { account: '123456789012', region: 'eu-west-1', stage: 'prod' };
const OTHER = '333333333333';
const SIDE_ROLE = `arn:aws:iam::${OTHER}:role/ecs-dns-canary-side`;
const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/default';
const FRANKFURT = { account: OTHER, region: 'eu-central-1' };
const VIRGINIA = { account: STACK.account, region: 'us-east-1' };

type Pair = CanaryConfigInput['pairs'][number];
const pair = (): Pair => structuredClone(example.pairs[0]!) as Pair;
/** shop-web: blue here, green in eu-central-1 of another account (with its own alarm); shop-api: blue in us-east-1 of the stack's account, green here. */
function input(): CanaryConfigInput {
  const web = pair();
  web.services[1] = { ...web.services[1]!, region: 'eu-central-1', roleArn: SIDE_ROLE, alarms: ['shop-web-b-5xx'] };
  const api = pair();
  Object.assign(api, { name: 'shop-api', hostedZoneId: 'Z0EXAMPLE99999', recordName: 'api.example.com', alarms: ['shop-api-5xx-rate'] });
  api.services = [
    { cluster: 'api', service: 'api-a', setIdentifier: 'api-a', region: 'us-east-1', alarms: ['api-a-5xx'] },
    { cluster: 'api', service: 'api-b', setIdentifier: 'api-b', alarms: ['api-b-5xx'] },
  ];
  return { pairs: [web, api] };
}
const config = parseConfig(input());

const rules = (t: ReturnType<typeof forwarderTemplate>) => Object.fromEntries(Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule'));

describe('the forwarder of a place (functions/lib/forwarder.ts)', () => {
  it("has a rule per kind of event the stack listens to, with the stack's patterns narrowed to that place's services and alarms", () => {
    const t = forwarderTemplate(config, STACK, FRANKFURT);
    const green = `arn:aws:ecs:eu-central-1:${OTHER}:service/shop/shop-web-b`;
    const [failed, tasks] = greenFailureRulePatterns(config);
    const patterns = Object.fromEntries(Object.entries(rules(t)).map(([id, r]) => [id, r.Properties.EventPattern]));
    expect(patterns).toEqual({
      DeploymentsRule: { ...deploymentRulePattern(config), resources: [green] },
      DeploymentFailuresRule: { ...failed, resources: [green] },
      TaskFailuresRule: { ...tasks, resources: [green] },
      // only the side's own alarm: the pair's alarms and the other side's are in the stack's place
      AlarmsRule: { ...alarmRulePattern(config), detail: { ...alarmRulePattern(config)!.detail, alarmName: ['shop-web-b-5xx'] } },
    });
    const virginia = rules(forwarderTemplate(config, STACK, VIRGINIA));
    expect(virginia.DeploymentsRule!.Properties.EventPattern.resources).toEqual([`arn:aws:ecs:us-east-1:${STACK.account}:service/api/api-a`]);
    expect(virginia.AlarmsRule!.Properties.EventPattern.detail.alarmName).toEqual(['api-a-5xx']);
  });

  it("sends each to the stack's default bus with a role that only EventBridge of the place's account assumes and that may put events on that bus only", () => {
    const t = forwarderTemplate(config, STACK, FRANKFURT);
    for (const [id, rule] of Object.entries(rules(t))) {
      expect(rule.Properties.EventBusName, id).toBe('default');
      expect(rule.Properties.State, id).toBe('ENABLED');
      expect(rule.Properties.Targets, id).toEqual([{ Id: 'stack-bus', Arn: BUS, RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] } }]);
    }
    const role = t.Resources.ForwarderRole!;
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties.RoleName).toBe('ecs-dns-canary-prod-forwarder-eu-central-1');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': OTHER } } },
    ]);
    expect(role.Properties.Policies).toEqual([{ PolicyName: 'put-events', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS }] } }]);
    expect(Object.keys(t.Resources)).toEqual(['ForwarderRole', 'DeploymentsRule', 'DeploymentFailuresRule', 'TaskFailuresRule', 'AlarmsRule']);
    expect(forwarderStackName('prod')).toBe('ecs-dns-canary-prod-forwarder');
    expect(forwarderRoleName('staging', 'us-east-1')).toBe('ecs-dns-canary-staging-forwarder-us-east-1');
  });

  it('has no alarm rule when the sides of the place have no alarms of their own; the partition follows the stack', () => {
    const i = input();
    i.pairs[0]!.services[1]!.alarms = [];
    const t = forwarderTemplate(parseConfig(i), { ...STACK, region: 'cn-north-1' }, FRANKFURT);
    expect(Object.keys(rules(t))).toEqual(['DeploymentsRule', 'DeploymentFailuresRule', 'TaskFailuresRule']);
    expect(t.Resources.DeploymentsRule!.Properties.Targets[0].Arn).toBe('arn:aws-cn:events:cn-north-1:123456789012:event-bus/default');
  });

  it('is refused, with a UsageError naming the places of the sides, for a place where no side runs and for the stack\'s own', () => {
    expect(() => forwarderTemplate(config, STACK, { account: OTHER, region: 'us-east-1' })).toThrow(
      /^no configured side runs in account 333333333333, region us-east-1: sides elsewhere run in 333333333333\/eu-central-1, 123456789012\/us-east-1$/,
    );
    expect(() => forwarderTemplate(config, STACK, { account: STACK.account, region: STACK.region })).toThrow(/is the stack's own place/);
    expect(() => forwarderTemplate(parseConfig(example), STACK, FRANKFURT)).toThrow(/every side runs in the stack's own account and region/);
  });
});

describe("the stack's bus policy (eventBusPolicyResources, packaged through serverless.vars.cjs)", () => {
  it('lets in exactly the forwarder roles of each other account, one statement per account', () => {
    const i = input();
    // a second side in that account, in the stack's region (a role, no region of its own)
    i.pairs[1]!.services[1] = { ...i.pairs[1]!.services[1]!, roleArn: SIDE_ROLE };
    i.pairs[1]!.services[0] = { ...i.pairs[1]!.services[0]!, roleArn: 'arn:aws:iam::555555555555:role/api' };
    expect(eventBusPolicyResources(parseConfig(i), 'prod')).toEqual({
      ForwardersFrom333333333333BusPolicy: {
        Type: 'AWS::Events::EventBusPolicy',
        Properties: {
          EventBusName: 'default',
          StatementId: 'ecs-dns-canary-prod-forwarders-333333333333',
          Statement: {
            Effect: 'Allow',
            Principal: {
              AWS: [
                { 'Fn::Sub': 'arn:${AWS::Partition}:iam::333333333333:role/ecs-dns-canary-prod-forwarder-eu-central-1' },
                { 'Fn::Sub': 'arn:${AWS::Partition}:iam::333333333333:role/ecs-dns-canary-prod-forwarder-${AWS::Region}' },
              ],
            },
            Action: 'events:PutEvents',
            Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
          },
        },
      },
      ForwardersFrom555555555555BusPolicy: expect.objectContaining({
        Properties: expect.objectContaining({
          StatementId: 'ecs-dns-canary-prod-forwarders-555555555555',
          Statement: expect.objectContaining({ Principal: { AWS: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::555555555555:role/ecs-dns-canary-prod-forwarder-us-east-1' }] } }),
        }),
      }),
    });
  });

  it("is empty when every side is in the stack's account, in whatever region", () => {
    expect(eventBusPolicyResources(parseConfig(example), 'prod')).toEqual({});
    const i = input();
    i.pairs[0]!.services[1] = { ...i.pairs[0]!.services[1]!, roleArn: undefined };
    expect(eventBusPolicyResources(parseConfig(i), 'prod')).toEqual({});
  });

  it('is among the resources serverless.vars.cjs gives serverless.yml (the all-features fixture: green in another account)', async () => {
    const before = process.env.CANARY_CONFIG;
    // read when the module loads
    process.env.CANARY_CONFIG = 'test/fixtures/all-features.config.ts';
    try {
      const vars = createRequire(import.meta.url)('../serverless.vars.cjs') as (x: { resolveVariable: (v: string) => Promise<string> }) => Promise<{ resources: { Resources: Record<string, any> } }>;
      const out = await vars({ resolveVariable: async (v) => ({ 'self:service': 'ecs-dns-canary', 'sls:stage': 'staging' })[v]! });
      const policies = Object.entries(out.resources.Resources).filter(([, r]) => r.Type === 'AWS::Events::EventBusPolicy');
      expect(policies.map(([id, r]) => [id, r.Properties.StatementId, r.Properties.Statement.Principal.AWS])).toEqual([
        ['ForwardersFrom444455556666BusPolicy', 'ecs-dns-canary-staging-forwarders-444455556666', [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::444455556666:role/ecs-dns-canary-staging-forwarder-eu-central-1' }]],
      ]);
    } finally {
      if (before === undefined) delete process.env.CANARY_CONFIG;
      else process.env.CANARY_CONFIG = before;
    }
  });
});

/** `npx ecs-dns-canary <argv>` with `config`: exit code, stdout, stderr. */
async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const io = { out: { write: (s: string) => ((out += s), true) }, err: { write: (s: string) => ((err += s), true) } };
  // the CLI sets AWS_REGION from --region, for the rest of the process
  const region = process.env.AWS_REGION;
  const code = await run(argv, io, { config }).finally(() => (region === undefined ? delete process.env.AWS_REGION : (process.env.AWS_REGION = region)));
  return { code, out, err };
}

describe('npx ecs-dns-canary forwarder --region R [--account A]', () => {
  const stack = ['--stack-account', STACK.account, '--stack-region', STACK.region];

  it('prints the template on stdout, and on stderr how to deploy it there', async () => {
    const { code, out, err } = await cli('forwarder', '--region', 'eu-central-1', '--account', OTHER, ...stack);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(forwarderTemplate(config, STACK, FRANKFURT));
    expect(err).toContain('with credentials of account 333333333333');
    expect(err).toContain('npx ecs-dns-canary forwarder --region eu-central-1 --account 333333333333 > forwarder.json');
    expect(err).toContain('aws cloudformation deploy --template-file forwarder.json --stack-name ecs-dns-canary-prod-forwarder --capabilities CAPABILITY_NAMED_IAM --region eu-central-1');
  });

  it('--json: the template alone, as one line; the account defaults to the stack\'s; the stage names the role', async () => {
    const { code, out, err } = await cli('forwarder', '--region', 'us-east-1', '--json', '--stage', 'staging', ...stack);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual(forwarderTemplate(config, { ...STACK, stage: 'staging' }, VIRGINIA));
  });

  it('refuses a place where no side runs, a malformed region or account, and a missing region, with a UsageError (exit 2)', async () => {
    for (const argv of [
      ['--region', 'us-east-1', '--account', OTHER],
      ['--region', 'eu-west-1'],
      ['--region', 'Frankfurt'],
      ['--region', 'eu-central-1', '--account', '3333'],
      ['--region', 'eu-central-1', '--stack-account', 'me'],
      [],
    ]) {
      const { code, out } = await cli('forwarder', '--json', ...stack, ...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(JSON.parse(out).error, argv.join(' ')).toBe('UsageError');
    }
    expect(JSON.parse((await cli('forwarder', '--json', ...stack, '--region', 'Frankfurt')).out).message).toBe('--region takes an AWS region such as eu-central-1 (where the forwarder goes), got Frankfurt');
  });
});

// In the simulated organization: the world deploys each place's forwarder from the template the CLI
// prints (local/forwarders.ts reads its rules, targets and role from it) and the stack's bus policy
// as packaged; `forwarder` and `busPolicy` change them first.

/** The example pair with green elsewhere: in eu-central-1 of another account (through a role), or in us-east-1 of the stack's. */
const greenIn = (where: 'account' | 'region') => {
  const p = pair();
  p.services[1] = { ...p.services[1]!, alarms: ['shop-web-b-5xx'], ...(where === 'account' ? { region: 'eu-central-1', roleArn: SIDE_ROLE } : { region: 'us-east-1' }) };
  return p;
};
const placeOf = (where: 'account' | 'region') => (where === 'account' ? FRANKFURT : VIRGINIA);

/** In a world made with `options`, green's rollout completes and its alarm fires, in its place: which of the two events reached the stack's bus. */
async function eventsOfGreen(options: WorldOptions, where: 'account' | 'region') {
  const w = world({ pair: greenIn(where), latency: false, ...options });
  w.canary.trigger = false;
  const place = w.sim.place(placeOf(where).account, placeOf(where).region);
  w.deployGreen();
  await w.clock.run(new Promise((resolve) => setTimeout(resolve, w.sim.ecs.rolloutMs)));
  place.cloudwatch.setState('shop-web-b-5xx', 'ALARM', 'Threshold crossed');
  await w.clock.run(new Promise((resolve) => setTimeout(resolve, 2 * EVENT_DELIVERY_MS + 1)));
  const fromThere = (e: any) => e.account === place.account && e.region === place.region;
  const reached = {
    deployment: w.canary.deploymentEvents.some((e) => fromThere(e) && e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED'),
    alarm: w.canary.signals.some((s: any) => fromThere(s.event) && s.event.detail.alarmName === 'shop-web-b-5xx'),
  };
  w.dispose();
  return reached;
}

describe('events of sides elsewhere, in the simulated organization', () => {
  for (const where of ['account', 'region'] as const)
    it(`reach the stack's bus from a place with a forwarder (another ${where}), and nothing does from one without`, async () => {
      expect(await eventsOfGreen({}, where)).toEqual({ deployment: true, alarm: true });
      expect(await eventsOfGreen({ forwarder: () => undefined }, where)).toEqual({ deployment: false, alarm: false });
    });

  it("from another account, only when the stack's bus policy names the forwarder's role; within the stack's account, without one", async () => {
    expect(await eventsOfGreen({ busPolicy: () => ({}) }, 'account')).toEqual({ deployment: false, alarm: false });
    const otherRole = (resources: Record<string, CfnResource>) => {
      const out = structuredClone(resources);
      for (const r of Object.values(out)) r.Properties.Statement.Principal.AWS = [`arn:aws:iam::${OTHER}:role/someone-else`];
      return out;
    };
    expect(await eventsOfGreen({ busPolicy: otherRole }, 'account')).toEqual({ deployment: false, alarm: false });
    expect(await eventsOfGreen({ busPolicy: () => ({}) }, 'region')).toEqual({ deployment: true, alarm: true });
  });

  it("are refused when the forwarder's role may not put events on the stack's bus, or EventBridge of that account may not assume it, or the rule sends elsewhere", async () => {
    const changed = (change: (t: ForwarderTemplate) => void) => (t: ForwarderTemplate) => (change(t), t);
    for (const change of [
      changed((t) => (t.Resources.ForwarderRole!.Properties.Policies[0].PolicyDocument.Statement[0].Resource = 'arn:aws:events:eu-west-1:123456789012:event-bus/other')),
      changed((t) => (t.Resources.ForwarderRole!.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['aws:SourceAccount'] = '999999999999')),
      changed((t) => {
        for (const r of Object.values(t.Resources)) if (r.Type === 'AWS::Events::Rule') r.Properties.Targets[0].Arn = `arn:aws:events:eu-central-1:${OTHER}:event-bus/default`;
      }),
    ])
      expect(await eventsOfGreen({ forwarder: change }, 'account')).toEqual({ deployment: false, alarm: false });
  });

  it('npx ecs-dns-canary status names each place without a forwarder stack, and how to check a place in another account', async () => {
    const both = greenIn('region');
    const w = world({ pair: both, latency: false, forwarder: () => undefined });
    const { code, json } = await w.operator('status', '--json');
    expect(code).toBe(0);
    expect(json.forwarders).toEqual([
      {
        account: STACK.account,
        region: 'us-east-1',
        stackName: 'ecs-dns-canary-prod-forwarder',
        state: 'MISSING',
        stackStatus: null,
        next: 'npx ecs-dns-canary forwarder --region us-east-1 > forwarder.json && aws cloudformation deploy --template-file forwarder.json --stack-name ecs-dns-canary-prod-forwarder --capabilities CAPABILITY_NAMED_IAM --region us-east-1',
      },
    ]);
    expect((await w.operator('status')).out).toMatch(/123456789012\/us-east-1 {2}NO FORWARDER STACK: no event of its sides reaches the stack, so no canary of them starts; deploy it: npx ecs-dns-canary forwarder --region us-east-1/);
    const cfn = w.sim.calls.filter((c) => c.service === 'cloudformation');
    expect(cfn.map((c) => [c.command, c.region])).toContainEqual(['DescribeStacks', 'us-east-1']);

    w.dispose();
    const deployed = world({ pair: both, latency: false });
    expect((await deployed.operator('status', 'shop-web', '--json')).json.forwarders).toMatchObject([{ region: 'us-east-1', state: 'DEPLOYED', stackStatus: 'CREATE_COMPLETE', next: null }]);
    deployed.sim.place(STACK.account, 'us-east-1').cloudformation.putStack('ecs-dns-canary-prod-forwarder', { Resources: {} }, 'ROLLBACK_COMPLETE');
    expect((await deployed.operator('status', '--json')).json.forwarders).toMatchObject([{ state: 'MISSING', stackStatus: 'ROLLBACK_COMPLETE' }]);

    deployed.dispose();
    const elsewhere = world({ pair: greenIn('account'), latency: false });
    const unseen = (await elsewhere.operator('status', '--json')).json.forwarders;
    expect(unseen).toEqual([
      {
        account: OTHER,
        region: 'eu-central-1',
        stackName: 'ecs-dns-canary-prod-forwarder',
        state: 'UNSEEN',
        stackStatus: null,
        next: 'aws cloudformation describe-stacks --stack-name ecs-dns-canary-prod-forwarder --region eu-central-1 (with credentials of account 333333333333)',
      },
    ]);
    expect((await elsewhere.operator('status')).out).toContain('333333333333/eu-central-1  another account: your credentials cannot see its stacks; check there: aws cloudformation describe-stacks');
    // every side here: no forwarder to look for, and no call to look
    elsewhere.dispose();
    const here = world({ latency: false });
    expect((await here.operator('status', '--json')).json.forwarders).toBeUndefined();
    expect(here.sim.calls.filter((c) => c.service === 'cloudformation' || c.command === 'GetCallerIdentity')).toEqual([]);
  });
});

describe('a canary of a green in eu-central-1 of another account', () => {
  it('starts only when the forwarder is deployed there, and promotes; without it nothing starts and nothing moves', async () => {
    const w = world({ pair: greenIn('account'), latency: false });
    const [result, ...more] = await w.runCanary();
    expect(more).toEqual([]);
    expect(result!.status, `${result!.error}: ${result!.cause}`).toBe('SUCCEEDED');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 0, green: 100 });
    // the deployment event that started it is green's place's, forwarded
    expect(w.canary.deploymentEvents.filter((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED').map((e) => [e.account, e.region])).toEqual([[OTHER, 'eu-central-1']]);
    w.dispose();

    const without = world({ pair: greenIn('account'), latency: false, forwarder: () => undefined });
    expect(await without.runCanary()).toEqual([]);
    expect(without.canary.deploymentEvents).toEqual([]);
    expect(weightsOf(without.sim, without.pair)).toEqual({ blue: 100, green: 0 });
    expect(without.route53Writes()).toBe(0);
  });

  it("rolls back at once when green's own alarm fires there: the alarm crosses through the forwarder", async () => {
    const w = world({ pair: greenIn('account'), latency: false });
    w.whenGreenReaches(50, () => w.sim.place(OTHER, 'eu-central-1').cloudwatch.setState('shop-web-b-5xx', 'ALARM', 'Threshold crossed'));
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toContain('shop-web-b-5xx');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    expect(w.canary.signals.map((s: any) => [s.event.account, s.event.region, s.event.detail.alarmName])).toContainEqual([OTHER, 'eu-central-1', 'shop-web-b-5xx']);
  });
});

describe('the mutation proof (local/mutations.ts)', () => {
  it("removes each forwarder role the stack's bus policy lets in, one at a time (test/mutations.test.ts runs each against the cross-account scenarios)", () => {
    expect(mutations({ crossAccount: true }).filter((m) => m.fn === 'busPolicy').map((m) => m.removed)).toEqual(['ecs-dns-canary-prod-forwarders-444455556666 ecs-dns-canary-prod-forwarder-eu-central-1']);
  });
});
