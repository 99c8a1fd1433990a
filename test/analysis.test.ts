import { describe, expect, it } from 'vitest';
import { analyze, backtest, DEFAULT_SETTINGS, dispersion, eValue, formatE, MIN_MINUTES_OF_EVIDENCE, type AnalysisSettings, type Minute } from '../functions/lib/analysis.js';
import { metricQueries, metricsPlanOf, minutesFrom, settledWindow, type SideTargets } from '../functions/lib/metrics.js';
import { analysisOf, parseConfig } from '../functions/lib/config.js';
import { examplePair } from '../local/world.js';

const S: AnalysisSettings = DEFAULT_SETTINGS;
const side = (requests: number, errors: number, p99Ms: number | null = 120) => ({ requests, errors, p99Ms });
type Triple = [number, number, (number | null)?];
const minute = (greenPercent: number, blue: Triple, green: Triple): Minute => ({
  greenPercent,
  blue: side(blue[0], blue[1], blue[2] ?? 120),
  green: side(green[0], green[1], green[2] ?? 120),
});
const baseline = (n: number, requests = 6000, errors = 6) => Array.from({ length: n }, () => minute(0, [requests, errors], [0, 0, null]));

describe('the error test (e-value)', () => {
  it('finds no evidence when green errs at blue\'s rate, and strong evidence when it errs 10x', () => {
    const same = Array.from({ length: 10 }, () => ({ green: { requests: 600, errors: 1 }, blue: { requests: 5400, errors: 5 } }));
    expect(eValue(same, 1, 100)).toBeLessThan(1);
    const worse = Array.from({ length: 10 }, () => ({ green: { requests: 600, errors: 6 }, blue: { requests: 5400, errors: 5 } }));
    expect(eValue(worse, 1, 100)).toBeGreaterThan(100);
  });

  it('is one-sided: a green that errs less never gathers evidence', () => {
    const better = Array.from({ length: 30 }, () => ({ green: { requests: 600, errors: 0 }, blue: { requests: 5400, errors: 50 } }));
    expect(eValue(better, 1, 100)).toBeLessThan(0.01);
  });

  it(`a single burst minute cannot reach the threshold alone (at most 1/${MIN_MINUTES_OF_EVIDENCE} of the way)`, () => {
    const burst = [{ green: { requests: 600, errors: 400 }, blue: { requests: 5400, errors: 5 } }];
    expect(eValue(burst, 1, 100)).toBeLessThanOrEqual(100 ** (1 / MIN_MINUTES_OF_EVIDENCE) + 1e-9);
  });

  it('measures overdispersion of green\'s share of the errors: binomial splits give 1, one-sided bursts more, a steadily worse green does not inflate it', () => {
    const split = (g: number, b: number) => ({ green: { requests: 600, errors: g }, blue: { requests: 5400, errors: b } });
    const steady = Array.from({ length: 30 }, (_, i) => split([0, 1, 1][i % 3]!, [5, 6, 7][i % 3]!));
    expect(dispersion(steady)).toBeLessThan(1.5);
    const bursty = steady.map((m, i) => (i % 10 === 0 ? split(40, 6) : m));
    expect(dispersion(bursty)).toBeGreaterThan(5);
    const worse = Array.from({ length: 30 }, (_, i) => split([5, 6, 7][i % 3]!, [5, 6, 7][i % 3]!));
    expect(dispersion(worse)).toBeLessThan(1.5);
    const shared = Array.from({ length: 30 }, (_, i) => (i % 10 === 0 ? split(30, 270) : split(1, 6)));
    expect(dispersion(shared)).toBeLessThan(2);
    expect(eValue(worse.slice(0, 6), 10, 100)).toBeLessThan(eValue(worse.slice(0, 6), 1, 100));
  });
});

