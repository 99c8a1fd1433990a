import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudwatch, getMetricData } from '../functions/lib/aws/cloudwatch.js';
import { describeTargetGroups } from '../functions/lib/aws/elbv2.js';
import { parseConfig } from '../functions/lib/config.js';
import example from '../local/example.config.js';
import { invoke } from '../local/lambda.js';
import { seedPair, targetGroupArn } from '../local/local-canary.js';
import { SIM_ACCOUNT, SIM_REGION, SimulatedAccount } from '../local/sim/account.js';
import { during, loadBalancerDimension, targetGroupDimension } from '../local/sim/traffic.js';
import type { LocalFunction, PolicyStatement } from '../local/stack.js';
import { VirtualClock } from '../local/virtual-time.js';
import { createWorld } from '../local/world.js';

const START = Date.parse('2026-11-23T09:00:00Z');
const MINUTE = 60_000;
const BLUE = targetGroupArn('shop-web-a');
const GREEN = targetGroupArn('shop-web-b');

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

/** The example pair seeded in an account created under virtual time (blue = shop-web-a live). */
function fixture(options: { throttling?: boolean; seed?: number } = {}) {
  const clock = VirtualClock.install(START);
  cleanups.push(() => clock.uninstall());
  const sim = new SimulatedAccount({ throttling: options.throttling ?? false, seed: options.seed });
  const pair = parseConfig(example).pairs[0]!;
  seedPair(sim, pair);
  cleanups.push(sim.install());
  const setWeights = (blue: number, green: number) =>
    sim.route53.changeResourceRecordSets({
      HostedZoneId: pair.hostedZoneId,
      ChangeBatch: {
        Changes: sim.route53
          .recordSets(pair.hostedZoneId)
          .filter((r) => r.SetIdentifier)
          .map((r) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { ...r, Weight: r.SetIdentifier === pair.services[0].setIdentifier ? blue : green } })),
      },
    });
  const share = (from: number, to: number) => {
    const green = sim.traffic.requests(GREEN, from, to);
    return green / (green + sim.traffic.requests(BLUE, from, to));
  };
  return { clock, sim, pair, setWeights, share };
}

const loadBalancerOf = (sim: SimulatedAccount, tg: string) => sim.elbv2.describeTargetGroups({ TargetGroupArns: [tg] }).TargetGroups[0]!.LoadBalancerArns[0]!;
const sideDimensions = (sim: SimulatedAccount, tg: string) => [
  { Name: 'LoadBalancer', Value: loadBalancerDimension(loadBalancerOf(sim, tg)) },
  { Name: 'TargetGroup', Value: targetGroupDimension(tg) },
];
const alb = (Id: string, MetricName: string, Stat: string, Dimensions: { Name: string; Value: string }[], Period = 60): MetricDataQuery => ({
  Id,
  MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName, Dimensions }, Period, Stat },
});
/** One series by query Id: [minute ISO 'HH:MM', value]. */
async function read(queries: MetricDataQuery[], from: number, to: number) {
  const out = await getMetricData(queries, new Date(from), new Date(to));
  return Object.fromEntries([...out].map(([id, s]) => [id, s.timestamps.map((t, i) => [t.toISOString().slice(11, 16), s.values[i]!] as const)]));
}

