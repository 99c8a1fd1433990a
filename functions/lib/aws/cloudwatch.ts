import { CloudWatchClient, DescribeAlarmsCommand, GetDashboardCommand, GetMetricDataCommand, PutDashboardCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AlarmStatus, AlarmStateValue } from '../judge.js';

export const cloudwatch = new CloudWatchClient({});

/** Current state of the named metric and composite alarms; names that do not exist come back in `missing`. */
export async function describeAlarms(names: readonly string[]): Promise<{ alarms: AlarmStatus[]; missing: string[] }> {
  const alarms: AlarmStatus[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let nextToken: string | undefined;
    do {
      const out = await cloudwatch.send(
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

/** GetMetricData takes at most 500 queries per call (API reference). */
const MAX_QUERIES_PER_CALL = 500;

/**
 * One logical read of the queries over [start, end) (CloudWatch rounds both down to the minute),
 * every page (NextToken) followed, oldest datapoint first. Keyed by query Id; a query with no
 * datapoints maps to empty arrays (queries with ReturnData false are not returned).
 */
export async function getMetricData(queries: MetricDataQuery[], start: Date, end: Date): Promise<Map<string, { timestamps: Date[]; values: number[] }>> {
  const series = new Map<string, { timestamps: Date[]; values: number[] }>();
  for (const q of queries) if (q.ReturnData !== false && q.Id) series.set(q.Id, { timestamps: [], values: [] });
  for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
    let nextToken: string | undefined;
    do {
      const out = await cloudwatch.send(
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
