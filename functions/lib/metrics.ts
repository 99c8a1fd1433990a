/**
 * Which CloudWatch metrics the judge reads for each side, and how GetMetricData's answer
 * becomes settled minutes for the analysis. Pure: the one GetMetricData call per poll is made
 * by aws/cloudwatch.ts.
 */
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { TargetGroupInfo } from './aws/elbv2.js';
import type { Minute, SideMinute } from './analysis.js';
import { DEFAULT_SETTINGS, MIN_MINUTES_OF_EVIDENCE, type AnalysisSettings } from './analysis.js';
import type { AnalysisConfig, CustomMetricConfig } from './config.js';

/** A target group of a side, as CloudWatch names it (ARN tails). */
export interface TargetGroupRef {
  targetGroup: string;
  /** `app/<name>/<id>` of the load balancer the group serves (the first, if several); null if none. */
  loadBalancer: string | null;
  type: 'application' | 'network' | 'gateway' | 'none';
}

export interface SideTargets {
  cluster: string;
  service: string;
  targetGroups: TargetGroupRef[];
}

/** What the judge reads: the built-in ALB metrics (when both sides have ALB target groups) and the pair's own. */
export interface MetricsPlan {
  builtIn: boolean;
  /** Each side has load balancers of its own: HTTPCode_ELB_5XX_Count then tells the sides apart. */
  ownLoadBalancers: boolean;
  metrics: CustomMetricConfig[];
}

const ALB = 'AWS/ApplicationELB';
const PERIOD = 60;
const SIDES = { blue: 'b', green: 'g' } as const;
type Side = keyof typeof SIDES;

/** A target group in CloudWatch's terms, from what DescribeTargetGroups said of it: its first load balancer's dimension and type, or none. */
export const targetGroupRef = (arn: string, groups: readonly TargetGroupInfo[]): TargetGroupRef => {
  const g = groups.find((x) => x.arn === arn);
  const lb = g?.loadBalancers[0];
  return { targetGroup: g?.targetGroup ?? arn.split(':').at(-1)!, loadBalancer: lb?.dimension ?? null, type: lb?.type ?? 'none' };
};

export const isAlb = (t: TargetGroupRef) => t.type === 'application' && t.loadBalancer !== null;

/** What to read for a pair whose sides have these target groups (null: nothing to judge green by). */
export function metricsPlanOf(sides: Record<Side, SideTargets>, config: AnalysisConfig): MetricsPlan | null {
  const builtIn = sides.blue.targetGroups.some(isAlb) && sides.green.targetGroups.some(isAlb);
  if (!builtIn && config.metrics.length === 0) return null;
  const lbs = (s: SideTargets) => new Set(s.targetGroups.filter(isAlb).map((t) => t.loadBalancer));
  const blue = lbs(sides.blue);
  const ownLoadBalancers = builtIn && [...lbs(sides.green)].every((lb) => !blue.has(lb));
  return { builtIn, ownLoadBalancers, metrics: config.metrics };
}

/**
 * The analysis settings of a pair's configuration. A step passes on no fewer settled minutes
 * than its bake, and than the error test needs to reach its threshold at all (it cannot
 * on fewer than MIN_MINUTES_OF_EVIDENCE): otherwise a bad green could pass a step unseen.
 */
export function settingsOf(config: AnalysisConfig, bakeSeconds: number): AnalysisSettings {
  return {
    ...DEFAULT_SETTINGS,
    minStepMinutes: Math.max(MIN_MINUTES_OF_EVIDENCE + 1, Math.ceil(bakeSeconds / 60)),
    mode: config.mode,
    alpha: config.alpha,
    errorRatio: config.errorRatio,
    errorFloorPercent: config.errorFloorPercent,
    settleSeconds: config.settleSeconds,
    minRequests: config.minRequests,
    minShareOfWeight: config.minShareOfWeight,
    maxBakeSeconds: config.maxBakeSeconds,
    onInconclusive: config.onInconclusive,
    latency: config.latency === false ? false : { ratio: config.latency.ratio, floor: config.latency.floorMs, minutes: config.latency.minutes, minRequests: config.latency.minRequests },
    incident: config.incident,
    baselineMinutes: config.baselineMinutes,
    counts: config.metrics.filter((m) => 'errors' in m).map((m) => m.name),
    values: config.metrics.flatMap((m) => ('value' in m ? [{ name: m.name, ratio: m.maxRatio, floor: m.floor }] : [])),
  };
}

const stat = (id: string, namespace: string, metricName: string, dimensions: Record<string, string>, s: string, label: string): MetricDataQuery => ({
  Id: id,
  Label: label,
  MetricStat: {
    Metric: { Namespace: namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) },
    Period: PERIOD,
    Stat: s,
  },
  ReturnData: true,
});

/** `${loadBalancer}`, `${targetGroup}`, `${cluster}` and `${service}` of one side. */
export function resolveDimensions(dimensions: Record<string, string>, side: SideTargets): Record<string, string> {
  const first = side.targetGroups[0];
  const vars: Record<string, string | undefined> = { loadBalancer: first?.loadBalancer ?? undefined, targetGroup: first?.targetGroup, cluster: side.cluster, service: side.service };
  return Object.fromEntries(
    Object.entries(dimensions).map(([name, value]) => [
      name,
      value.replace(/\$\{(\w+)\}/g, (whole, v: string) => {
        const resolved = vars[v];
        if (resolved === undefined) throw new Error(`dimension ${name}: ${whole} has no value for ${side.cluster}/${side.service}`);
        return resolved;
      }),
    ]),
  );
}

