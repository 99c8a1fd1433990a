import type { DescribeAlarmsCommandInput, PutCompositeAlarmCommandInput, PutMetricAlarmCommandInput, SetAlarmStateCommandInput } from '@aws-sdk/client-cloudwatch';
import { awsError } from './errors.js';

type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmStateChangeEvent {
  version: string;
  id: string;
  'detail-type': 'CloudWatch Alarm State Change';
  source: 'aws.cloudwatch';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: { alarmName: string; state: { value: State; reason: string; timestamp: string }; previousState: { value: State } };
}

interface SimAlarm {
  name: string;
  kind: 'metric' | 'composite';
  state: State;
  reason: string;
  rule?: string;
  updatedAt: Date;
}

/**
 * Metric alarms whose state a test (or the demo) sets over time, and composite alarms whose
 * state follows their AlarmRule over the other alarms, as CloudWatch evaluates it.
 */
export class CloudWatchModel {
  private alarms = new Map<string, SimAlarm>();
  private listeners: ((event: AlarmStateChangeEvent) => void)[] = [];

  /** EventBridge's `CloudWatch Alarm State Change`, for metric and composite alarms alike. */
  onStateChange(listener: (event: AlarmStateChangeEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(name: string, previous: State, state: { state: State; reason: string }): void {
    const time = new Date().toISOString();
    const event: AlarmStateChangeEvent = {
      version: '0',
      id: `alarm-${name}-${Date.now()}`,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: this.account,
      time,
      region: this.region,
      resources: [`arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${name}`],
      detail: { alarmName: name, state: { value: state.state, reason: state.reason, timestamp: time }, previousState: { value: previous } },
    };
    for (const listener of this.listeners) listener(event);
  }

  constructor(
    private account: string,
    private region: string,
  ) {}

  putMetricAlarm(input: Pick<PutMetricAlarmCommandInput, 'AlarmName'>) {
    const name = input.AlarmName!;
    const existing = this.alarms.get(name);
    this.alarms.set(name, existing ?? { name, kind: 'metric', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updatedAt: new Date() });
    return {};
  }

  putCompositeAlarm(input: Pick<PutCompositeAlarmCommandInput, 'AlarmName' | 'AlarmRule'>) {
    const rule = input.AlarmRule!;
    evaluate(rule, () => 'OK'); // rejects a malformed rule up front
    this.alarms.set(input.AlarmName!, { name: input.AlarmName!, kind: 'composite', state: 'INSUFFICIENT_DATA', reason: '', rule, updatedAt: new Date() });
    return {};
  }

  setAlarmState(input: Pick<SetAlarmStateCommandInput, 'AlarmName' | 'StateValue' | 'StateReason'>) {
    const alarm = this.alarms.get(input.AlarmName!);
    if (!alarm) return awsError('ResourceNotFound', `Alarm ${input.AlarmName} not found`, 404);
    if (alarm.kind === 'composite') return awsError('InvalidParameterValue', 'SetAlarmState is for metric alarms here; a composite follows its rule');
    const composites = [...this.alarms.values()].filter((a) => a.kind === 'composite').map((a) => [a.name, this.stateOf(a.name).state] as const);
    const previous = alarm.state;
    Object.assign(alarm, { state: input.StateValue as State, reason: input.StateReason ?? '', updatedAt: new Date() });
    if (previous !== alarm.state) this.emit(alarm.name, previous, alarm);
    for (const [name, before] of composites) {
      const now = this.stateOf(name);
      if (now.state !== before) this.emit(name, before, now);
    }
    return {};
  }

  deleteAlarms(input: { AlarmNames?: string[] }) {
    for (const name of input.AlarmNames ?? []) this.alarms.delete(name);
    return {};
  }

  /** Shorthand for tests and the demo. */
  setState(name: string, state: State, reason = `set to ${state}`): void {
    this.setAlarmState({ AlarmName: name, StateValue: state, StateReason: reason });
  }

  stateOf(name: string): { state: State; reason: string } {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`no simulated alarm ${name}`);
    if (alarm.kind === 'metric') return alarm;
    const state = evaluate(alarm.rule!, (child) => this.stateOf(child).state);
    return { state, reason: `AlarmRule ${alarm.rule} evaluated to ${state === 'ALARM' ? 'TRUE' : 'FALSE'}` };
  }

  /**
   * `composites: false` when the caller's permission is not scoped to `*`: CloudWatch then
   * leaves composite alarms out of the answer (DescribeAlarms API reference).
   */
  describeAlarms(input: DescribeAlarmsCommandInput, { composites = true } = {}) {
    const types = (input.AlarmTypes ?? ['MetricAlarm']).filter((t) => composites || t !== 'CompositeAlarm');
    if ((input.AlarmNames?.length ?? 0) > 100)
      awsError('ValidationError', `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`);
    const names = input.AlarmNames ?? [...this.alarms.keys()];
    const arn = (name: string) => `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${name}`;
    const MetricAlarms = [];
    const CompositeAlarms = [];
    for (const name of names) {
      const alarm = this.alarms.get(name);
      if (!alarm) continue;
      const { state, reason } = this.stateOf(name);
      const common = { AlarmName: name, AlarmArn: arn(name), StateValue: state, StateReason: reason, StateUpdatedTimestamp: alarm.updatedAt };
      if (alarm.kind === 'metric' && types.includes('MetricAlarm')) MetricAlarms.push(common);
      if (alarm.kind === 'composite' && types.includes('CompositeAlarm')) CompositeAlarms.push({ ...common, AlarmRule: alarm.rule });
    }
    // As CloudWatch, in pages of MaxRecords with a NextToken (AWS does not document the default page size; 50 here).
    const size = Math.min(input.MaxRecords ?? 50, 100);
    const start = Number(input.NextToken ?? 0);
    const all = [...MetricAlarms.map((a) => ['metric', a] as const), ...CompositeAlarms.map((a) => ['composite', a] as const)];
    const page = all.slice(start, start + size);
    return {
      MetricAlarms: page.filter(([k]) => k === 'metric').map(([, a]) => a),
      CompositeAlarms: page.filter(([k]) => k === 'composite').map(([, a]) => a),
      ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
    };
  }
}

/**
 * Evaluates a composite AlarmRule: ALARM("x"), OK("x"), INSUFFICIENT_DATA("x"), TRUE, FALSE,
 * combined with AND, OR, NOT and parentheses (NOT binds tightest, then AND, then OR).
 */
export function evaluate(rule: string, stateOf: (name: string) => State): State {
  const tokens = rule.match(/\(|\)|"(?:[^"\\]|\\.)*"|[A-Za-z_]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i]?.toUpperCase();
  const expect = (t: string) => {
    if (tokens[i] !== t) throw new Error(`malformed AlarmRule ${rule}: expected ${t} at token ${i}`);
    i++;
  };
  const primary = (): boolean => {
    const t = peek();
    if (t === 'NOT') return i++, !primary();
    if (t === '(') {
      i++;
      const v = or();
      expect(')');
      return v;
    }
    if (t === 'TRUE' || t === 'FALSE') return i++, t === 'TRUE';
    if (t === 'ALARM' || t === 'OK' || t === 'INSUFFICIENT_DATA') {
      i++;
      expect('(');
      const name = JSON.parse(tokens[i++] ?? '""') as string;
      expect(')');
      return stateOf(name) === t;
    }
    throw new Error(`malformed AlarmRule ${rule}: unexpected ${tokens[i] ?? 'end'}`);
  };
  const and = (): boolean => {
    let v = primary();
    while (peek() === 'AND') (i++, (v = primary() && v));
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek() === 'OR') (i++, (v = and() || v));
    return v;
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`malformed AlarmRule ${rule}: trailing ${tokens[i]}`);
  return value ? 'ALARM' : 'OK';
}