describe('traffic: clients, resolvers and weighted answers', () => {
  it('each side serves by its weight, and green follows a change late (resolver caches)', async () => {
    const { clock, setWeights, share, sim } = fixture();
    await clock.advance(10 * MINUTE);
    const t = Date.now();
    expect(sim.traffic.requests(BLUE, START, t)).toBeGreaterThan(50 * 600 * 0.95);
    expect(sim.traffic.requests(GREEN, START, t)).toBe(0); // weight 0 is never answered
    setWeights(90, 10);
    await clock.advance(30 * MINUTE);
    expect(share(t, t + 10_000)).toBeLessThan(0.04); // caches still hold blue
    expect(share(t + 90_000, t + 270_000)).toBeGreaterThan(0.05);
    expect(share(t + 90_000, t + 270_000)).toBeLessThan(0.15);
    expect(share(t + 15 * MINUTE, t + 30 * MINUTE)).toBeGreaterThan(0.07);
    expect(share(t + 15 * MINUTE, t + 30 * MINUTE)).toBeLessThan(0.13);
  });

  it('after a full switch, the sticky resolvers (10 %) keep sending clients to the old side for up to 10 minutes, then none', async () => {
    const { clock, setWeights, share, sim } = fixture();
    await clock.advance(10 * MINUTE);
    const t = Date.now();
    setWeights(0, 100);
    await clock.advance(15 * MINUTE);
    expect(1 - share(t + 90_000, t + 120_000)).toBeGreaterThan(0.03); // TTL-bound resolvers have all moved ...
    expect(1 - share(t + 90_000, t + 120_000)).toBeLessThan(0.1); // ... the sticky ones have not
    expect(sim.traffic.requests(BLUE, t + 5 * MINUTE, t + 10 * MINUTE)).toBeGreaterThan(0);
    expect(sim.traffic.requests(BLUE, t + 10 * MINUTE + 1_000)).toBe(0);
  });

  it('when every record has weight 0, Route53 answers all of them equally', async () => {
    const { clock, setWeights, share } = fixture();
    setWeights(0, 0);
    await clock.advance(20 * MINUTE);
    expect(share(START + 12 * MINUTE, START + 20 * MINUTE)).toBeGreaterThan(0.4);
    expect(share(START + 12 * MINUTE, START + 20 * MINUTE)).toBeLessThan(0.6);
  });

  it('is deterministic: the same seed, the same requests and errors, whoever reads when', async () => {
    const run = async (readEveryMinute: boolean) => {
      const { clock, setWeights, sim } = fixture({ seed: 7 });
      sim.traffic.setBehaviour(GREEN, { errorRate: 0.05 });
      for (let m = 0; m < 12; m++) {
        if (m === 3) setWeights(75, 25);
        await clock.advance(MINUTE);
        if (readEveryMinute) sim.traffic.requests(BLUE);
      }
      const figures = [sim.traffic.requests(BLUE), sim.traffic.requests(GREEN), sim.traffic.errors(GREEN), sim.traffic.firstErrorSince(GREEN, START)];
      cleanups.splice(0).reverse().forEach((f) => f());
      return figures;
    };
    const once = await run(false);
    expect(await run(true)).toEqual(once);
    expect(once[2]).toBeGreaterThan(0);
  });

  it('the rate is per pair, all sides together, and 0 stops it', async () => {
    const { clock, sim, pair } = fixture();
    sim.traffic.setRate(pair.hostedZoneId, pair.recordName, pair.recordType, 200);
    await clock.advance(MINUTE);
    sim.traffic.setRate(pair.hostedZoneId, pair.recordName, pair.recordType, 0);
    await clock.advance(MINUTE);
    expect(sim.traffic.requests(BLUE, START, START + MINUTE)).toBeGreaterThan(200 * 60 * 0.95);
    expect(sim.traffic.requests(BLUE, START + MINUTE, START + 2 * MINUTE)).toBe(0);
  });

  it('each side fails and answers as its behaviour says at each instant: a scripted incident, counted to the millisecond', async () => {
    const { clock, sim, setWeights } = fixture();
    setWeights(50, 50);
    const from = START + 10 * MINUTE;
    sim.traffic.setBehaviour(GREEN, { errorRate: during(from, from + 2 * MINUTE, 0.2, 0) });
    sim.traffic.setBehaviour(BLUE, { errorRate: 0 });
    await clock.advance(15 * MINUTE);
    expect(sim.traffic.errors(GREEN, START, from)).toBe(0);
    expect(sim.traffic.errors(BLUE)).toBe(0);
    const first = sim.traffic.firstErrorSince(GREEN, START)!;
    expect(first).toBeGreaterThanOrEqual(from);
    expect(first).toBeLessThan(from + 1_000);
    const served = sim.traffic.requests(GREEN, from, from + 2 * MINUTE);
    expect(sim.traffic.errors(GREEN, from, from + 2 * MINUTE) / served).toBeGreaterThan(0.17);
    expect(sim.traffic.errors(GREEN, from, from + 2 * MINUTE) / served).toBeLessThan(0.23);
    expect(sim.traffic.errors(GREEN, from + 2 * MINUTE)).toBe(0);
    expect(sim.traffic.firstErrorSince(GREEN, from + 2 * MINUTE)).toBeUndefined();
  });

  it('stop(): nothing flows after it; the model holds no timer, so a run waiting on nothing is still found stuck', async () => {
    const { clock, sim } = fixture();
    await clock.advance(MINUTE);
    sim.traffic.stop();
    const stoppedAt = Date.now();
    await clock.advance(5 * MINUTE);
    expect(sim.traffic.requests(BLUE, stoppedAt)).toBe(0);
    expect(sim.traffic.requests(BLUE)).toBeGreaterThan(0);
    await expect(clock.run(new Promise(() => undefined))).rejects.toThrow(/virtual time is stuck/);
  });

  it('a pair seeded before virtual time was installed (the world) serves from the moment the clock started', async () => {
    const world = createWorld();
    cleanups.push(() => world.dispose());
    await world.clock.advance(3 * MINUTE);
    const blue = world.sim.traffic.requests(BLUE);
    expect(blue).toBeGreaterThan(50 * 180 * 0.95);
    expect(blue).toBeLessThan(50 * 180 * 1.05);
    expect(world.sim.traffic.requests(BLUE, START, START + MINUTE)).toBeGreaterThan(50 * 60 * 0.9);
  });
});