/** The queries of one side (ids `<b|g>_...`): each side's metrics are read where that side runs. */
export const queriesOf = (queries: MetricDataQuery[], side: Side): MetricDataQuery[] => queries.filter((q) => q.Id?.startsWith(`${SIDES[side]}_`));

/** Every query of one poll, both sides in one GetMetricData call when they run in one place. Ids: `<b|g>_<what>_<n>`. */
export function metricQueries(sides: Record<Side, SideTargets>, plan: MetricsPlan): MetricDataQuery[] {
  const queries: MetricDataQuery[] = [];
  for (const side of ['blue', 'green'] as const) {
    const p = SIDES[side];
    const name = `${side} ${sides[side].service}`;
    if (plan.builtIn) {
      sides[side].targetGroups.filter(isAlb).forEach((t, i) => {
        const dims = { LoadBalancer: t.loadBalancer!, TargetGroup: t.targetGroup };
        queries.push(
          stat(`${p}_req_${i}`, ALB, 'RequestCount', dims, 'Sum', `${name} requests`),
          stat(`${p}_err_${i}`, ALB, 'HTTPCode_Target_5XX_Count', dims, 'Sum', `${name} target 5xx`),
          stat(`${p}_p99_${i}`, ALB, 'TargetResponseTime', dims, 'p99', `${name} p99`),
        );
      });
      if (plan.ownLoadBalancers)
        [...new Set(sides[side].targetGroups.filter(isAlb).map((t) => t.loadBalancer!))].forEach((lb, i) =>
          queries.push(stat(`${p}_elb_${i}`, ALB, 'HTTPCode_ELB_5XX_Count', { LoadBalancer: lb }, 'Sum', `${name} load balancer 5xx`)),
        );
    }
    plan.metrics.forEach((m, k) => {
      const q = (what: string, s: MetricStatConfig) =>
        stat(`${p}_m${k}_${what}`, s.namespace, s.metricName, resolveDimensions(s.dimensions, sides[side]), s.stat, `${name} ${m.name} ${what}`);
      if ('errors' in m) queries.push(q('e', m.errors), q('r', m.requests));
      else queries.push(q('v', m.value));
    });
  }
  return queries;
}

type MetricStatConfig = Extract<CustomMetricConfig, { value: unknown }>['value'];

export type Series = Map<string, { timestamps: Date[]; values: number[] }>;

/** The value of a query at a minute; undefined when CloudWatch has no datapoint. */
function at(series: Series, id: string, minute: number): number | undefined {
  const s = series.get(id);
  if (!s) return undefined;
  const i = s.timestamps.findIndex((t) => t.getTime() === minute);
  return i < 0 ? undefined : s.values[i];
}

const sumOf = (series: Series, prefix: string, minute: number) =>
  [...series.keys()].filter((id) => id.startsWith(prefix)).reduce((n, id) => n + (at(series, id, minute) ?? 0), 0);

/**
 * One minute per period from `from` (inclusive) to `to` (exclusive), both on the minute. No
 * RequestCount datapoint: no requests. No 5xx datapoint in a minute with requests: no errors
 * (CloudWatch publishes error counts only when non-zero). A side's p99 is the worst of its
 * target groups', in ms.
 */
export function minutesFrom(series: Series, from: number, to: number, greenPercentAt: (minuteStart: number) => number, plan: MetricsPlan): Minute[] {
  const minutes: Minute[] = [];
  for (let t = from; t < to; t += PERIOD * 1000) {
    const side = (s: Side): SideMinute => {
      const p = SIDES[s];
      const p99s = [...series.keys()].filter((id) => id.startsWith(`${p}_p99_`)).map((id) => at(series, id, t)).filter((v): v is number => v !== undefined);
      const minute: SideMinute = {
        requests: Math.round(sumOf(series, `${p}_req_`, t)),
        errors: Math.round(sumOf(series, `${p}_err_`, t) + sumOf(series, `${p}_elb_`, t)),
        p99Ms: p99s.length ? 1000 * Math.max(...p99s) : null,
      };
      plan.metrics.forEach((m, k) => {
        if ('errors' in m) (minute.counts ??= {})[m.name] = { requests: Math.round(at(series, `${p}_m${k}_r`, t) ?? 0), errors: Math.round(at(series, `${p}_m${k}_e`, t) ?? 0) };
        else (minute.values ??= {})[m.name] = at(series, `${p}_m${k}_v`, t) ?? null;
      });
      return minute;
    };
    minutes.push({ at: new Date(t).toISOString(), greenPercent: greenPercentAt(t), blue: side('blue'), green: side('green') });
  }
  return minutes;
}

/** GetMetricData's window for a poll at `now`: from the baseline before the first shift to the newest settled minute (exclusive end, on the minute). */
export function settledWindow(firstShiftAt: number, now: number, settings: Pick<AnalysisSettings, 'settleSeconds' | 'baselineMinutes'>): { from: number; to: number } {
  const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  return { from: minute(firstShiftAt) - settings.baselineMinutes * 60_000, to: minute(now - settings.settleSeconds * 1000) };
}
