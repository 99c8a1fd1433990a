import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { runConcurrent } from '../local/concurrency.js';
import { world } from './helpers.js';

// AWS's own throttling in the simulated account: token buckets at the documented sizes and
// rates (local/sim/throttle.ts cites them), in virtual time. Clients here make one attempt,
// so what the account answers is seen as it is.
const once = { maxAttempts: 1, region: 'eu-west-1' };
const outcomes = async (calls: (() => Promise<unknown>)[]) =>
  (await Promise.all(calls.map((call) => call().then(() => 'ok', (e: Error) => `${e.name}: ${e.message}`)))).reduce<Record<string, number>>((n, o) => ((n[o] = (n[o] ?? 0) + 1), n), {});
const times = <T>(n: number, f: () => T) => Array.from({ length: n }, f);

describe('the simulated account throttles as AWS does', () => {
  it('Route53: 50 requests at once, then 10 a second (account and per-action buckets); throttled as Throttling / Rate exceeded', async () => {
    const w = world({ start: { sweep: false } });
    const route53 = new Route53Client(once);
    const seeded = w.sim.route53.applied[0]!.changeId; // the change that created the pair's records
    const getChange = () => route53.send(new GetChangeCommand({ Id: seeded }));
    expect(await w.clock.run(outcomes(times(60, () => getChange)))).toEqual({ ok: 50, 'Throttling: Rate exceeded': 10 });
    await w.clock.advance(1_000);
    expect(await w.clock.run(outcomes(times(15, () => getChange)))).toEqual({ ok: 10, 'Throttling: Rate exceeded': 5 });
    // the account bucket is shared: another action finds it empty too
    const list = () => route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: w.pair.hostedZoneId }));
    expect(await w.clock.run(outcomes([list]))).toEqual({ 'Throttling: Rate exceeded': 1 });
  });

  it('Route53 change throughput: an UPSERT takes 2 of 1,500 change tokens, refilled at 100 a second', async () => {
    const w = world({ start: { sweep: false } });
    const route53 = new Route53Client(once);
    const [record] = w.sim.route53.recordSets(w.pair.hostedZoneId).filter((r) => r.SetIdentifier === w.green.setIdentifier);
    // 700 UPSERTs of the same record set are not a valid batch; the tokens are taken before validation, as by the front door
    const upserts = (n: number) => () =>
      route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: w.pair.hostedZoneId, ChangeBatch: { Changes: times(n, () => ({ Action: 'UPSERT' as const, ResourceRecordSet: record! })) } }));
    expect(await w.clock.run(outcomes([upserts(700)]))).toMatchObject({ 'InvalidChangeBatch: The request contains more than one change for shop.example.com. A': 1 });
    expect(await w.clock.run(outcomes([upserts(60)]))).toEqual({ 'Throttling: Rate exceeded': 1 }); // 100 tokens left, 120 needed
    await w.clock.advance(1_000);
    expect(await w.clock.run(outcomes([upserts(1)]))).toEqual({ ok: 1 });
  });

  it('ECS DescribeServices: 100 at once, then 20 a second (ThrottlingException); CloudWatch DescribeAlarms: 9 a second (Throttling)', async () => {
    const w = world({ start: { sweep: false } });
    const ecs = new ECSClient(once);
    const describe = () => ecs.send(new DescribeServicesCommand({ cluster: 'shop', services: ['shop-web-a'] }));
    expect(await w.clock.run(outcomes(times(105, () => describe)))).toEqual({ ok: 100, 'ThrottlingException: Rate exceeded': 5 });
    const cloudwatch = new CloudWatchClient(once);
    const alarms = () => cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['shop-web-5xx-rate'] }));
    expect(await w.clock.run(outcomes(times(10, () => alarms)))).toEqual({ ok: 9, 'Throttling: Rate exceeded': 1 });
  });
});

describe('many canaries in one account, under that throttling', () => {
  it('10 canaries on 10 pairs, started within one minute: every one promotes, none rolls back for throttling, none is left split', async () => {
    const run = await runConcurrent(10);
    expect(run).toMatchObject({ n: 10, promoted: 10, throttledRollbacks: 0, leftSplit: 0 });
  });
});
