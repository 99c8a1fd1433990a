import { describe, expect, it } from 'vitest';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { EcsDeploymentEvent } from '../local/sim/ecs.js';
import { examplePair, world, type World } from './helpers.js';

type Setup = (w: World) => void;
type Mutate = (event: EcsDeploymentEvent, w: World) => unknown;

const weightedSets = (w: World) => w.sim.route53.recordSets(w.pair.hostedZoneId).filter((r) => r.Type === 'A');
const change = (w: World, changes: { Action: 'CREATE' | 'DELETE' | 'UPSERT'; ResourceRecordSet: ResourceRecordSet }[]) =>
  w.sim.route53.changeResourceRecordSets({ HostedZoneId: w.pair.hostedZoneId, ChangeBatch: { Changes: changes } });
const setWeights = (w: World, blue: number, green: number) =>
  change(w, weightedSets(w).map((r) => ({ Action: 'UPSERT', ResourceRecordSet: { ...r, Weight: r.SetIdentifier === w.green.setIdentifier ? green : blue } })));

const cases: [string, string, { setup?: Setup; mutate?: Mutate }][] = [
  ['MalformedEvent', 'an event that is not an ECS deployment event', { mutate: () => ({ hello: 'world' }) }],
  ['MalformedEvent', 'an IN_PROGRESS event', { mutate: (e) => ({ ...e, detail: { ...e.detail, eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' } }) }],
  ['MalformedEvent', 'a FAILED event', { mutate: (e) => ({ ...e, detail: { ...e.detail, eventName: 'SERVICE_DEPLOYMENT_FAILED' } }) }],
  ['UnknownService', 'a service in no pair', { mutate: (e) => ({ ...e, resources: [e.resources[0].replace('shop-web-b', 'billing')] }) }],
  ['HostedZoneNotFound', 'a missing hosted zone', { setup: (w) => w.sim.route53.deleteHostedZone(w.pair.hostedZoneId) }],
  ['RecordNotFound', 'no records of the name', { setup: (w) => change(w, weightedSets(w).map((r) => ({ Action: 'DELETE', ResourceRecordSet: r }))) }],
  [
    'RecordNotFound',
    'only one of the two weighted records',
    { setup: (w) => change(w, weightedSets(w).filter((r) => r.SetIdentifier === w.green.setIdentifier).map((r) => ({ Action: 'DELETE', ResourceRecordSet: r }))) },
  ],
  [
    'RecordNotWeighted',
    'a simple (not weighted) record',
    {
      setup: (w) =>
        change(w, [
          ...weightedSets(w).map((r) => ({ Action: 'DELETE' as const, ResourceRecordSet: r })),
          { Action: 'CREATE', ResourceRecordSet: { Name: w.pair.recordName, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] } },
        ]),
    },
  ],
  [
    'UnexpectedRecordSet',
    'a third weighted record',
    { setup: (w) => change(w, [{ Action: 'CREATE', ResourceRecordSet: { ...weightedSets(w)[0]!, SetIdentifier: 'shop-web-c', Weight: 0 } }]) },
  ],
  ['TrafficAlreadySplit', 'both records carrying weight', { setup: (w) => setWeights(w, 50, 50) }],
  ['NoLiveService', 'both weights 0', { setup: (w) => setWeights(w, 0, 0) }],
  ['DeploymentToLiveService', 'a deployment to the live service', { setup: (w) => setWeights(w, 0, 100) }],
  ['ServiceNotFound', 'green missing from ECS', { setup: (w) => w.sim.ecs.deleteService('shop', w.green.service) }],
  ['GreenNotSteady', 'green not running every desired task', { setup: (w) => w.sim.ecs.setRunningCount('shop', w.green.service, 2) }],
  [
    'DeploymentMismatch',
    'an older event (another deployment is primary now)',
    { mutate: (e) => ({ ...e, detail: { ...e.detail, deploymentId: 'ecs-svc/1000000000000000000' } }) },
  ],
  ['AlarmNotFound', 'a configured alarm that does not exist', { setup: (w) => w.sim.cloudwatch.deleteAlarms({ AlarmNames: ['shop-web-5xx-rate'] }) }],
  ['AlarmAlreadyFiring', 'an alarm already in ALARM', { setup: (w) => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'already bad') }],
  [
    'AlarmAlreadyFiring',
    'a composite alarm already in ALARM',
    { setup: (w) => w.sim.cloudwatch.setState('shop-web-health-unhealthy-hosts', 'ALARM', 'hosts down') },
  ],
];

describe('preflight fails closed: a named error and no change in DNS', () => {
  it.each(cases)('%s: %s', async (name, _, { setup, mutate }) => {
    const w = world();
    const event = await w.completedDeployment();
    const before = w.sim.route53.recordSets(w.pair.hostedZoneId);
    setup?.(w);
    const writesBefore = w.route53Writes();
    const result = await w.runExecution(mutate ? mutate(event, w) : event);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(name);
    expect(result.cause).toBeTruthy();
    expect(w.route53Writes()).toBe(writesBefore);
    expect(result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name)).toEqual(['Preflight']);
    expect(w.sim.events).toEqual([]);
    if (!setup) expect(w.sim.route53.recordSets(w.pair.hostedZoneId)).toEqual(before);
  });

  it('the execution shows the cause an operator can act on', async () => {
    const w = world();
    const event = await w.completedDeployment();
    setWeights(w, 0, 100);
    const result = await w.runExecution(event);
    expect(result.cause).toBe('shop/shop-web-b is live (blue 0 / green 100); deploy new versions to the idle service shop/shop-web-a');
  });

  it('the shipped example pair passes preflight when everything is in order', async () => {
    expect(examplePair().name).toBe('shop-web');
    const w = world();
    const result = await w.runExecution(await w.completedDeployment());
    expect(result.status).toBe('SUCCEEDED');
  });
});

describe('the trigger', () => {
  it('an event it cannot place still starts an execution, named rejected--<event id>, that fails with the named error', async () => {
    const w = world();
    const event = await w.completedDeployment();
    w.canary.trigger = true;
    const started = await w.clock.run(w.canary.deliver({ ...event, detail: { ...event.detail, deploymentId: 'not-an-id' } } as never));
    expect(started).toMatchObject({ name: `rejected--${event.id}` });
    const [result] = await w.clock.run(w.canary.settled());
    expect(result!.error).toBe('MalformedEvent');
    expect(result!.cause).toContain('detail.deploymentId');
    expect(w.route53Writes()).toBe(0);
  });

  it('an event for a service in no pair starts unknown-service--<deployment>, which fails with UnknownService', async () => {
    const w = world();
    const event = await w.completedDeployment();
    const foreign = { ...event, resources: [event.resources[0].replace('shop-web-b', 'billing')] as [string] };
    const started = await w.clock.run(w.canary.deliver(foreign));
    expect(started).toMatchObject({ name: `unknown-service--${event.detail.deploymentId.replace('/', '-')}` });
    const [result] = await w.clock.run(w.canary.settled());
    expect(result!.error).toBe('UnknownService');
  });
});
