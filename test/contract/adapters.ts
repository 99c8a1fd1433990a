/**
 * One contract for the AWS adapters (functions/lib/aws/*, the record pair and the pair
 * claims), run against two backends: the in-process simulated account (simulator.test.ts,
 * part of `npm test`) and a real moto server (moto.contract.ts, `npm run test:moto`). The
 * simulator cannot drift from AWS wire behaviour unnoticed: where the two disagree on a case
 * both run, the simulator is wrong until shown otherwise.
 *
 * Cases moto cannot follow are defined for the simulator only, and their names say why.
 * Everything is seeded through the SDK, so both backends see the same calls.
 */
import { CreateHealthCheckCommand, CreateHostedZoneCommand, ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { PutCompositeAlarmCommand, PutDashboardCommand, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudwatch, describeAlarms, getDashboard, getMetricData, putDashboard } from '../../functions/lib/aws/cloudwatch.js';
import { dynamodb } from '../../functions/lib/aws/dynamodb.js';
import { describeService, ecs, setDesiredCount } from '../../functions/lib/aws/ecs.js';
import { describeTargetGroups, describeTargetHealth, elbv2 } from '../../functions/lib/aws/elbv2.js';
import { invokeFunction } from '../../functions/lib/aws/lambda.js';
import { secrets, secretValue } from '../../functions/lib/aws/secrets.js';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { putEvent } from '../../functions/lib/aws/eventbridge.js';
import { readRecordSets, route53, route53For, ROUTE53_MAX_ATTEMPTS, waitForInsync } from '../../functions/lib/aws/route53.js';
import { sessionName } from '../../functions/lib/access.js';
import { OPERATOR_ROLE_ARN } from '../../local/sim/sts.js';
import {
  approveGate,
  claimPair,
  listClaims,
  markPromoting,
  markRollingBack,
  markStopped,
  parkToken,
  readClaim,
  recordProgress,
  releasePair,
  requestPromotion,
  requestStop,
  type PairClaim,
} from '../../functions/lib/pair-lock.js';
import { readPair, writePair, type PairRef } from '../../functions/lib/record-pair.js';
import type { SimulatedAccount } from '../../local/sim/account.js';
import { VirtualClock } from '../../local/virtual-time.js';

export type Backend = 'simulator' | 'moto';

/** Runs `work` in virtual time (retry backoff, waits, rollouts pass at once), then back to real time. */
async function inVirtualTime<T>(work: (clock: VirtualClock) => Promise<T>): Promise<T> {
  const clock = VirtualClock.install();
  try {
    return await work(clock);
  } finally {
    clock.uninstall();
  }
}

const unique = () => Math.random().toString(36).slice(2, 8);

/** A new ECS cluster with the task definition family `web` registered. */
async function newCluster(): Promise<string> {
  const cluster = `shop-${unique()}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128 }] }));
  return cluster;
}

const alias = (id: string, weight: number, lb: string, evaluate: boolean): ResourceRecordSet => ({
  Name: 'app.{zone}',
  Type: 'A',
  SetIdentifier: id,
  Weight: weight,
  AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: `${lb}.eu-west-1.elb.amazonaws.com.`, EvaluateTargetHealth: evaluate },
});

/**
 * Two subnets in two Availability Zones, and their VPC, to put a load balancer in. moto checks
 * them against its EC2 (its default VPC has one default subnet per zone), read here with one
 * raw EC2 query, as the project has no EC2 client; the simulated account has no EC2 and takes
 * any.
 */
async function network(backend: Backend): Promise<{ vpcId: string; subnets: string[] }> {
  if (backend === 'simulator') return { vpcId: 'vpc-0contract', subnets: ['subnet-0contracta', 'subnet-0contractb'] };
  const region = process.env.AWS_REGION ?? 'eu-west-1';
  const answer = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=moto`,
    },
    body: 'Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true',
  }).then((r) => r.text());
  const subnets = [...answer.matchAll(/<item>[\s\S]*?<\/item>/g)].map((m) => ({
    id: /<subnetId>([^<]+)<\/subnetId>/.exec(m[0])?.[1],
    vpc: /<vpcId>([^<]+)<\/vpcId>/.exec(m[0])?.[1],
    zone: /<availabilityZone>([^<]+)<\/availabilityZone>/.exec(m[0])?.[1],
  }));
  const [a, b] = subnets.filter((s, i) => s.id && s.vpc && subnets.findIndex((t) => t.zone === s.zone) === i);
  if (!a || !b) throw new Error(`moto's EC2 has no two default subnets in ${region}: ${answer.slice(0, 500)}`);
  return { vpcId: a.vpc!, subnets: [a.id!, b.id!] };
}

/**
 * `account` is the simulated account behind the clients (simulator backend only): the
 * simulator-only cases use it to inject faults and to read its clocks' settings.
 */
