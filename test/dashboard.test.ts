import { describe, expect, it } from 'vitest';
import { CANARY_METRICS, CANARY_NAMESPACE } from '../functions/lib/canary-metrics.js';
import { configProblems } from '../functions/lib/config.js';
import { dashboardBody, OUTCOME_FUNCTIONS, sidesOf } from '../functions/lib/dashboard.js';
import { metricQueries } from '../functions/lib/metrics.js';
import { declareFunctions, STATE_MACHINE_NAME, statementsOf } from '../functions/lib/stack.js';
import { parseConfig } from '../functions/lib/config.js';
import example from '../local/example.config.js';
import type { World } from '../local/world.js';
import { examplePair, world } from './helpers.js';

const NAME = 'ecs-dns-canary-prod-shop-web';

/** The stored dashboard, parsed, and each metric widget's lines split into metrics (with their ids) and expressions. */
function stored(w: World, name = NAME) {
  const entry = w.sim.cloudwatch.dashboards.get(name);
  if (!entry) return undefined;
  const body = JSON.parse(entry.body) as { widgets: { type: string; properties: Record<string, any> }[] };
  const widget = (title: RegExp) => {
    const found = body.widgets.find((x) => x.type === 'metric' && title.test(x.properties.title));
    if (!found) throw new Error(`no widget ${title}`);
    const lines = found.properties.metrics as unknown[][];
    const metrics = lines
      .filter((l) => typeof l[0] === 'string')
      .map((l) => {
        const options = l.at(-1) as Record<string, any>;
        const parts = l.slice(0, -1) as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 2; i < parts.length; i += 2) dimensions[parts[i]!] = parts[i + 1]!;
        return { namespace: parts[0]!, name: parts[1]!, dimensions, ...options } as { namespace: string; name: string; dimensions: Record<string, string>; id: string; label: string; stat: string; period: number };
      });
    const expressions = lines.filter((l) => typeof l[0] === 'object').map((l) => l[0] as { expression: string; label: string; id: string });
    return { title: found.properties.title as string, metrics, expressions };
  };
  return { body, widget };
}

/** Every EMF line the functions printed, with the function's log group. */
const emfLines = (w: World) =>
  [...w.sim.logs.groups.keys()].flatMap((group) => w.sim.logs.emf(group).map((line) => ({ fn: group.replace('/aws/lambda/ecs-dns-canary-prod-', ''), line })));