describe('analyze', () => {
  it('HEALTHY once green served minRequests at its share, with the numbers on the verdict', () => {
    const minutes = [...baseline(30), minute(10, [5400, 5], [600, 1, 125]), minute(10, [5400, 6], [600, 0, 131])];
    const a = analyze(minutes, S, 30);
    expect(a.outcome).toBe('HEALTHY');
    expect(a.green).toEqual({ requests: 1200, errors: 1, ratePercent: 0.0833, p99Ms: 131 });
    expect(a.blue.requests).toBe(10800);
    expect(a.step).toEqual({ greenPercent: 10, greenRequests: 1200, sharePercent: 10 });
    expect(a.thresholds.eValue).toBe(100);
  });

  it('UNHEALTHY when green fails 10 % against blue\'s 0.1 %, naming both sides\' numbers', () => {
    const minutes = [...baseline(30), ...Array.from({ length: 4 }, () => minute(10, [5400, 5], [600, 60]))];
    const a = analyze(minutes, S, 30);
    expect(a.outcome).toBe('UNHEALTHY');
    expect(a.reasons[0]).toMatch(/^green's 5xx 240 of 2,400 \(10\.00 %\) vs blue's 20 of 21,600 \(0\.09 %\): 108\.0x, e-value .* >= 100$/);
  });

  it('a green worse than blue by less than the configured effect passes', () => {
    // 1.2x blue, many minutes: evidence, but under errorRatio 1.5
    const minutes = [...baseline(30, 30000, 300), ...Array.from({ length: 60 }, () => minute(50, [30000, 300], [30000, 360]))];
    expect(analyze(minutes, S, 30).outcome).toBe('HEALTHY');
    expect(analyze(minutes, { ...S, errorRatio: 1.1 }, 30).outcome).toBe('UNHEALTHY');
  });

  it('no data is never a pass: no settled minute, too few requests, or a share that lags its weight', () => {
    expect(analyze(baseline(30), S, 30).reasons).toEqual(['no settled minute of green at 0 % yet (minutes settle 150 s after they end)']);
    const quiet = analyze([...baseline(30, 12, 0), ...Array.from({ length: 15 }, () => minute(10, [11, 0], [2, 0]))].slice(0, 45), S, 30);
    expect(quiet.outcome).toBe('INCONCLUSIVE');
    expect(quiet.reasons).toContain('green served 30 requests in 900 s (needs 300)');
    const lagging = analyze([...baseline(30), minute(50, [5400, 5], [600, 0])], S, 30);
    expect(lagging.outcome).toBe('INCONCLUSIVE');
    expect(lagging.reasons[0]).toMatch(/green's share of requests is 10\.0 % at weight 50 % \(needs 25\.0 %/);
  });

  it('a step does not pass while the evidence leans against green: it bakes on, and never rolls back on that alone', () => {
    // green at 0.5 % against blue's 0.1 %: evidence past √100 = 10 but short of 100 after 3 minutes
    const leaning = [...baseline(30), ...Array.from({ length: 3 }, () => minute(10, [5400, 5], [600, 3]))];
    const a = analyze(leaning, S, 30);
    expect(a.eValue).toBeGreaterThanOrEqual(10);
    expect(a.eValue).toBeLessThan(100);
    expect(a.outcome).toBe('INCONCLUSIVE');
    expect(a.reasons).toEqual([`the evidence leans against green (5xx: 5.4x blue's rate, e-value ${formatE(a.eValue)}, rolls back at 100): the bake goes on until it settles`]);
    expect(a.leaningOnly).toBe(true); // at maxBakeSeconds the step passes
    // the same evidence with a minute still missing from the bake: not only leaning (onInconclusive applies at maxBakeSeconds)
    const short = analyze(leaning, { ...S, minStepMinutes: 5 }, 30);
    expect(short.outcome).toBe('INCONCLUSIVE');
    expect(short.leaningOnly).toBe(false);
    expect(short.reasons).toHaveLength(2);
    // the same minutes with green at blue's rate pass; below the effect gate, leaning evidence does not hold the step
    expect(analyze([...baseline(30), ...Array.from({ length: 3 }, () => minute(10, [5400, 5], [600, 1]))], S, 30).outcome).toBe('HEALTHY');
    expect(analyze(leaning, { ...S, errorRatio: 6 }, 30).outcome).toBe('HEALTHY');
  });

  it('a shared incident (blue failing too) is held, not blamed on green', () => {
    const minutes = [...baseline(30), minute(10, [5400, 5], [600, 1]), minute(10, [5400, 270], [600, 30]), minute(10, [5400, 280], [600, 31])];
    const a = analyze(minutes, S, 30);
    expect(a.outcome).toBe('INCONCLUSIVE');
    expect(a.incidentMinutes).toBe(2);
    expect(a.reasons[0]).toMatch(/^blue is failing too \(280 of 5,400 \(5\.19 %\) in the newest settled minute, 0\.10 % before the canary\): a shared incident/);
  });

  it('latency: green\'s p99 over blue\'s by the ratio and the floor for the last 3 settled minutes', () => {
    const slow = (p99: number) => minute(10, [5400, 5, 120], [600, 0, p99]);
    expect(analyze([...baseline(30), slow(400), slow(400), slow(130)], S, 30).outcome).toBe('HEALTHY');
    const a = analyze([...baseline(30), slow(130), slow(400), slow(410), slow(420)], S, 30);
    expect(a.outcome).toBe('UNHEALTHY');
    expect(a.reasons).toEqual(["green's p99 400, 410, 420 ms vs blue's 120, 120, 120 ms in the last 3 settled minutes (over 1.5x and +50 ms)"]);
    expect(analyze([...baseline(30), slow(160), slow(170), slow(175)], S, 30).outcome).toBe('HEALTHY'); // under the 50 ms floor
  });

  it('custom count and value metrics are judged per side', () => {
    const settings = { ...S, counts: ['grpc'], values: [{ name: 'cpu', ratio: 1.5, floor: 0 }] };
    const m = (grpcErrors: number, cpu: number): Minute => ({
      greenPercent: 10,
      blue: { ...side(5400, 5), counts: { grpc: { requests: 5400, errors: 5 } }, values: { cpu: 40 } },
      green: { ...side(600, 0), counts: { grpc: { requests: 600, errors: grpcErrors } }, values: { cpu } },
    });
    expect(analyze([...baseline(30), m(0, 41), m(1, 42), m(0, 40)], settings, 30).outcome).toBe('HEALTHY');
    const grpc = analyze([...baseline(30), ...[41, 42, 40, 40, 41, 43].map((cpu) => m(60, cpu))], settings, 30);
    expect(grpc.outcome).toBe('UNHEALTHY');
    expect(grpc.reasons[0]).toMatch(/^green's grpc 360 of 3,600/);
    expect(grpc.thresholds.eValue).toBe(200); // α split over two count tests
    const cpu = analyze([...baseline(30), m(0, 90), m(0, 95), m(0, 99)], settings, 30);
    expect(cpu.reasons).toEqual(["green's cpu 90, 95, 99 vs blue's 40, 40, 40 in the last 3 settled minutes (over 1.5x and +0)"]);
  });
});

describe('backtest', () => {
  it('the verdict after each minute uses only the minutes up to it', () => {
    const good = Array.from({ length: 5 }, () => minute(10, [5400, 5], [600, 1]));
    const bad = Array.from({ length: 5 }, () => minute(10, [5400, 5], [600, 60]));
    const b = backtest([...good, ...bad], S);
    expect(b.outcome).toBe('UNHEALTHY');
    expect(b.unhealthyAtMinute).toBeGreaterThanOrEqual(5 + MIN_MINUTES_OF_EVIDENCE - 1);
    expect(b.verdicts.slice(0, 5).every((v) => v.outcome === 'HEALTHY')).toBe(true);
    expect(backtest(good, S)).toMatchObject({ outcome: 'HEALTHY', unhealthyAtMinute: null });
    expect(backtest(Array.from({ length: 5 }, () => minute(10, [10, 0], [1, 0])), S).outcome).toBe('INCONCLUSIVE');
    // the last step passes, an earlier one never did: the reason names that step
    const short = backtest([minute(10, [10, 0], [1, 0]), ...Array.from({ length: 3 }, () => minute(25, [4500, 4], [1500, 1]))], S);
    expect(short.outcome).toBe('INCONCLUSIVE');
    expect(short.reasons).toEqual(['the step at 10 % never passed: green served 1 requests in 60 s (needs 300)']);
  });
});

describe('metric queries and settled minutes', () => {
  const sides: Record<'blue' | 'green', SideTargets> = {
    blue: { cluster: 'shop', service: 'a', targetGroups: [{ targetGroup: 'targetgroup/a/1', loadBalancer: 'app/a/1', type: 'application' }] },
    green: { cluster: 'shop', service: 'b', targetGroups: [{ targetGroup: 'targetgroup/b/2', loadBalancer: 'app/b/2', type: 'application' }] },
  };
  const config = analysisOf(parseConfig({ pairs: [{ ...examplePair() }] }).pairs[0]!);
  if (!config) throw new Error('analysis is on by default');

  it('one call covers both sides: requests, target 5xx and p99 per target group, and each own load balancer\'s 5xx', () => {
    const plan = metricsPlanOf(sides, config)!;
    expect(plan).toEqual({ builtIn: true, ownLoadBalancers: true, metrics: [] });
    const q = metricQueries(sides, plan);
    expect(q.map((x) => `${x.Id} ${x.MetricStat!.Metric!.MetricName} ${x.MetricStat!.Stat} ${x.MetricStat!.Metric!.Dimensions!.map((d) => d.Value).join(',')}`)).toEqual([
      'b_req_0 RequestCount Sum app/a/1,targetgroup/a/1',
      'b_err_0 HTTPCode_Target_5XX_Count Sum app/a/1,targetgroup/a/1',
      'b_p99_0 TargetResponseTime p99 app/a/1,targetgroup/a/1',
      'b_elb_0 HTTPCode_ELB_5XX_Count Sum app/a/1',
      'g_req_0 RequestCount Sum app/b/2,targetgroup/b/2',
      'g_err_0 HTTPCode_Target_5XX_Count Sum app/b/2,targetgroup/b/2',
      'g_p99_0 TargetResponseTime p99 app/b/2,targetgroup/b/2',
      'g_elb_0 HTTPCode_ELB_5XX_Count Sum app/b/2',
    ]);
    // one load balancer for both sides: its 5xx cannot tell them apart, so it is not read
    const shared = { ...sides, green: { ...sides.green, targetGroups: [{ ...sides.green.targetGroups[0]!, loadBalancer: 'app/a/1' }] } };
    expect(metricsPlanOf(shared, config)!.ownLoadBalancers).toBe(false);
    // an NLB side: nothing built in, and nothing to judge without analysis.metrics
    const nlb = { ...sides, green: { ...sides.green, targetGroups: [{ targetGroup: 'targetgroup/b/2', loadBalancer: 'net/b/2', type: 'network' as const }] } };
    expect(metricsPlanOf(nlb, config)).toBeNull();
  });

  it('custom metrics resolve ${loadBalancer}, ${targetGroup}, ${cluster} and ${service} per side', () => {
    const plan = { builtIn: false, ownLoadBalancers: false, metrics: [{ name: 'resets', value: { namespace: 'AWS/NetworkELB', metricName: 'TCP_Target_Reset_Count', dimensions: { LoadBalancer: '${loadBalancer}', Service: '${cluster}/${service}' }, stat: 'Sum' }, maxRatio: 2, floor: 0 }] };
    const q = metricQueries(sides, plan);
    expect(q.map((x) => [x.Id, x.MetricStat!.Metric!.Dimensions])).toEqual([
      ['b_m0_v', [{ Name: 'LoadBalancer', Value: 'app/a/1' }, { Name: 'Service', Value: 'shop/a' }]],
      ['g_m0_v', [{ Name: 'LoadBalancer', Value: 'app/b/2' }, { Name: 'Service', Value: 'shop/b' }]],
    ]);
  });

  it('minutes: no RequestCount is no requests, no 5xx datapoint in a minute with requests is zero errors, p99 in ms', () => {
    const t0 = Date.parse('2026-11-23T09:00:00Z');
    const at = (k: number) => new Date(t0 + k * 60_000);
    const series = new Map([
      ['b_req_0', { timestamps: [at(0), at(1), at(2)], values: [6000, 6100, 5900] }],
      ['b_err_0', { timestamps: [at(1)], values: [7] }],
      ['b_p99_0', { timestamps: [at(0), at(1), at(2)], values: [0.12, 0.121, 0.119] }],
      ['g_req_0', { timestamps: [at(2)], values: [650] }],
      ['g_p99_0', { timestamps: [at(2)], values: [0.2] }],
    ]);
    const minutes = minutesFrom(series, t0, t0 + 3 * 60_000, (t) => (t >= t0 + 120_000 ? 10 : 0), { builtIn: true, ownLoadBalancers: false, metrics: [] });
    expect(minutes).toEqual([
      { at: '2026-11-23T09:00:00.000Z', greenPercent: 0, blue: { requests: 6000, errors: 0, p99Ms: 120 }, green: { requests: 0, errors: 0, p99Ms: null } },
      { at: '2026-11-23T09:01:00.000Z', greenPercent: 0, blue: { requests: 6100, errors: 7, p99Ms: 121 }, green: { requests: 0, errors: 0, p99Ms: null } },
      { at: '2026-11-23T09:02:00.000Z', greenPercent: 10, blue: { requests: 5900, errors: 0, p99Ms: 119 }, green: { requests: 650, errors: 0, p99Ms: 200 } },
    ]);
  });

  it('only settled minutes: the window ends settleSeconds ago, on the minute, and starts baselineMinutes before the first shift', () => {
    const shift = Date.parse('2026-11-23T09:10:30Z');
    const w = settledWindow(shift, Date.parse('2026-11-23T09:20:10Z'), { settleSeconds: 150, baselineMinutes: 30 });
    expect(new Date(w.from).toISOString()).toBe('2026-11-23T08:40:00.000Z');
    expect(new Date(w.to).toISOString()).toBe('2026-11-23T09:17:00.000Z'); // 09:16 ended at 09:17, 190 s before 09:20:10
  });
});