describe('the load balancers: each service its own ALB, its metrics in AWS/ApplicationELB', () => {
  it('seedPair gives each service an ALB named <service>-alb owning its target group (DescribeTargetGroups through the adapter)', async () => {
    fixture();
    const groups = await describeTargetGroups([GREEN, BLUE]);
    expect(groups.map((g) => g.arn)).toEqual([GREEN, BLUE]);
    expect(groups[1]).toEqual({
      arn: BLUE,
      targetGroup: `targetgroup/shop-web-a/${BLUE.split('/').at(-1)}`,
      loadBalancers: [{ arn: expect.stringMatching(new RegExp(`^arn:aws:elasticloadbalancing:${SIM_REGION}:${SIM_ACCOUNT}:loadbalancer/app/shop-web-a-alb/[0-9a-f]{16}$`)), dimension: expect.stringMatching(/^app\/shop-web-a-alb\/[0-9a-f]{16}$/), type: 'application' }],
      protocol: 'HTTP',
    });
    expect(groups[0]!.loadBalancers[0]!.dimension).toMatch(/^app\/shop-web-b-alb\//);
    await expect(describeTargetGroups([BLUE.replace('shop-web-a', 'nope')])).rejects.toMatchObject({ name: 'TargetGroupNotFoundException', Code: 'TargetGroupNotFound' });
  });

  it('per minute, stamped with its start: RequestCount, TargetResponseTime (p99, Average), the {LoadBalancer} RequestCount; nothing for a side without requests', async () => {
    const { clock, sim } = fixture();
    await clock.advance(8 * MINUTE);
    const side = sideDimensions(sim, BLUE);
    const out = await read(
      [
        alb('requests', 'RequestCount', 'Sum', side),
        alb('p99', 'TargetResponseTime', 'p99', side),
        alb('avg', 'TargetResponseTime', 'Average', side),
        alb('lb', 'RequestCount', 'Sum', [side[0]!]),
        alb('green', 'RequestCount', 'Sum', sideDimensions(sim, GREEN)),
      ],
      START,
      START + 5 * MINUTE,
    );
    expect(out.requests!.map(([at]) => at)).toEqual(['09:00', '09:01', '09:02', '09:03', '09:04']);
    out.requests!.forEach(([, v], m) => expect(v).toBe(sim.traffic.requests(BLUE, START + m * MINUTE, START + (m + 1) * MINUTE)));
    expect(out.lb).toEqual(out.requests);
    for (const [, p99] of out.p99!) expect(p99).toBeGreaterThan(0.1), expect(p99).toBeLessThan(0.145);
    // log-normal, median 40 ms, p99 120 ms: mean = 40 ms · exp(σ²/2) ≈ 44.7 ms
    for (const [, avg] of out.avg!) expect(avg).toBeGreaterThan(0.042), expect(avg).toBeLessThan(0.048);
    expect(out.green).toEqual([]);
  });

  it('HTTPCode_Target_5XX_Count is there only in minutes with errors, and counts them', async () => {
    const { clock, sim } = fixture();
    sim.traffic.setBehaviour(BLUE, { errorRate: during(START + 2 * MINUTE, START + 4 * MINUTE, 0.05, 0) });
    await clock.advance(8 * MINUTE);
    const out = await read([alb('errors', 'HTTPCode_Target_5XX_Count', 'Sum', sideDimensions(sim, BLUE))], START, START + 6 * MINUTE);
    expect(out.errors!.map(([at]) => at)).toEqual(['09:02', '09:03']);
    out.errors!.forEach(([, v], k) => expect(v).toBe(sim.traffic.errors(BLUE, START + (2 + k) * MINUTE, START + (3 + k) * MINUTE)));
  });

  it('a minute is published late and partial: nothing just after it ends, growing, final about 2 minutes after its end', async () => {
    const { clock, sim } = fixture();
    const query = [alb('requests', 'RequestCount', 'Sum', sideDimensions(sim, BLUE))];
    const seen: Record<string, number[]> = {};
    for (let s = 0; s < 12 * 6; s++) {
      await clock.advance(10_000);
      for (const [at, v] of (await read(query, START, START + 10 * MINUTE)).requests!) (seen[at] ??= []).push(v);
    }
    for (let m = 0; m < 8; m++) {
      const at = new Date(START + m * MINUTE).toISOString().slice(11, 16);
      const values = seen[at]!;
      const final = sim.traffic.requests(BLUE, START + m * MINUTE, START + (m + 1) * MINUTE);
      // read every 10 s from 09:00:10: the minute's end is read m*6+5, so it shows up at the earliest 20 s after
      expect(values.length).toBeLessThanOrEqual(12 * 6 - (m * 6 + 5) - 2);
      expect(values.length).toBeGreaterThanOrEqual(12 * 6 - (m * 6 + 5) - 12);
      expect([...values].sort((a, b) => a - b)).toEqual(values); // only grows
      expect(values.at(-1)).toBe(final);
      expect(values.slice(12 - 1)).toEqual(values.slice(12 - 1).map(() => final)); // final by 120 s after its end
    }
    expect(Object.values(seen).some((v) => v[0]! < v.at(-1)!)).toBe(true); // partial first
  });
});

describe('GetMetricData on the simulated CloudWatch', () => {
  const NS = 'Test/Metrics';
  const dims = [{ Name: 'Side', Value: 'green' }];
  const stat = (Id: string, Stat: string, extra: Partial<NonNullable<MetricDataQuery['MetricStat']>> = {}, q: Partial<MetricDataQuery> = {}): MetricDataQuery => ({
    Id,
    MetricStat: { Metric: { Namespace: NS, MetricName: 'Latency', Dimensions: dims }, Period: 60, Stat, ...extra },
    ...q,
  });
  /** Latency values (ms) 1..100 in minute 09:01, 200 in 09:02 and 09:04. */
  async function seeded() {
    const f = fixture();
    await f.clock.advance(10 * MINUTE);
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: NS,
        MetricData: [
          { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(START + MINUTE + 5_000), Values: Array.from({ length: 100 }, (_, i) => i + 1), Unit: 'Milliseconds' },
          { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(START + 2 * MINUTE), Value: 200, Unit: 'Milliseconds' },
          { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(START + 4 * MINUTE + 59_999), Value: 200, Unit: 'Milliseconds' },
          { MetricName: 'Latency', Dimensions: [...dims, { Name: 'Az', Value: 'a' }], Timestamp: new Date(START + 2 * MINUTE), Value: 9999 },
        ],
      }),
    );
    return f;
  }
  const call = (input: Partial<ConstructorParameters<typeof GetMetricDataCommand>[0]>) =>
    cloudwatch.send(new GetMetricDataCommand({ StartTime: new Date(START), EndTime: new Date(START + 10 * MINUTE), MetricDataQueries: [stat('a', 'Sum')], ...input }));

  it('statistics per period, newest first by default; exact dimension set; StartTime inclusive, EndTime exclusive, both rounded down to the minute', async () => {
    await seeded();
    const out = await call({
      StartTime: new Date(START + MINUTE + 30_000), // 09:01:30 -> 09:01
      EndTime: new Date(START + 4 * MINUTE + 59_000), // 09:04:59 -> 09:04, exclusive
      MetricDataQueries: [stat('sum', 'Sum'), stat('p99', 'p99'), stat('p50', 'p50'), stat('n', 'SampleCount'), stat('avg', 'Average'), stat('max', 'Maximum', {}, { Label: 'max latency' })],
    });
    const byId = Object.fromEntries(out.MetricDataResults!.map((r) => [r.Id, r]));
    expect(byId.sum).toMatchObject({ Label: 'Latency', StatusCode: 'Complete', Timestamps: [new Date(START + 2 * MINUTE), new Date(START + MINUTE)], Values: [200, 5050] });
    expect(byId.p99!.Values).toEqual([200, 99]);
    expect(byId.p50!.Values).toEqual([200, 50]);
    expect(byId.n!.Values).toEqual([1, 100]);
    expect(byId.avg!.Values).toEqual([200, 50.5]);
    expect(byId.max).toMatchObject({ Label: 'max latency', Values: [200, 100] });
    expect(out.NextToken).toBeUndefined();
  });

  it('Period 300 sums five minutes from the start; ScanBy TimestampAscending; ReturnData false is left out; a Unit filters', async () => {
    await seeded();
    const out = await call({
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [stat('five', 'Sum', { Period: 300 }), stat('hidden', 'Sum', {}, { ReturnData: false }), stat('seconds', 'Sum', { Unit: 'Seconds' }), stat('ms', 'Sum', { Unit: 'Milliseconds' })],
    });
    expect(out.MetricDataResults!.map((r) => [r.Id, r.Timestamps!.map((t) => t.getTime() - START), r.Values])).toEqual([
      ['five', [0], [5450]],
      ['seconds', [], []],
      ['ms', [MINUTE, 2 * MINUTE, 4 * MINUTE], [5050, 200, 200]],
    ]);
  });

  it('pages: at most MaxDatapoints per answer, the queries cut short PartialData, the rest behind NextToken; the adapter reads every page', async () => {
    await seeded();
    const first = await call({ MaxDatapoints: 2, ScanBy: 'TimestampAscending', MetricDataQueries: [stat('a', 'Sum'), stat('b', 'Maximum')] });
    expect(first.MetricDataResults!.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
      ['a', [5050, 200], 'PartialData'],
      ['b', [], 'PartialData'],
    ]);
    const second = await call({ MaxDatapoints: 2, NextToken: first.NextToken, MetricDataQueries: [stat('a', 'Sum'), stat('b', 'Maximum')] });
    expect(second.MetricDataResults!.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
      ['a', [200], 'Complete'],
      ['b', [100], 'PartialData'],
    ]);
    const all = await getMetricData([stat('a', 'Sum'), stat('b', 'Maximum'), stat('none', 'Sum', { Metric: { Namespace: NS, MetricName: 'Nothing' } })], new Date(START), new Date(START + 10 * MINUTE));
    expect([...all].map(([id, s]) => [id, s.values])).toEqual([
      ['a', [5050, 200, 200]],
      ['b', [100, 200, 200]],
      ['none', []],
    ]);
  });

  it('percentiles of a statistic set of several values are not available (no datapoint); of one value they are', async () => {
    await seeded();
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: NS,
        MetricData: [
          { MetricName: 'Set', Timestamp: new Date(START), StatisticValues: { SampleCount: 10, Sum: 100, Minimum: 1, Maximum: 30 } },
          { MetricName: 'Set', Timestamp: new Date(START + MINUTE), StatisticValues: { SampleCount: 4, Sum: 20, Minimum: 5, Maximum: 5 } },
        ],
      }),
    );
    const q = (Id: string, s: string) => stat(Id, s, { Metric: { Namespace: NS, MetricName: 'Set' } });
    const out = await getMetricData([q('p', 'p90'), q('avg', 'Average')], new Date(START), new Date(START + 5 * MINUTE));
    expect(out.get('p')!.values).toEqual([5]);
    expect(out.get('avg')!.values).toEqual([10, 5]);
  });

  it.each<[string, Partial<ConstructorParameters<typeof GetMetricDataCommand>[0]>, string, RegExp]>([
    ['an Id not matching ^[a-z][a-zA-Z0-9_]*$', { MetricDataQueries: [stat('Bad-id', 'Sum')] }, 'ValidationError', /Bad-id for parameter MetricDataQueries.member.1.Id is not matching the expected pattern/],
    ['two queries with one Id', { MetricDataQueries: [stat('a', 'Sum'), stat('a', 'p99')] }, 'ValidationError', /MetricDataQueries.member.2.Id is not unique/],
    ['a Period not a multiple of 60', { MetricDataQueries: [stat('a', 'Sum', { Period: 90 })] }, 'ValidationError', /member.1.MetricStat.Period/],
    ['a statistic CloudWatch does not have', { MetricDataQueries: [stat('a', 'Median')] }, 'ValidationError', /member.1.MetricStat.Stat is not a valid statistic/],
    ['a query with neither MetricStat nor Expression', { MetricDataQueries: [{ Id: 'a' }] }, 'ValidationError', /member.1.MetricStat is required/],
    ['more than 500 queries', { MetricDataQueries: Array.from({ length: 501 }, (_, i) => stat(`q${i}`, 'Sum')) }, 'ValidationError', /less than or equal to 500/],
    ['StartTime equal to EndTime', { StartTime: new Date(START), EndTime: new Date(START) }, 'ValidationError', /StartTime must not equal parameter EndTime/],
    ['StartTime after EndTime', { StartTime: new Date(START + MINUTE), EndTime: new Date(START) }, 'ValidationError', /EndTime must be greater than StartTime/],
    ['an expression [simulator: not modeled]', { MetricDataQueries: [stat('a', 'Sum'), { Id: 'e', Expression: 'a * 2' }] }, 'UnsupportedOperation', /metric math/],
    ['a high-resolution period [simulator: standard resolution only]', { MetricDataQueries: [stat('a', 'Sum', { Period: 10 })] }, 'UnsupportedOperation', /standard-resolution/],
    ['a trimmed mean [simulator: not modeled]', { MetricDataQueries: [stat('a', 'tm99')] }, 'UnsupportedOperation', /tm99/],
    ['a NextToken it never gave', { NextToken: 'made-up' }, 'InvalidNextToken', /NextToken/],
  ])('refuses %s', async (_, input, code, message) => {
    fixture();
    const names: Record<string, string> = { ValidationError: 'ValidationException' }; // the SDK's name for the code
    await expect(call(input)).rejects.toMatchObject({ name: names[code] ?? code, message: expect.stringMatching(message), ...(names[code] ? { Code: code } : {}) });
  });

  it('PutMetricData refuses what CloudWatch refuses', async () => {
    fixture();
    const put = (MetricData: ConstructorParameters<typeof PutMetricDataCommand>[0]['MetricData'], Namespace = NS) => cloudwatch.send(new PutMetricDataCommand({ Namespace, MetricData }));
    // as the SDK names them (moto's answers show the same): the class name, and the wire code in Code
    const invalid = { name: 'InvalidParameterValueException', Code: 'InvalidParameterValue' };
    await expect(put([{ MetricName: 'x', Value: 1 }], 'AWS/ApplicationELB')).rejects.toMatchObject(invalid);
    await expect(put([{ MetricName: 'x', Values: [1, 2], Counts: [1] }])).rejects.toMatchObject({ ...invalid, message: expect.stringMatching(/must be of the same size/) });
    await expect(put([{ MetricName: 'x', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } }])).rejects.toMatchObject({
      name: 'InvalidParameterCombinationException',
      Code: 'InvalidParameterCombination',
    });
    await expect(put([{ MetricName: 'x', Value: 1, Timestamp: new Date(START - 15 * 86_400_000) }])).rejects.toMatchObject(invalid);
  });

  it('GetMetricData is throttled at 50 a second (Throttling: Rate exceeded)', async () => {
    fixture({ throttling: true });
    const client = new CloudWatchClient({ maxAttempts: 1 });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, () =>
        client.send(new GetMetricDataCommand({ StartTime: new Date(START - MINUTE), EndTime: new Date(START), MetricDataQueries: [stat('a', 'Sum')] })).then(
          () => 'ok',
          (e: Error) => `${e.name}: ${e.message}`,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(50);
    expect(new Set(outcomes.filter((o) => o !== 'ok'))).toEqual(new Set(['Throttling: Rate exceeded']));
  });
});