describe('the dashboard of a pair', () => {
  it("is written when a canary starts, and each widget reads the judge's own metrics of that run's sides", async () => {
    const w = world();
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const d = stored(w);
    expect(d, 'no dashboard stored').toBeDefined();
    // Written by Preflight (as its role: the simulated account authorized the call), once.
    expect(w.sim.calls.filter((c) => c.command === 'PutDashboard').map((c) => [c.caller, c.error])).toEqual([['preflight', undefined]]);

    // The run's sides, as Preflight resolved them: the simulated account's target groups of each service.
    const plan = result!.output.plan as Parameters<typeof sidesOf>[0];
    const sideTargetGroups = (service: string) => w.sim.ecs.service('shop', service).loadBalancers.map((lb: { targetGroupArn: string }) => lb.targetGroupArn.split(':').at(-1)!);
    expect(plan.blue.targetGroups!.map((t) => t.targetGroup)).toEqual(sideTargetGroups('shop-web-a'));
    expect(plan.green.targetGroups!.map((t) => t.targetGroup)).toEqual(sideTargetGroups('shop-web-b'));
    const { sides, metrics } = sidesOf(plan);
    const judge = new Map(metricQueries(sides, metrics!).map((q) => [q.Id!, q]));

    // Every ALB metric on the dashboard is one of the judge's queries: same namespace, name, dimensions, statistic and period.
    const sideWidgets = [/^Requests per side/, /^5xx rate per side/, /^p99 response time per side/].map(d!.widget);
    for (const widget of sideWidgets)
      for (const m of widget.metrics) {
        const q = judge.get(m.id);
        expect(q, `${widget.title}: ${m.id} is not a query of the judge`).toBeDefined();
        expect(m).toMatchObject({
          namespace: q!.MetricStat!.Metric!.Namespace,
          name: q!.MetricStat!.Metric!.MetricName,
          dimensions: Object.fromEntries(q!.MetricStat!.Metric!.Dimensions!.map((x) => [x.Name, x.Value])),
          stat: q!.MetricStat!.Stat,
          period: q!.MetricStat!.Period,
        });
      }
    const [requests, rate, p99] = sideWidgets as [ReturnType<NonNullable<typeof d>['widget']>, ReturnType<NonNullable<typeof d>['widget']>, ReturnType<NonNullable<typeof d>['widget']>];
    const tgOf = (m: { dimensions: Record<string, string> }) => m.dimensions.TargetGroup;
    // Requests: each side's own target groups, nothing else.
    expect(requests.metrics.filter((m) => m.id.startsWith('b_')).map(tgOf)).toEqual(sideTargetGroups('shop-web-a'));
    expect(requests.metrics.filter((m) => m.id.startsWith('g_')).map(tgOf)).toEqual(sideTargetGroups('shop-web-b'));
    expect(requests.metrics.every((m) => m.name === 'RequestCount' && m.stat === 'Sum')).toBe(true);
    // 5xx rate: per side, its errors (missing datapoints are 0) over its requests, in %.
    for (const [side, p, service] of [['blue', 'b', 'shop-web-a'], ['green', 'g', 'shop-web-b']] as const) {
      const errors = rate.metrics.filter((m) => m.id.startsWith(`${p}_err_`) || m.id.startsWith(`${p}_elb_`));
      expect(errors.length).toBeGreaterThan(0);
      const expression = rate.expressions.find((e) => e.id === `${p}_rate`)!;
      expect(expression.label).toBe(`${side} ${service} 5xx %`);
      for (const e of errors) expect(expression.expression).toContain(`FILL(${e.id}, 0)`);
      expect(expression.expression).toMatch(new RegExp(`^100 \\* .* / \\(?${p}_req_0`));
      expect(rate.metrics.filter((m) => m.id.startsWith(`${p}_err_`)).map(tgOf)).toEqual(sideTargetGroups(service));
      // p99: the side's TargetResponseTime p99, in ms.
      const p99s = p99.metrics.filter((m) => m.id.startsWith(`${p}_p99_`));
      expect(p99s.map((m) => [m.name, m.stat, tgOf(m)])).toEqual(sideTargetGroups(service).map((tg) => ['TargetResponseTime', 'p99', tg]));
      expect(p99.expressions.find((e) => e.id === `${p}_p99`)!.expression).toMatch(new RegExp(`^1000 \\* .*${p}_p99_0`));
    }

    // Green's weight, the verdicts, the outcomes: the canary's own metrics, for this stage and pair.
    const own = [/^Green's weight/, /^Verdicts/, /^Canaries per hour: started and outcomes/, /^Canary duration/].map(d!.widget);
    expect(own.flatMap((x) => x.metrics.map((m) => m.name))).toEqual([
      'GreenWeight',
      'HealthyVerdicts',
      'InconclusiveVerdicts',
      'UnhealthyVerdicts',
      'Started',
      'Promoted',
      'RolledBack',
      'Refused',
      'CanaryDurationSeconds',
      'DetectionSeconds',
    ]);
    expect(own[2]!.metrics.map((m) => m.period)).toEqual([3600, 3600, 3600, 3600]); // canaries per hour
    for (const m of own.flatMap((x) => x.metrics)) {
      expect(m.namespace).toBe(CANARY_NAMESPACE);
      expect(m.dimensions).toEqual({ stage: 'prod', pair: 'shop-web' });
    }
    // ... and those series exist: the EMF lines the run printed became these very metrics.
    const datapoints = (name: string, stat: string) =>
      w.sim.cloudwatch.getMetricData({
        MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: CANARY_NAMESPACE, MetricName: name, Dimensions: [{ Name: 'stage', Value: 'prod' }, { Name: 'pair', Value: 'shop-web' }] }, Period: 60, Stat: stat } }],
        StartTime: new Date(Date.now() - 6 * 3600_000),
        EndTime: new Date(Date.now() + 60_000),
      }).MetricDataResults![0]!.Values!;
    expect(datapoints('GreenWeight', 'Maximum')).toContain(100);
    expect(datapoints('Promoted', 'Sum')).toEqual([1]);

    // The last runs: the outcome lines of this pair, from the functions that print them.
    const log = d!.body.widgets.find((x) => x.type === 'log')!.properties;
    for (const fn of OUTCOME_FUNCTIONS) expect(log.query).toContain(`SOURCE '/aws/lambda/ecs-dns-canary-prod-${fn}'`);
    expect(log.query).toContain("filter pair = 'shop-web' and ispresent(outcome)");
    const outcomeLines = emfLines(w).filter((x) => x.line.outcome);
    expect(outcomeLines.map((x) => [x.fn, x.line.outcome, x.line.pair])).toEqual([['release', 'PROMOTED', 'shop-web']]);
    expect(OUTCOME_FUNCTIONS).toContain(outcomeLines[0]!.fn);
    // Its header names the run.
    expect(d!.body.widgets[0]!.properties.markdown).toContain(result!.output.plan.deploymentId);
    // Within the free tier's 50 metrics a dashboard (3 free per account).
    const metricCount = d!.body.widgets.filter((x) => x.type === 'metric').flatMap((x) => (x.properties.metrics as unknown[][]).filter((l) => typeof l[0] === 'string')).length;
    expect(metricCount).toBeLessThanOrEqual(50);
  });

  it('is rewritten by the next canary with its own sides (the roles swapped)', async () => {
    const w = world();
    await w.runCanary();
    const first = stored(w)!.widget(/^Requests per side/).metrics;
    // The next deployment goes to the side that is idle now: shop-web-a.
    w.sim.ecs.deploy('shop', 'shop-web-a', 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-a:2');
    await w.clock.run(new Promise((resolve) => setTimeout(resolve, w.sim.ecs.rolloutMs + 1)));
    const results = await w.clock.run(w.canary.settled());
    expect(results.at(-1)!.status).toBe('SUCCEEDED');
    const second = stored(w)!.widget(/^Requests per side/).metrics;
    const label = (m: { id: string; label: string }) => `${m.id} ${m.label}`;
    expect(first.map(label)).toEqual(expect.arrayContaining([expect.stringMatching(/^b_req_0 blue shop-web-a/), expect.stringMatching(/^g_req_0 green shop-web-b/)]));
    expect(second.map(label)).toEqual(expect.arrayContaining([expect.stringMatching(/^b_req_0 blue shop-web-b/), expect.stringMatching(/^g_req_0 green shop-web-a/)]));
    expect(second.find((m) => m.id === 'g_req_0')!.dimensions.TargetGroup).toBe(first.find((m) => m.id === 'b_req_0')!.dimensions.TargetGroup);
  });

  it('a pair with dashboard: false gets none, and its Preflight no PutDashboard grant', async () => {
    const w = world({ pair: { dashboard: false } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(w.sim.cloudwatch.dashboards.size).toBe(0);
    expect(w.sim.count('cloudwatch', 'PutDashboard', { includeErrors: true })).toBe(0);
    const preflight = declareFunctions(parseConfig({ pairs: [{ ...examplePair(), dashboard: false }] }), STATE_MACHINE_NAME).preflight!;
    expect(statementsOf(preflight).flatMap((s) => s.Action)).not.toContain('cloudwatch:PutDashboard');
    // With a dashboard, exactly that pair's dashboard (dashboards are global: no region in the ARN).
    const granted = statementsOf(declareFunctions(parseConfig(example), STATE_MACHINE_NAME).preflight!).filter((s) => s.Action.includes('cloudwatch:PutDashboard'));
    expect(granted.flatMap((s) => s.Resource)).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/ecs-dns-canary-prod-shop-web' }]);
  });

  it('dashboard takes true or false, and says so by name otherwise', () => {
    expect(configProblems({ pairs: [{ ...examplePair(), dashboard: 'off' }] })).toEqual(['pairs[0].dashboard: dashboard must be true or false']);
    expect(configProblems({ pairs: [{ ...examplePair(), dashboard: false }] })).toEqual([]);
  });

  it('a failed PutDashboard decides nothing: the canary goes on', async () => {
    const w = world();
    w.sim.inject({ service: 'cloudwatch', command: 'PutDashboard', error: 'InternalServiceFault', httpStatusCode: 500 });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(w.sim.cloudwatch.dashboards.size).toBe(0);
    const calls = w.sim.calls.filter((c) => c.command === 'PutDashboard');
    expect(calls.length).toBeGreaterThan(0); // the SDK retried a server fault, then Preflight went on
    expect(calls.every((c) => c.caller === 'preflight' && c.error === 'InternalServiceFault')).toBe(true);
  });

  it('the body of a pair without analysis still shows its sides when both have ALB target groups', () => {
    const body = dashboardBody({
      stage: 'dev',
      region: 'eu-west-1',
      startedAt: '2026-11-23T09:00:00.000Z',
      plan: {
        pair: 'p',
        deploymentId: 'ecs-svc/1',
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:ecs-dns-canary-dev:p--1',
        steps: [10, 100],
        blue: { cluster: 'c', service: 'a', setIdentifier: 'a', targetGroups: [{ targetGroup: 'targetgroup/a/1', loadBalancer: 'app/a/1', type: 'application' }] },
        green: { cluster: 'c', service: 'b', setIdentifier: 'b', taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/b:2', targetGroups: [{ targetGroup: 'targetgroup/b/1', loadBalancer: 'app/b/1', type: 'application' }] },
      },
    });
    const titles = body.widgets.map((x) => x.properties.title ?? 'text');
    expect(titles).toEqual(expect.arrayContaining(['Requests per side (judge: RequestCount, Sum)', '5xx rate per side (%)', 'p99 response time per side (ms)']));
    // Each side has its own load balancer: its ELB 5xx count as its errors, as the judge counts them.
    const rate = body.widgets.find((x) => x.properties.title === '5xx rate per side (%)')!.properties.metrics as unknown[][];
    expect(rate.flat().filter((x) => (x as { expression?: string }).expression).map((x) => (x as { expression: string }).expression)).toEqual([
      '100 * (FILL(b_err_0, 0) + FILL(b_elb_0, 0)) / b_req_0',
      '100 * (FILL(g_err_0, 0) + FILL(g_elb_0, 0)) / g_req_0',
    ]);
  });
});

describe('npx ecs-dns-canary dashboard <pair>', () => {
  it("prints the console URL of the dashboard Preflight wrote; --json names it; --stage picks the stack's", async () => {
    const w = world();
    await w.runCanary();
    const text = await w.operator('dashboard', 'shop-web');
    expect(text.code).toBe(0);
    expect(text.out).toBe(`https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/${NAME}\n`);
    const json = await w.operator('dashboard', 'shop-web', '--json');
    expect(json.json).toEqual({ pair: 'shop-web', dashboard: NAME, url: text.out.trim() });
    expect(w.sim.cloudwatch.dashboards.has(json.json.dashboard)).toBe(true);
    expect((await w.operator('dashboard', 'shop-web', '--stage', 'dev', '--json')).json.dashboard).toBe('ecs-dns-canary-dev-shop-web');
  });

  it('refuses by name: a pair with dashboard: false (DashboardOff), an unknown pair, no pair', async () => {
    const off = world({ pair: { dashboard: false } });
    const r = await off.operator('dashboard', 'shop-web', '--json');
    expect(r.code).toBe(2);
    expect(r.json).toEqual({ error: 'DashboardOff', message: 'pair shop-web has dashboard: false in canary.config.ts: it has no dashboard' });
    expect((await off.operator('dashboard', 'nope', '--json')).json.error).toBe('UnknownPair');
    const none = await off.operator('dashboard');
    expect([none.code, none.err]).toEqual([2, expect.stringMatching(/UsageError: dashboard needs a pair/)]);
  });
});

describe('the canary metrics (EMF lines the functions print)', () => {
  const metricsOf = (line: Record<string, any>) => line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name) as string[];
  const check = (line: Record<string, any>) => {
    expect(line._aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe('ecs-dns-canary');
    expect(directive.Dimensions).toEqual([['stage', 'pair'], ['stage']]);
    expect(line).toMatchObject({ stage: 'prod', pair: 'shop-web' });
    for (const m of directive.Metrics) {
      expect(m.Unit).toBe(CANARY_METRICS[m.Name as keyof typeof CANARY_METRICS]);
      expect(typeof line[m.Name]).toBe('number');
    }
  };

  it('a promoted canary: Started, the weight at each shift and judgement, a verdict per judgement, Promoted with its duration', async () => {
    const w = world();
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const lines = emfLines(w);
    for (const { line } of lines) check(line);
    const by = (fn: string) => lines.filter((x) => x.fn === fn).map((x) => x.line);
    expect(by('preflight').map(metricsOf)).toEqual([['Started', 'GreenWeight']]);
    expect(by('shiftTraffic').map((l) => l.GreenWeight)).toEqual([10, 25, 50, 100]);
    const judged = by('judgeGreen');
    expect(judged.length).toBeGreaterThanOrEqual(4);
    for (const l of judged) expect(metricsOf(l).filter((m) => m.endsWith('Verdicts'))).toHaveLength(1);
    expect(judged.filter((l) => l.HealthyVerdicts === 1).length).toBeGreaterThan(0);
    expect(new Set(judged.map((l) => l.GreenWeight))).toEqual(new Set([10, 25, 50, 100]));
    const [promoted] = by('release');
    expect(metricsOf(promoted!)).toEqual(['Promoted', 'CanaryDurationSeconds']);
    // From Preflight to the release: the run's own length (virtual time).
    const execution = [...w.sim.executions.values()].find((x) => x.executionArn === result!.executionArn)!;
    const ran = (execution.stoppedAt! - execution.startedAt) / 1000;
    expect(promoted!.CanaryDurationSeconds).toBeGreaterThan(ran - 10);
    expect(promoted!.CanaryDurationSeconds).toBeLessThanOrEqual(ran);
    expect(promoted).toMatchObject({ outcome: 'PROMOTED', deploymentId: result!.output.plan.deploymentId, execution: result!.executionArn.split(':').at(-1) });
  });

  it('a rollback: RolledBack, green back to 0, the duration and the detection time (from the shift green failed at)', async () => {
    const w = world();
    let shifted = 0;
    w.whenGreenReaches(25, () => (shifted = Date.now()));
    w.whenGreenReaches(25, () => w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed'), 90_000);
    const [result] = await w.runCanary();
    expect(result!.error).toBe('CanaryRolledBack');
    const rolled = emfLines(w).filter((x) => x.line.RolledBack);
    expect(rolled.map((x) => x.fn)).toEqual(['rollBack']);
    const line = rolled[0]!.line;
    check(line);
    expect(metricsOf(line)).toEqual(['RolledBack', 'GreenWeight', 'CanaryDurationSeconds', 'DetectionSeconds']);
    expect(line.GreenWeight).toBe(0);
    // The alarm fired 90 s after the 25 % shift's change batch; the event reaches the run in about a second.
    expect(shifted).toBeGreaterThan(0);
    expect(line.DetectionSeconds).toBeGreaterThanOrEqual(90);
    expect(line.DetectionSeconds).toBeLessThan(100);
    expect(line).toMatchObject({ outcome: 'ROLLED_BACK' });
    expect(line.reason).toMatch(/AlarmFired/);
  });

  it('a refusal before any traffic moved: Refused, from Preflight', async () => {
    const w = world();
    w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed');
    const [result] = await w.runCanary();
    expect(result!.error).toBe('AlarmAlreadyFiring');
    const lines = emfLines(w);
    expect(lines.map((x) => [x.fn, metricsOf(x.line)])).toEqual([['preflight', ['Refused']]]);
    check(lines[0]!.line);
    expect(lines[0]!.line).toMatchObject({ outcome: 'REFUSED', reason: expect.stringMatching(/^AlarmAlreadyFiring: /) });
    expect(w.sim.cloudwatch.dashboards.size).toBe(0);
  });

  it('a stopped run restored by the safety net: RolledBack, from the safety net', async () => {
    const w = world({ start: { sweep: false } });
    w.whenGreenReaches(50, () => w.canary.executions[0]!.abort(), 30_000);
    await w.runCanary();
    await Promise.all(w.canary.safetyNets);
    const rolled = emfLines(w).filter((x) => x.line.RolledBack);
    expect(rolled.map((x) => x.fn)).toEqual(['safetyNet']);
    check(rolled[0]!.line);
    expect(rolled[0]!.line.GreenWeight).toBe(0);
  });

  it('an inconclusive judgement is counted: too little traffic never passes a step', async () => {
    const w = world({ pair: { analysis: { maxBakeSeconds: 600 } } });
    w.sim.traffic.setRate(w.pair.hostedZoneId, w.pair.recordName, w.pair.recordType, 0.2);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    const judged = emfLines(w).filter((x) => x.fn === 'judgeGreen').map((x) => x.line);
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.every((l) => l.InconclusiveVerdicts === 1 && l.HealthyVerdicts === undefined)).toBe(true);
  });
});
