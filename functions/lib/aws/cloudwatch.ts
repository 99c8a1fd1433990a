import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
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