export function adapterContract(backend: Backend, account?: () => SimulatedAccount): void {
  const simulatorOnly = backend === 'simulator';
  const sim = () => account?.() ?? expect.fail('simulator-only cases need the simulated account');

  describe(`Route53 adapter [${backend}]`, () => {
    const ref = async (sets: ResourceRecordSet[], type = 'A'): Promise<PairRef> => {
      const zone = await route53.send(new CreateHostedZoneCommand({ Name: `${unique()}.example.com`, CallerReference: unique() }));
      const hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
      const apex = zone.HostedZone!.Name!.replace(/\.?$/, '.');
      if (sets.length)
        await route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: { Changes: sets.map((s) => ({ Action: 'CREATE', ResourceRecordSet: { ...s, Name: s.Name!.replace('{zone}', apex) } })) },
          }),
        );
      return { hostedZoneId, recordName: `app.${apex}`, recordType: type, blueSetIdentifier: 'blue', greenSetIdentifier: 'green' };
    };
    const other = (sets: ResourceRecordSet[]) => sets.map(({ Weight: _weight, ...rest }) => rest);

    it('weighted alias records: read, UPSERT both in one batch, every other field preserved', async () => {
      const pairRef = await ref([alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', false)]);
      const before = await readPair(pairRef);
      expect(before.weights).toEqual({ blue: 100, green: 0 });
      const changeId = await writePair(pairRef, before, { blue: 75, green: 25 }, 'contract');
      expect(changeId).toMatch(/^(\/change\/)?C[A-Z0-9]+$/);
      await waitForInsync(changeId, 30);
      const after = await readPair(pairRef);
      expect(after.weights).toEqual({ blue: 75, green: 25 });
      expect(other([after.blue, after.green])).toEqual(other([before.blue, before.green]));
      expect(after.blue.AliasTarget).toEqual({ HostedZoneId: 'Z32O12XQLNTSW2', DNSName: expect.stringMatching(/^lb-blue\.eu-west-1\.elb\.amazonaws\.com\.?$/), EvaluateTargetHealth: true });
    });

    it('plain weighted records: TTL, several ResourceRecords and HealthCheckId survive the UPSERT', async () => {
      const hc = await route53.send(new CreateHealthCheckCommand({ CallerReference: unique(), HealthCheckConfig: { Type: 'TCP', IPAddress: '10.0.0.1', Port: 80 } }));
      const plain = (id: string, weight: number, values: string[], healthCheck?: string): ResourceRecordSet => ({
        Name: 'app.{zone}',
        Type: 'A',
        SetIdentifier: id,
        Weight: weight,
        TTL: 60,
        ResourceRecords: values.map((Value) => ({ Value })),
        ...(healthCheck ? { HealthCheckId: healthCheck } : {}),
      });
      const pairRef = await ref([plain('blue', 100, ['10.0.0.1', '10.0.0.2'], hc.HealthCheck!.Id), plain('green', 0, ['10.0.1.1'])]);
      const before = await readPair(pairRef);
      await writePair(pairRef, before, { blue: 0, green: 100 }, 'contract');
      const after = await readPair(pairRef);
      expect(after.weights).toEqual({ blue: 0, green: 100 });
      expect(other([after.blue, after.green])).toEqual(other([before.blue, before.green]));
      expect(after.blue).toMatchObject({ TTL: 60, HealthCheckId: hc.HealthCheck!.Id, ResourceRecords: [{ Value: '10.0.0.1' }, { Value: '10.0.0.2' }] });
    });

    it('reads only the record sets of its name and type', async () => {
      const pairRef = await ref([
        alias('blue', 100, 'lb-blue', true),
        alias('green', 0, 'lb-green', true),
        { Name: 'app.{zone}', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=1"' }] },
        { Name: 'zzz.{zone}', Type: 'A', SetIdentifier: 'blue', Weight: 1, TTL: 300, ResourceRecords: [{ Value: '10.9.9.9' }] },
        { Name: 'aaa.{zone}', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '10.8.8.8' }] },
      ]);
      const sets = await readRecordSets(pairRef);
      expect(sets.map((s) => [s.Name, s.Type, s.SetIdentifier]).sort()).toEqual([
        [pairRef.recordName, 'A', 'blue'],
        [pairRef.recordName, 'A', 'green'],
      ]);
    });

    it.each<[string, ResourceRecordSet[], string]>([
      ['RecordNotFound when the name has no records', [], 'RecordNotFound'],
      ['RecordNotFound when one SetIdentifier is missing', [alias('blue', 100, 'lb-blue', true)], 'RecordNotFound'],
      ['RecordNotWeighted for a simple record', [{ Name: 'app.{zone}', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] }], 'RecordNotWeighted'],
      ['UnexpectedRecordSet for a third SetIdentifier', [alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', true), alias('canary', 0, 'lb-x', true)], 'UnexpectedRecordSet'],
    ])('%s', async (_, sets, error) => {
      await expect(readPair(await ref(sets))).rejects.toMatchObject({ name: error });
    });

    it('HostedZoneNotFound for a zone that does not exist', async () => {
      await expect(readPair({ hostedZoneId: 'Z0DOESNOTEXIST', recordName: 'app.example.com.', recordType: 'A', blueSetIdentifier: 'blue', greenSetIdentifier: 'green' })).rejects.toMatchObject({
        name: 'HostedZoneNotFound',
      });
    });

    const createAgain = async (patch: Partial<ResourceRecordSet>) => {
      const pairRef = await ref([alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', true)]);
      const existing = { ...alias('blue', 100, 'lb-blue', true), Name: pairRef.recordName, ...patch };
      return route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: pairRef.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: existing }] } }));
    };

    it('CREATE of a record set that exists, identical, is refused (InvalidChangeBatch)', async () => {
      await expect(createAgain({})).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    });

    if (simulatorOnly) {
      it('CREATE over an existing record set with other values is refused [simulator only: moto adds a second record set with the same SetIdentifier; Route53 refuses a CREATE of any existing name/type/SetIdentifier]', async () => {
        await expect(createAgain({ Weight: 1, AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: 'lb-x.eu-west-1.elb.amazonaws.com.', EvaluateTargetHealth: false } })).rejects.toMatchObject({
          name: 'InvalidChangeBatch',
        });
      });

      it('a change is PENDING first, then INSYNC [simulator only: moto reports every change INSYNC at once]', async () => {
        const pairRef = await ref([alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', true)]);
        const pair = await readPair(pairRef);
        const started = Date.now();
        await waitForInsync(await writePair(pairRef, pair, { blue: 50, green: 50 }, 'contract'), 30);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      });

      it('a change still PENDING after the wait is Route53ChangeNotInSync [simulator only: moto reports every change INSYNC at once]', async () => {
        const pairRef = await ref([alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', true)]);
        const changeId = await writePair(pairRef, await readPair(pairRef), { blue: 90, green: 10 }, 'contract');
        const route53Model = sim().route53;
        const delay = route53Model.insyncDelayMs;
        route53Model.insyncDelayMs = 10 * 60_000;
        try {
          await inVirtualTime((clock) => expect(clock.run(waitForInsync(changeId, 60))).rejects.toMatchObject({ name: 'Route53ChangeNotInSync' }));
        } finally {
          route53Model.insyncDelayMs = delay;
        }
      });

      const throttled = async (times: number, weights: { blue: number; green: number }) => {
        const pairRef = await ref([alias('blue', 100, 'lb-blue', true), alias('green', 0, 'lb-green', true)]);
        const pair = await readPair(pairRef);
        const attempts = () => sim().count('route53', 'ChangeResourceRecordSets', { includeErrors: true });
        const before = attempts();
        sim().inject({ service: 'route53', command: 'ChangeResourceRecordSets', error: 'Throttling', message: 'Rate exceeded', times });
        const outcome = await inVirtualTime((clock) => clock.run(writePair(pairRef, pair, weights, 'contract')).then(() => 'written', (e: Error) => e.name));
        return { outcome, attempts: attempts() - before, after: (await readPair(pairRef)).weights };
      };

      it('Throttling is retried by the SDK: all but the last attempt throttled, the last goes through [simulator only: moto never throttles]', async () => {
        expect(await throttled(ROUTE53_MAX_ATTEMPTS - 1, { blue: 60, green: 40 })).toEqual({ outcome: 'written', attempts: ROUTE53_MAX_ATTEMPTS, after: { blue: 60, green: 40 } });
      });

      it('Throttling on every attempt is Route53Throttled, and the weights are unchanged [simulator only: moto never throttles]', async () => {
        expect(await throttled(ROUTE53_MAX_ATTEMPTS, { blue: 60, green: 40 })).toEqual({ outcome: 'Route53Throttled', attempts: ROUTE53_MAX_ATTEMPTS, after: { blue: 100, green: 0 } });
      });

      it.each<[string, Partial<ResourceRecordSet>]>([
        ['a weight above 255', { Weight: 256 }],
        ['a negative weight', { Weight: -1 }],
        ['a weighted record without SetIdentifier', { SetIdentifier: undefined }],
      ])('refuses %s (InvalidInput) [simulator only: moto accepts it]', async (_, patch) => {
        const pairRef = await ref([]);
        await expect(
          route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: pairRef.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { ...alias('blue', 1, 'lb', true), Name: pairRef.recordName, ...patch } }] } })),
        ).rejects.toMatchObject({ name: 'InvalidInput' });
      });

      it('refuses weighted non-alias records of one name with different TTLs [simulator only: moto accepts them]', async () => {
        const pairRef = await ref([]);
        const plain = (id: string, ttl: number): ResourceRecordSet => ({ Name: pairRef.recordName, Type: 'A', SetIdentifier: id, Weight: 1, TTL: ttl, ResourceRecords: [{ Value: '10.0.0.1' }] });
        await expect(
          route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: pairRef.hostedZoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: plain('blue', 60) }, { Action: 'CREATE', ResourceRecordSet: plain('green', 300) }] } })),
        ).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
      });
    }
  });

  describe(`Route53 through a role in another account (STS AssumeRole) [${backend}]`, () => {
    const DNS_ACCOUNT = '222222222222';
    it("AssumeRole with an ExternalId gives credentials that read, UPSERT and GetChange in the role's account; the stack's account has no such zone", async () => {
      const roleArn = `arn:aws:iam::${DNS_ACCOUNT}:role/dns-${unique()}`;
      const access = { role: { roleArn, externalId: 'contract-external-id' }, session: sessionName('contract', 'cli@contract') };
      const apex = `${unique()}.example.com.`;
      const records = (['blue', 'green'] as const).map((id, i) => ({ ...alias(id, i === 0 ? 100 : 0, `lb-${id}`, false), Name: `app.${apex}` }));
      let hostedZoneId: string;
      if (backend === 'simulator') {
        // the DNS account's admin makes the zone and the role (the simulator has no IAM API)
        const other = sim().addAccount(DNS_ACCOUNT);
        other.route53.insyncDelayMs = sim().route53.insyncDelayMs;
        const zone = other.route53.createHostedZone({ Name: apex });
        hostedZoneId = zone.HostedZone.Id.replace('/hostedzone/', '');
        other.route53.changeResourceRecordSets({ HostedZoneId: hostedZoneId, ChangeBatch: { Changes: records.map((r) => ({ Action: 'CREATE', ResourceRecordSet: r })) } });
        other.createRole({
          arn: roleArn,
          trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: [OPERATOR_ROLE_ARN] }, Action: ['sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': ['contract-external-id'] } } }] },
          permissionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets', 'route53:GetChange'], Resource: ['*'] }] },
        });
      } else {
        // moto acts in the account of the role whose credentials sign a request (its multi-account support): the DNS account's admin
        const admin = route53For({ role: { roleArn: `arn:aws:iam::${DNS_ACCOUNT}:role/admin` }, session: 'contract-admin' });
        const zone = await admin.send(new CreateHostedZoneCommand({ Name: apex, CallerReference: unique() }));
        hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
        await admin.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ChangeBatch: { Changes: records.map((r) => ({ Action: 'CREATE', ResourceRecordSet: r })) } }));
      }
      const pairRef: PairRef = { hostedZoneId, recordName: `app.${apex}`, recordType: 'A', blueSetIdentifier: 'blue', greenSetIdentifier: 'green', access };
      const before = await readPair(pairRef);
      expect(before.weights).toEqual({ blue: 100, green: 0 });
      const changeId = await writePair(pairRef, before, { blue: 75, green: 25 }, 'contract');
      await waitForInsync(changeId, 30, access);
      expect((await readPair(pairRef)).weights).toEqual({ blue: 75, green: 25 });
      // the same zone id in the stack's own account, with its own credentials: not there
      await expect(readPair({ ...pairRef, access: undefined })).rejects.toMatchObject({ name: 'HostedZoneNotFound' });
    });
  });

  describe(`ECS adapter [${backend}]`, () => {
    let cluster: string;
    beforeAll(async () => {
      cluster = await newCluster();
    });

    it('reads a new service: status, counts, task definition and its PRIMARY deployment', async () => {
      const created = await ecs.send(new CreateServiceCommand({ cluster, serviceName: 'web-a', taskDefinition: 'web', desiredCount: 2 }));
      const s = await describeService(cluster, 'web-a');
      expect(s).toMatchObject({ cluster, service: 'web-a', status: 'ACTIVE', desiredCount: 2, runningCount: 0, taskDefinition: created.service!.taskDefinition });
      expect(s.taskDefinition).toMatch(/:task-definition\/web:\d+$/);
      expect(s.deployments).toHaveLength(1);
      expect(s.deployments[0]).toMatchObject({ status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: s.taskDefinition, desiredCount: 2, runningCount: 0 });
      expect(s.deployments[0]!.id).toMatch(/^ecs-svc\/\d+$/);
    });

    it('ServiceNotFound for a service that does not exist', async () => {
      await expect(describeService(cluster, 'nope')).rejects.toMatchObject({ name: 'ServiceNotFound', message: expect.stringContaining('(MISSING)') });
    });

    it('ServiceNotFound for a cluster that does not exist (ECS fails the whole call with ClusterNotFoundException)', async () => {
      await expect(describeService(`nope-${unique()}`, 'web-a')).rejects.toMatchObject({ name: 'ServiceNotFound', message: expect.stringContaining('cluster nope-') });
    });

    if (simulatorOnly)
      it('a deployment rolls out over time: COMPLETED, every desired task running [simulator only: moto keeps the counts CreateService gave, forever]', async () => {
        await inVirtualTime(async (clock) => {
          await clock.run(ecs.send(new CreateServiceCommand({ cluster, serviceName: 'web-b', taskDefinition: 'web', desiredCount: 3 })));
          expect(await clock.run(describeService(cluster, 'web-b'))).toMatchObject({ runningCount: 0, deployments: [{ status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 0 }] });
          await clock.advance(sim().ecs.rolloutMs);
          expect(await clock.run(describeService(cluster, 'web-b'))).toMatchObject({
            runningCount: 3,
            deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED', desiredCount: 3, runningCount: 3 }],
          });
        });
      });
  });

  describe(`ECS scaling, target health, hooks and secrets [${backend}]`, () => {
    let cluster: string;
    beforeAll(async () => {
      cluster = await newCluster();
    });

    it('sets a service\'s desired count (UpdateService)', async () => {
      await ecs.send(new CreateServiceCommand({ cluster, serviceName: 'idle', taskDefinition: 'web', desiredCount: 3 }));
      await setDesiredCount(cluster, 'idle', 0);
      expect(await describeService(cluster, 'idle')).toMatchObject({ desiredCount: 0 });
    });

    it('reads a secret by name and by ARN; a missing one is ResourceNotFoundException', async () => {
      const name = `smoke/${unique()}`;
      const created = await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'Bearer t0ken' }));
      expect(await secretValue(name)).toBe('Bearer t0ken');
      expect(await secretValue(created.ARN!)).toBe('Bearer t0ken');
      expect(created.ARN).toMatch(new RegExp(`:secret:${name}-[A-Za-z0-9]{6}$`));
      await expect(secretValue(`nope/${unique()}`)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    if (simulatorOnly) {
      it("reads the health of every target of a service's target group, naming the unhealthy ones [simulator only: moto's ECS registers no tasks with target groups]", async () => {
        const tg = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-${unique()}/0123456789abcdef`;
        await inVirtualTime(async (clock) => {
          await clock.run(ecs.send(new CreateServiceCommand({ cluster, serviceName: 'lb', taskDefinition: 'web', desiredCount: 2, loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 8080 }] })));
          await clock.advance(sim().ecs.rolloutMs);
          expect((await clock.run(describeService(cluster, 'lb'))).targetGroups).toEqual([tg]);
          sim().elbv2.setUnhealthy(tg, 1);
          expect(await clock.run(describeTargetHealth(tg))).toEqual([
            { targetGroupArn: tg, target: expect.stringMatching(/:8080$/), state: 'unhealthy', reason: 'Target.ResponseCodeMismatch: Health checks failed with these codes: [502]' },
            { targetGroupArn: tg, target: expect.stringMatching(/:8080$/), state: 'healthy', reason: '' },
          ]);
        });
      });

      it('invokes a hook: its answer, its error (FunctionError), a missing function, no answer in time [simulator only: moto runs Lambda functions in Docker, which this machine lacks]', async () => {
        const arn = (n: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${n}-${unique()}`;
        const [ok, failing, slow] = [arn('ok'), arn('failing'), arn('slow')];
        sim().lambda.define(ok, (event) => ({ seen: event }));
        sim().lambda.define(failing, () => Promise.reject(Object.assign(new Error('boom'), { name: 'CheckFailed' })));
        sim().lambda.define(slow, () => new Promise(() => undefined));
        expect(await invokeFunction(ok, { a: 1 }, 5_000)).toEqual({ payload: { seen: { a: 1 } } });
        expect(await invokeFunction(failing, {}, 5_000)).toMatchObject({ functionError: 'CheckFailed: boom' });
        await expect(invokeFunction(arn('missing'), {}, 5_000)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
        await inVirtualTime(async (clock) => {
          await expect(clock.run(invokeFunction(slow, {}, 30_000))).rejects.toThrow('no answer within 30 s');
        });
      });
    }
  });

  describe(`CloudWatch adapter [${backend}]`, () => {
    const metricAlarm = (name: string) =>
      cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'Canary/Contract', MetricName: 'Errors', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));

    it('reads metric alarms in the state SetAlarmState gave them, and names the missing ones', async () => {
      const [ok, bad] = [`ok-${unique()}`, `bad-${unique()}`];
      await metricAlarm(ok);
      await metricAlarm(bad);
      await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: ok, StateValue: 'OK', StateReason: 'fine' }));
      await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: bad, StateValue: 'ALARM', StateReason: 'Threshold Crossed' }));
      const { alarms, missing } = await describeAlarms([ok, bad, 'no-such-alarm']);
      expect(alarms.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        [
          { name: ok, kind: 'metric', state: 'OK', reason: 'fine' },
          { name: bad, kind: 'metric', state: 'ALARM', reason: 'Threshold Crossed' },
        ].sort((a, b) => a.name.localeCompare(b.name)),
      );
      expect(missing).toEqual(['no-such-alarm']);
    });

    it('more than 100 names (the most one DescribeAlarms takes) are all read, page after page', async () => {
      const prefix = `many-${unique()}`;
      const names = Array.from({ length: 120 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
      for (const name of names) await metricAlarm(name);
      await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: names[110]!, StateValue: 'ALARM', StateReason: 'late in the list' }));
      const { alarms, missing } = await describeAlarms([...names, `${prefix}-missing`]);
      expect(alarms.map((a) => a.name).sort()).toEqual(names);
      expect(alarms.find((a) => a.name === names[110])).toEqual({ name: names[110], kind: 'metric', state: 'ALARM', reason: 'late in the list' });
      expect(missing).toEqual([`${prefix}-missing`]);
    });

    if (simulatorOnly)
      it('a new metric alarm is INSUFFICIENT_DATA until it is evaluated [simulator only: moto starts new alarms in OK; CloudWatch starts them in INSUFFICIENT_DATA]', async () => {
        const name = `new-${unique()}`;
        await metricAlarm(name);
        expect(await describeAlarms([name])).toEqual({ alarms: [{ name, kind: 'metric', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation' }], missing: [] });
      });

    if (simulatorOnly)
      it('a composite alarm follows its rule over its children [simulator only: moto has no composite alarms]', async () => {
        const child = `child-${unique()}`;
        const parent = `parent-${unique()}`;
        await metricAlarm(child);
        await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: child, StateValue: 'OK', StateReason: 'fine' }));
        await cloudwatch.send(new PutCompositeAlarmCommand({ AlarmName: parent, AlarmRule: `ALARM("${child}")` }));
        expect((await describeAlarms([parent])).alarms[0]).toMatchObject({ kind: 'composite', state: 'OK' });
        await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: child, StateValue: 'ALARM', StateReason: 'bad' }));
        expect((await describeAlarms([parent])).alarms[0]).toMatchObject({ kind: 'composite', state: 'ALARM' });
      });
  });

  describe(`CloudWatch dashboards adapter [${backend}]`, () => {
    const body = (pair: string) => ({
      widgets: [
        { type: 'text', x: 0, y: 0, width: 24, height: 3, properties: { markdown: `# ${pair}` } },
        { type: 'metric', x: 0, y: 3, width: 12, height: 6, properties: { title: 'weight', region: 'eu-west-1', metrics: [['ecs-dns-canary', 'GreenWeight', 'stage', 'prod', 'pair', pair, { stat: 'Maximum' }]] } },
      ],
    });

    it('writes a dashboard, reads back the body it was given, and replaces it whole; a missing one reads as none', async () => {
      const name = `ecs-dns-canary-contract-${unique()}`;
      expect(await putDashboard(name, body('a'))).toEqual([]);
      expect(await getDashboard(name)).toEqual(body('a'));
      await putDashboard(name, body('b'));
      expect(await getDashboard(name)).toEqual(body('b'));
      expect(await getDashboard(`${name}-missing`)).toBeUndefined();
    });

    it('a body that is not JSON is refused (DashboardInvalidInputError)', async () => {
      await expect(cloudwatch.send(new PutDashboardCommand({ DashboardName: `contract-${unique()}`, DashboardBody: '{"widgets": [' }))).rejects.toMatchObject({ name: 'DashboardInvalidInputError' });
    });

    if (simulatorOnly)
      it('a body without widgets, or with a widget off the 24-column grid, is refused [simulator only: moto checks only that the body is JSON]', async () => {
        await expect(putDashboard(`contract-${unique()}`, { start: '-PT3H' })).rejects.toMatchObject({ name: 'DashboardInvalidInputError' });
        await expect(putDashboard(`contract-${unique()}`, { widgets: [{ type: 'text', x: 20, width: 12, height: 3, properties: { markdown: 'x' } }] })).rejects.toMatchObject({ name: 'DashboardInvalidInputError', message: expect.stringContaining('/widgets/0/x') });
      });
  });

  describe(`CloudWatch metrics adapter (GetMetricData) [${backend}]`, () => {
    const MINUTE = 60_000;
    // On a minute, a while ago: within the two weeks PutMetricData takes, in both backends' (real) time.
    const base = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;
    const namespace = `Canary/Contract-${unique()}`;
    const side = [
      { Name: 'LoadBalancer', Value: 'app/contract-alb/0123456789abcdef' },
      { Name: 'TargetGroup', Value: 'targetgroup/contract/0123456789abcdef' },
    ];
    const query = (Id: string, MetricName: string, Stat: string, Dimensions = side): MetricDataQuery => ({
      Id,
      MetricStat: { Metric: { Namespace: namespace, MetricName, Dimensions }, Period: 60, Stat },
    });
    const at = (ms: number) => new Date(base + ms);
    beforeAll(async () => {
      const datum = (MetricName: string, ms: number, value: number) => ({ MetricName, Dimensions: side, Timestamp: at(ms), Value: value });
      await cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: namespace,
          MetricData: [
            datum('RequestCount', 0, 100),
            datum('RequestCount', 20_000, 50), // the same minute: summed
            datum('RequestCount', MINUTE, 120),
            datum('RequestCount', 3 * MINUTE + 59_000, 90),
            datum('RequestCount', 5 * MINUTE, 999), // at EndTime: left out
            datum('HTTPCode_Target_5XX_Count', MINUTE, 3),
            // 1..100 ms in the first minute, 200 ms in the second
            { MetricName: 'TargetResponseTime', Dimensions: side, Timestamp: at(0), Values: Array.from({ length: 100 }, (_, i) => (i + 1) / 1000), Unit: 'Seconds' },
            { MetricName: 'TargetResponseTime', Dimensions: side, Timestamp: at(MINUTE), Values: [0.2], Counts: [4], Unit: 'Seconds' },
          ],
        }),
      );
    });

    it('Sum per minute (Period 60), stamped with the minute, oldest first; StartTime inclusive, EndTime exclusive; a series with no data is empty', async () => {
      const series = await getMetricData([query('requests', 'RequestCount', 'Sum'), query('errors', 'HTTPCode_Target_5XX_Count', 'Sum'), query('none', 'HTTPCode_ELB_5XX_Count', 'Sum')], at(0), at(5 * MINUTE));
      expect(series.get('requests')).toEqual({ timestamps: [at(0), at(MINUTE), at(3 * MINUTE)], values: [150, 120, 90] });
      expect(series.get('errors')).toEqual({ timestamps: [at(MINUTE)], values: [3] });
      expect(series.get('none')).toEqual({ timestamps: [], values: [] });
    });

    it('Average and SampleCount from the values put; a query names the full dimension set (a subset finds nothing)', async () => {
      const series = await getMetricData(
        [query('avg', 'TargetResponseTime', 'Average'), query('n', 'TargetResponseTime', 'SampleCount'), query('lb', 'RequestCount', 'Sum', [side[0]!])],
        at(0),
        at(5 * MINUTE),
      );
      expect(series.get('avg')!.timestamps).toEqual([at(0), at(MINUTE)]);
      expect(series.get('avg')!.values[0]).toBeCloseTo(0.0505, 10);
      expect(series.get('avg')!.values[1]).toBeCloseTo(0.2, 10);
      expect(series.get('n')!.values).toEqual([100, 4]);
      expect(series.get('lb')).toEqual({ timestamps: [], values: [] });
    });

    if (simulatorOnly) {
      it('p99 and p50 of the values put [simulator only: moto computes no percentiles (GetMetricData with a pNN statistic fails there with an internal error)]', async () => {
        const series = await getMetricData([query('p99', 'TargetResponseTime', 'p99'), query('p50', 'TargetResponseTime', 'p50')], at(0), at(5 * MINUTE));
        expect(series.get('p99')).toEqual({ timestamps: [at(0), at(MINUTE)], values: [0.099, 0.2] });
        expect(series.get('p50')!.values).toEqual([0.05, 0.2]);
      });

      it('StartTime and EndTime are rounded down to the minute [simulator only: moto does not round them]', async () => {
        const series = await getMetricData([query('requests', 'RequestCount', 'Sum')], at(30_000), at(3 * MINUTE + 59_000));
        // 00:30 -> 00:00 keeps the first minute; 03:59 -> 03:00 (exclusive) leaves out the fourth
        expect(series.get('requests')).toEqual({ timestamps: [at(0), at(MINUTE)], values: [150, 120] });
      });
    }
  });

  describe(`ELBv2 target groups adapter [${backend}]`, () => {
    const tail = (arn: string) => arn.split(':').at(-1)!;
    /** A load balancer, and target groups of which the first `forwarded` get its listener's traffic. */
    const create = async (type: 'application' | 'network', groups: number, forwarded: number) => {
      const { vpcId, subnets } = await network(backend);
      const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: `lb-${unique()}`, Subnets: subnets, Type: type }));
      const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
      const protocol = type === 'network' ? 'TCP' : 'HTTP';
      const tgs: string[] = [];
      for (let i = 0; i < groups; i++) {
        const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: `tg-${unique()}`, Protocol: protocol, Port: 8080, VpcId: vpcId, TargetType: 'ip' }));
        tgs.push(tg.TargetGroups![0]!.TargetGroupArn!);
      }
      if (forwarded > 0)
        await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: protocol, Port: 80, DefaultActions: tgs.slice(0, forwarded).map((TargetGroupArn) => ({ Type: 'forward', TargetGroupArn })) }));
      return { lbArn, tgs };
    };

    it("a target group with its ALB, as CloudWatch's dimensions name them (ARN tails), and its protocol; one without a load balancer; in the order asked", async () => {
      const { lbArn, tgs } = await create('application', 2, 1);
      expect(lbArn).toMatch(/:loadbalancer\/app\/lb-[a-z0-9]+\/[0-9a-f]{16}$/);
      const groups = await describeTargetGroups([tgs[1]!, tgs[0]!]);
      expect(groups).toEqual([
        { arn: tgs[1], targetGroup: tail(tgs[1]!), loadBalancers: [], protocol: 'HTTP' },
        { arn: tgs[0], targetGroup: tail(tgs[0]!), loadBalancers: [{ arn: lbArn, dimension: lbArn.split(':loadbalancer/')[1], type: 'application' }], protocol: 'HTTP' },
      ]);
      expect(groups[1]!.targetGroup).toMatch(/^targetgroup\/tg-[a-z0-9]+\/[0-9a-f]{16}$/);
      expect(groups[1]!.loadBalancers[0]!.dimension).toMatch(/^app\/lb-[a-z0-9]+\/[0-9a-f]{16}$/);
    });

    it('a target group that does not exist fails the read: TargetGroupNotFound (TargetGroupNotFoundException, as the SDK names it)', async () => {
      const { tgs } = await create('application', 1, 0);
      await expect(describeTargetGroups([tgs[0]!, tgs[0]!.replace(/[0-9a-f]{16}$/, '0000000000000000')])).rejects.toMatchObject({ name: 'TargetGroupNotFoundException', Code: 'TargetGroupNotFound' });
    });

    if (simulatorOnly)
      it("a network load balancer is loadbalancer/net/..., type network [simulator only: moto names every load balancer's ARN loadbalancer/app/]", async () => {
        const { lbArn, tgs } = await create('network', 1, 1);
        expect(await describeTargetGroups(tgs)).toEqual([{ arn: tgs[0], targetGroup: tail(tgs[0]!), loadBalancers: [{ arn: lbArn, dimension: expect.stringMatching(/^net\/lb-/), type: 'network' }], protocol: 'TCP' }]);
      });
  });

  describe(`EventBridge adapter [${backend}]`, () => {
    it('puts an event on the default bus and returns its id, one per event', async () => {
      const first = await putEvent('ecs-dns-canary', 'Started', { pair: 'contract' });
      const second = await putEvent('ecs-dns-canary', 'Started', { pair: 'contract' });
      expect(first).toMatch(/\S/);
      expect(second).toMatch(/\S/);
      expect(second).not.toBe(first);
    });

    it('throws when EventBridge fails the entry (FailedEntryCount), naming the error code', async () => {
      await expect(putEvent('', 'Started', { pair: 'contract' })).rejects.toThrow(/^PutEvents rejected Started: InvalidArgument /);
    });
  });

  describe(`pair claims on DynamoDB [${backend}]`, () => {
    const table = `claims-${unique()}`;
    beforeAll(async () => {
      await dynamodb.send(
        new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pair', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pair', KeyType: 'HASH' }] }),
      );
      process.env.LOCK_TABLE = table;
    });
    const claim = (executionArn: string, expiresAt = Math.floor(Date.now() / 1000) + 3600): PairClaim => ({
      pair: 'shop',
      executionArn,
      deploymentId: 'ecs-svc/1',
      blue: { cluster: 'c', service: 'a', setIdentifier: 'a' },
      green: { cluster: 'c', service: 'b', setIdentifier: 'b', taskDefinition: 'td' },
      hostedZoneId: 'Z1',
      recordName: 'app.example.com.',
      recordType: 'A',
      steps: [10, 100],
      phase: 'CANARY',
      claimedAt: new Date().toISOString(),
      expiresAt,
    });

    it('one holder at a time: claim, refuse another, re-claim by the holder, release', async () => {
      expect(await claimPair(claim('run-1'))).toEqual({ claimed: true });
      const refused = await claimPair(claim('run-2'));
      expect(refused).toMatchObject({ claimed: false, holder: { executionArn: 'run-1', phase: 'CANARY' } });
      expect(await claimPair(claim('run-1'))).toEqual({ claimed: true });
      expect(await releasePair('shop', 'run-2')).toBe(false);
      expect(await markPromoting('shop', 'run-2')).toBeUndefined();
      expect(await markPromoting('shop', 'run-1')).toBeDefined();
      expect((await readClaim('shop'))?.phase).toBe('PROMOTING');
      expect(await markPromoting('shop', 'run-1')).toBeDefined(); // a retried Promote
      expect(await markStopped('shop', 'run-1')).toBe(true);
      expect(await markPromoting('shop', 'run-1')).toBeUndefined(); // fenced off by the safety net
      expect(await releasePair('shop', 'run-1')).toBe(true);
      expect(await readClaim('shop')).toBeUndefined();
    });

    it('an expired claim is free to take', async () => {
      expect(await claimPair(claim('old', Math.floor(Date.now() / 1000) - 10))).toEqual({ claimed: true });
      expect(await claimPair(claim('new'))).toEqual({ claimed: true });
      expect((await readClaim('shop'))?.executionArn).toBe('new');
      await releasePair('shop', 'new');
    });

    it("the running canary's conditional writes: tokens, a stop asked once, promote refused after it, gates, progress", async () => {
      expect(await claimPair(claim('run-1'))).toEqual({ claimed: true });
      expect((await parkToken('shop', 'run-1', 'listen', 'T1'))?.listenToken).toBe('T1');
      expect(await parkToken('shop', 'run-2', 'listen', 'T2')).toBeUndefined(); // not the holder
      await recordProgress('shop', 'run-1', { step: 2, of: 4, greenPercent: 25, gate: 'WAITING' });
      expect((await approveGate('shop', 'run-1', { step: 2, by: 'ann', at: 'now' }))?.approved).toEqual({ step: 2, by: 'ann', at: 'now' });
      expect((await requestPromotion('shop', 'run-1', { by: 'ann', at: 'now' }))?.promoteRequested).toEqual({ by: 'ann', at: 'now' });
      const stopped = await requestStop('shop', 'run-1', { error: 'AlarmFired', cause: 'alarm a', by: 'EventBridge', at: 'now' });
      expect(stopped).toMatchObject({ listenToken: 'T1', stopRequested: { error: 'AlarmFired' }, progress: { step: 2, gate: 'WAITING' } });
      // only the first stop counts; nothing else is granted once a stop is asked
      expect(await requestStop('shop', 'run-1', { error: 'AbortedByOperator', cause: 'x', by: 'bob', at: 'now' })).toBeUndefined();
      expect(await parkToken('shop', 'run-1', 'gate', 'G1')).toBeUndefined();
      expect(await markPromoting('shop', 'run-1')).toBeUndefined();
      expect((await markRollingBack('shop', 'run-1'))?.phase).toBe('ROLLING_BACK');
      expect((await readClaim('shop'))?.stopRequested?.error).toBe('AlarmFired');
      expect(await releasePair('shop', 'run-1')).toBe(true);
    });

    it('lists every claim (the sweep), with the time a stopped run was fenced', async () => {
      const other = (pair: string, executionArn: string) => ({ ...claim(executionArn), pair });
      for (let i = 0; i < 3; i++) expect(await claimPair(other(`pair-${i}`, `run-${i}`))).toEqual({ claimed: true });
      const before = Math.floor(Date.now() / 1000);
      expect(await markStopped('pair-1', 'run-1')).toBe(true);
      const listed = await listClaims();
      expect(listed.map((c) => c.pair).sort()).toEqual(['pair-0', 'pair-1', 'pair-2']);
      const stopped = listed.find((c) => c.pair === 'pair-1')!;
      expect(stopped.phase).toBe('STOPPED');
      expect(stopped.stoppedAt).toBeGreaterThanOrEqual(before);
      for (let i = 0; i < 3; i++) await releasePair(`pair-${i}`, `run-${i}`);
      expect(await listClaims()).toEqual([]);
    });
  });
}
