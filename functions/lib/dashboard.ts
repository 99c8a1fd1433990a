/**
 * A pair's CloudWatch dashboard, `ecs-dns-canary-<stage>-<pair>`, as Preflight writes it when a
 * canary starts: that run's sides, read through the judge's own queries (metrics.ts
 * metricQueries: the same metrics, dimensions, statistics and ids the judge reads), green's
 * weight and the canary's verdicts and outcomes (canary-metrics.ts), and the last runs (a Logs
 * Insights query over the outcome lines). Pure: PutDashboard is in aws/cloudwatch.ts.
 */
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { Plan } from './canary-state.js';
import { accountOfRole, analysisOf } from './config.js';
import { CANARY_NAMESPACE, type CanaryMetric } from './canary-metrics.js';
import { metricQueries, metricsPlanOf, type MetricsPlan, type SideTargets } from './metrics.js';
import { dashboardName, stateMachineName } from './stack.js';

export { dashboardName };

/** The functions whose EMF lines carry a run's outcome (the last-runs widget reads their log groups). */
export const OUTCOME_FUNCTIONS = ['preflight', 'release', 'rollBack', 'safetyNet', 'sweep'] as const;

/** The console page of a dashboard (dashboards are global; the console opens them from a region). */
export const dashboardUrl = (region: string, name: string) => `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${name}`;

type MetricLine = (string | Record<string, unknown>)[];
interface Widget {
  type: 'text' | 'metric' | 'log';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}
export interface DashboardBody {
  start: string;
  periodOverride: 'inherit';
  widgets: Widget[];
}

/** A judge's query as a dashboard metric line: namespace, name, dimension pairs, then its id, label and statistic. */
const lineOf = (q: MetricDataQuery, extra: Record<string, unknown> = {}): MetricLine => {
  const m = q.MetricStat!;
  return [
    m.Metric!.Namespace!,
    m.Metric!.MetricName!,
    ...(m.Metric!.Dimensions ?? []).flatMap((d) => [d.Name!, d.Value!]),
    { id: q.Id!, label: q.Label!, stat: m.Stat!, period: m.Period!, ...extra },
  ];
};

const canaryLine = (metric: CanaryMetric, stage: string, pair: string, stat: string, label: string = metric, period = 60): MetricLine => [
  CANARY_NAMESPACE,
  metric,
  'stage',
  stage,
  'pair',
  pair,
  { stat, label, period },
];

const SIDES = { blue: 'b', green: 'g' } as const;
const sum = (ids: string[]) => (ids.length === 1 ? ids[0]! : `(${ids.join(' + ')})`);

/** The judge's sides and metrics plan, from the run's plan (what Preflight resolved). */
export function sidesOf(plan: Pick<Plan, 'blue' | 'green' | 'analysis'>): { sides: Record<'blue' | 'green', SideTargets>; metrics: MetricsPlan | null } {
  const sides = {
    blue: { cluster: plan.blue.cluster, service: plan.blue.service, targetGroups: plan.blue.targetGroups ?? [] },
    green: { cluster: plan.green.cluster, service: plan.green.service, targetGroups: plan.green.targetGroups ?? [] },
  };
  // The judge's plan when it compares; without analysis, still each side's ALB numbers when both have them.
  const metrics = plan.analysis
    ? { builtIn: plan.analysis.builtIn, ownLoadBalancers: plan.analysis.ownLoadBalancers, metrics: plan.analysis.metrics }
    : metricsPlanOf(sides, { ...(analysisOf({}) as Exclude<ReturnType<typeof analysisOf>, false>), metrics: [] });
  return { sides, metrics };
}

export interface DashboardInput {
  stage: string;
  region: string;
  plan: Pick<Plan, 'pair' | 'deploymentId' | 'executionArn' | 'blue' | 'green' | 'analysis' | 'steps'>;
  /** When the run started (Preflight), ISO. */
  startedAt: string;
}