describe('IAM: GetMetricData and DescribeTargetGroups take no resource', () => {
  const role = (policies: PolicyStatement[]): LocalFunction => ({
    name: 'judgeGreen',
    functionName: 'canary-judgeGreen',
    handler: 'functions/judge-green.handler',
    runtime: 'nodejs22.x',
    region: SIM_REGION,
    memorySize: 256,
    timeout: 30,
    environment: {},
    roleArn: `arn:aws:iam::${SIM_ACCOUNT}:role/canary-judgeGreen`,
    policies,
  });
  const readBoth = () => Promise.all([getMetricData([alb('r', 'RequestCount', 'Sum', [])], new Date(START), new Date(START + MINUTE)), describeTargetGroups([BLUE])]);

  it('granted on *: allowed', async () => {
    const { clock } = fixture();
    const fn = role([{ Effect: 'Allow', Action: ['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetGroups'], Resource: ['*'] }]);
    const [series, groups] = (await clock.run(invoke(fn, readBoth, {}))) as [unknown, { arn: string }[]];
    expect(series).toBeDefined();
    expect(groups.map((g) => g.arn)).toEqual([BLUE]);
  });

  it.each<[string, PolicyStatement[], RegExp]>([
    ['not granted', [{ Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups'], Resource: ['*'] }], /not authorized to perform: cloudwatch:GetMetricData on resource: \*/],
    ['granted on an ARN only', [{ Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: [`arn:aws:cloudwatch:${SIM_REGION}:${SIM_ACCOUNT}:alarm:x`] }, { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups'], Resource: ['*'] }], /cloudwatch:GetMetricData on resource: \*/],
    ['DescribeTargetGroups on a target group ARN only', [{ Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: ['*'] }, { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups'], Resource: [BLUE] }], /elasticloadbalancing:DescribeTargetGroups on resource: \*/],
  ])('%s: AccessDenied', async (_, policies, error) => {
    const { clock } = fixture();
    await expect(clock.run(invoke(role(policies), readBoth, {}))).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringMatching(error) });
  });

  it('PutMetricData is for the operator: a function has no IAM model for it', async () => {
    const { clock } = fixture();
    const fn = role([{ Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: ['*'] }]);
    await expect(clock.run(invoke(fn, () => cloudwatch.send(new PutMetricDataCommand({ Namespace: 'X', MetricData: [{ MetricName: 'm', Value: 1 }] })), {}))).rejects.toThrow(/no IAM model/);
  });
});

