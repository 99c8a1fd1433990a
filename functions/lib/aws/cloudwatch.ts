import { CloudWatchClient, DescribeAlarmsCommand, GetDashboardCommand, GetMetricDataCommand, PutDashboardCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { byPlace, type SideAccess } from '../access.js';
import type { AlarmStatus, AlarmStateValue } from '../judge.js';
import { clientFor } from './sts.js';

export const cloudwatch = new CloudWatchClient({});

/** CloudWatch where a side runs (its region, its account's role): its alarms and its metrics are there. */
const cloudwatchFor = (access?: SideAccess) => clientFor('cloudwatch', access, cloudwatch, (config) => new CloudWatchClient(config));

/** Current state of the named metric and composite alarms; names that do not exist come back in `missing`. */
export async function describeAlarms(names: readonly string[], access?: SideAccess): Promise<{ alarms: AlarmStatus[]; missing: string[] }> {
  const alarms: AlarmStatus[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let nextToken: string | undefined;
    do {
      const out = await cloudwatchFor(access).send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: nextToken,
        }),
      );
      for (const a of out.MetricAlarms ?? [])
        alarms.push({ name: a.AlarmName!, kind: 'metric', state: a.StateValue as AlarmStateValue, reason: a.StateReason ?? '' });
      for (const a of out.CompositeAlarms ?? [])
        alarms.push({ name: a.AlarmName!, kind: 'composite', state: a.StateValue as AlarmStateValue, reason: a.StateReason ?? '' });
      nextToken = out.NextToken;
    } while (nextToken);
  }
  const seen = new Set(alarms.map((a) => a.name));
  return { alarms, missing: names.filter((n) => !seen.has(n)) };
}

/**
 * Alarms that live in several places (the pair's in the stack's, each side's own where it runs):
 * one read per place, merged.
 */
export async function describeAlarmsByPlace(groups: { names: readonly string[]; access?: SideAccess }[]): Promise<{ alarms: AlarmStatus[]; missing: string[] }> {
  const read = await Promise.all(byPlace(groups.map((g) => ({ items: g.names, access: g.access }))).map((p) => describeAlarms([...new Set(p.items)], p.access)));
  return { alarms: read.flatMap((r) => r.alarms), missing: read.flatMap((r) => r.missing) };
}

/** GetMetricData takes at most 500 queries per call (API reference). */
const MAX_QUERIES_PER_CALL = 500;

/**
 * One logical read of the queries over [start, end) (CloudWatch rounds both down to the minute),
 * every page (NextToken) followed, oldest datapoint first. Keyed by query Id; a query with no
 * datapoints maps to empty arrays (queries with ReturnData false are not returned).
 */
export async function getMetricData(queries: MetricDataQuery[], start: Date, end: Date, access?: SideAccess): Promise<Map<string, { timestamps: Date[]; values: number[] }>> {
  const series = new Map<string, { timestamps: Date[]; values: number[] }>();
  for (const q of queries) if (q.ReturnData !== false && q.Id) series.set(q.Id, { timestamps: [], values: [] });
  for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
    let nextToken: string | undefined;
    do {
      const out = await cloudwatchFor(access).send(
        new GetMetricDataCommand({
          MetricDataQueries: queries.slice(i, i + MAX_QUERIES_PER_CALL),
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      for (const r of out.MetricDataResults ?? []) {
        if (!r.Id) continue;
        let s = series.get(r.Id);
        if (!s) series.set(r.Id, (s = { timestamps: [], values: [] }));
        const timestamps = r.Timestamps ?? [];
        const values = r.Values ?? [];
        for (let k = 0; k < Math.min(timestamps.length, values.length); k++) {
          s.timestamps.push(timestamps[k]!);
          s.values.push(values[k]!);
        }
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return series;
}

/**
 * Queries whose metrics live in several places (each side's where it runs): one read per place
 * (a single call when both sides share one), merged by query Id.
 */
export async function getMetricDataByPlace(groups: { queries: MetricDataQuery[]; access?: SideAccess }[], start: Date, end: Date): Promise<Map<string, { timestamps: Date[]; values: number[] }>> {
  const read = await Promise.all(byPlace(groups.map((g) => ({ items: g.queries, access: g.access }))).map((p) => getMetricData(p.items, start, end, p.access)));
  return new Map(read.flatMap((series) => [...series]));
}

/**
 * Creates or replaces a dashboard (PutDashboard: the whole body is replaced). CloudWatch
 * validates the body and may accept it with warnings (DashboardValidationMessages), which are
 * returned; an invalid body fails with InvalidParameterInput.
 */
export async function putDashboard(name: string, body: object): Promise<string[]> {
  const out = await cloudwatch.send(new PutDashboardCommand({ DashboardName: name, DashboardBody: JSON.stringify(body) }));
  return (out.DashboardValidationMessages ?? []).map((m) => `${m.DataPath ?? ''}: ${m.Message ?? ''}`);
}

/** A dashboard's body, parsed; undefined when there is no such dashboard. */
export async function getDashboard(name: string): Promise<object | undefined> {
  try {
    const out = await cloudwatch.send(new GetDashboardCommand({ DashboardName: name }));
    return JSON.parse(out.DashboardBody ?? '{}');
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFound' || (e as Error).name === 'ResourceNotFoundException' || (e as Error).name === 'DashboardNotFoundError') return undefined;
    throw e;
  }
}