/** The dashboard of the run's pair. */
export function dashboardBody({ stage, region, plan, startedAt }: DashboardInput): DashboardBody {
  const { sides, metrics } = sidesOf(plan);
  const queries = metrics ? metricQueries(sides, metrics) : [];
  const started = { vertical: [{ label: `${plan.deploymentId} started`, value: startedAt }] };
  const graph = (title: string, lines: MetricLine[], more: Record<string, unknown> = {}) => ({
    type: 'metric' as const,
    properties: { title, region, view: 'timeSeries', stacked: false, metrics: lines, annotations: started, ...more },
  });
  // A side elsewhere: its metrics are drawn from its region and account (cross-account observability for another account).
  const placed = (q: MetricDataQuery, extra: Record<string, unknown> = {}) => {
    const side = plan[q.Id!.startsWith(`${SIDES.green}_`) ? 'green' : 'blue'];
    return lineOf(q, { ...(side.region ? { region: side.region } : {}), ...(side.roleArn ? { accountId: accountOfRole(side.roleArn) } : {}), ...extra });
  };
  const ofKind = (side: 'blue' | 'green', kind: string) => queries.filter((q) => q.Id!.startsWith(`${SIDES[side]}_${kind}_`));
  const panels: { type: Widget['type']; properties: Record<string, unknown> }[] = [];

  panels.push(
    graph("Green's weight (%)", [canaryLine('GreenWeight', stage, plan.pair, 'Maximum', `green ${plan.green.service} %`)], { yAxis: { left: { min: 0, max: 100 } } }),
    graph('Verdicts of green (one per judgement)', [
      canaryLine('HealthyVerdicts', stage, plan.pair, 'Sum', 'HEALTHY'),
      canaryLine('InconclusiveVerdicts', stage, plan.pair, 'Sum', 'INCONCLUSIVE'),
      canaryLine('UnhealthyVerdicts', stage, plan.pair, 'Sum', 'UNHEALTHY'),
    ], { view: 'bar', stacked: true }),
  );

  if (metrics?.builtIn) {
    panels.push(graph('Requests per side (judge: RequestCount, Sum)', queries.filter((q) => /^[bg]_req_/.test(q.Id!)).map((q) => placed(q))));
    // The judge's error count: target 5xx, plus each side's own load balancer's 5xx when it has one; no datapoint is 0 errors.
    const rateLines: MetricLine[] = [];
    for (const side of ['blue', 'green'] as const) {
      const errors = [...ofKind(side, 'err'), ...ofKind(side, 'elb')];
      const requests = ofKind(side, 'req');
      for (const q of [...errors, ...requests]) rateLines.push(placed(q, { visible: false, label: q.Label! }));
      rateLines.push([{ expression: `100 * ${sum(errors.map((q) => `FILL(${q.Id}, 0)`))} / ${sum(requests.map((q) => q.Id!))}`, label: `${side} ${sides[side].service} 5xx %`, id: `${SIDES[side]}_rate` }]);
    }
    panels.push(graph('5xx rate per side (%)', rateLines));
    // The judge takes a side's p99 as the worst of its target groups', in ms.
    const p99Lines: MetricLine[] = [];
    for (const side of ['blue', 'green'] as const) {
      const p99 = ofKind(side, 'p99');
      for (const q of p99) p99Lines.push(placed(q, { visible: false }));
      p99Lines.push([{ expression: p99.length === 1 ? `1000 * ${p99[0]!.Id}` : `1000 * MAX([${p99.map((q) => q.Id).join(', ')}])`, label: `${side} ${sides[side].service} p99 (ms)`, id: `${SIDES[side]}_p99` }]);
    }
    panels.push(graph('p99 response time per side (ms)', p99Lines));
  }
  const custom = queries.filter((q) => /^[bg]_m\d+_/.test(q.Id!));
  if (custom.length) panels.push(graph("The pair's own metrics per side (analysis.metrics)", custom.map((q) => placed(q))));

  panels.push(
    graph('Canaries per hour: started and outcomes', [
      canaryLine('Started', stage, plan.pair, 'Sum', 'Started', 3600),
      canaryLine('Promoted', stage, plan.pair, 'Sum', 'Promoted', 3600),
      canaryLine('RolledBack', stage, plan.pair, 'Sum', 'RolledBack', 3600),
      canaryLine('Refused', stage, plan.pair, 'Sum', 'Refused', 3600),
    ], { view: 'bar' }),
    graph('Canary duration and detection (s)', [
      canaryLine('CanaryDurationSeconds', stage, plan.pair, 'Maximum', 'canary duration'),
      canaryLine('DetectionSeconds', stage, plan.pair, 'Maximum', 'last shift to rollback'),
    ]),
  );
  const groups = OUTCOME_FUNCTIONS.map((fn) => `SOURCE '/aws/lambda/${stateMachineName(stage)}-${fn}'`).join(' | ');
  panels.push({
    type: 'log',
    properties: {
      title: `The last runs of ${plan.pair}`,
      region,
      view: 'table',
      query: `${groups} | fields @timestamp, outcome, deploymentId, execution, reason, CanaryDurationSeconds | filter pair = '${plan.pair}' and ispresent(outcome) | sort @timestamp desc | limit 20`,
    },
  });

  const execution = `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${plan.executionArn}`;
  const text = [
    `# ${plan.pair}: green ${plan.green.service} against blue ${plan.blue.service}`,
    `Canary of **${plan.deploymentId}** (task definition \`${plan.green.taskDefinition.split('/').at(-1)}\`), started ${startedAt}, steps ${plan.steps.join(' → ')} %: [its execution](${execution}).`,
    `Written by ecs-dns-canary (Preflight) when a canary of this pair starts, with that run's sides: edits here are replaced. \`npx ecs-dns-canary status ${plan.pair}\` · \`history ${plan.pair}\``,
  ].join('\n\n');

  const widgets: Widget[] = [{ type: 'text', x: 0, y: 0, width: 24, height: 3, properties: { markdown: text } }];
  panels.forEach((p, i) => widgets.push({ type: p.type, x: (i % 2) * 12, y: 3 + Math.floor(i / 2) * 6, width: 12, height: 6, properties: p.properties }));
  return { start: '-PT3H', periodOverride: 'inherit', widgets };
}
