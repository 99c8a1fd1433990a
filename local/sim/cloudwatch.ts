import type {
  DescribeAlarmsCommandInput,
  GetMetricDataCommandInput,
  MetricDataResult,
  PutCompositeAlarmCommandInput,
  PutMetricAlarmCommandInput,
  PutMetricDataCommandInput,
  SetAlarmStateCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { awsErrorsOf, SimulatedAwsError } from './errors.js';

/**
 * CloudWatch's error codes (on the wire; it speaks JSON, query-compatible) and the names the SDK
 * gives them (its modeled exceptions): a caller sees `ValidationException` with `Code`
 * ValidationError, `InvalidParameterValueException` with `Code` InvalidParameterValue, as moto's
 * answers show. Codes the SDK does not model (Throttling, ...) keep their name.
 */
const awsError = awsErrorsOf({
  ValidationError: 'ValidationException',
  InvalidParameterValue: 'InvalidParameterValueException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  MissingParameter: 'MissingRequiredParameterException',
});

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

/** A metric: its namespace, name and full set of dimensions (a query matches the whole set, in any order). */
export interface MetricId {
  namespace: string;
  name: string;
  dimensions: { Name: string; Value: string }[];
}

/**
 * What a metric holds for one minute: its statistic set and, where they are known, its values
 * (value -> count) for percentiles. Without values (statistic sets of several different
 * values), percentiles of that minute are not available, as in CloudWatch.
 */
export interface MinuteData {
  sampleCount: number;
  sum: number;
  min: number;
  max: number;
  values?: Map<number, number>;
}

interface StoredMinute extends MinuteData {
  unit?: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const metricKey = (m: MetricId) =>
  [m.namespace, m.name, ...m.dimensions.map((d) => `${d.Name}=${d.Value}`).sort()].join('\u0000');
const SIMPLE_STATS = new Set(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']);
const PERCENTILE = /^p(\d{1,2}(\.\d+)?|100(\.0+)?)$/;
/** Extended statistics CloudWatch has and this model does not compute (trimmed means, trimmed counts and sums, winsorized means, percentile ranks, IQM). */
const UNMODELED_STATS = /^(tm|wm|tc|ts|TM|WM|TC|TS|PR)(\d|\()|^IQM$/;
/** GetMetricData: "a maximum of 500 MetricDataQuery structures" and "100,800 data points" per call (API reference). */
const MAX_QUERIES = 500;
const MAX_DATAPOINTS = 100_800;

/**
 * Metric alarms whose state a test (or the demo) sets over time, and composite alarms whose
 * state follows their AlarmRule over the other alarms, as CloudWatch evaluates it. And metrics:
 * PutMetricData (for tests and the contract), datapoints other parts of the account publish
 * (the load balancers' metrics, local/sim/traffic.ts), and GetMetricData over them.
 */
export class CloudWatchModel {
  private alarms = new Map<string, SimAlarm>();
  private listeners: ((event: AlarmStateChangeEvent) => void)[] = [];
  /** Standard-resolution metrics: one aggregate per minute. */
  private metrics = new Map<string, { id: MetricId; minutes: Map<number, StoredMinute> }>();
  private readHooks: (() => void)[] = [];
  /** GetMetricData answers still being paged through (NextToken -> the rest), oldest first. */
  private pages = new Map<string, { results: MetricDataResult[]; offsets: number[] }>();
  private tokens = 0;
  /** Metrics requested by GetMetricData calls so far (what CloudWatch bills: $ per 1,000). */
  metricsRequested = 0;
  /** Dashboards by name (global in an account, as CloudWatch's are), their body as PutDashboard stored it. */
  readonly dashboards = new Map<string, { body: string; lastModified: Date }>();

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

  /**
   * PutDashboard: creates or replaces the whole dashboard. As CloudWatch: the name is 1-255 of
   * A-Z a-z 0-9 - _ (InvalidParameterValue); the body must be a JSON object whose `widgets` is an
   * array of widgets with a known type, properties, and a place on the 24-column grid, else
   * the call fails (DashboardInvalidInputError, code InvalidParameterInput, naming the field).
   */
  putDashboard(input: { DashboardName?: string; DashboardBody?: string }) {
    const name = input.DashboardName ?? '';
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
      awsError('InvalidParameterValue', `The value ${name} for parameter DashboardName is invalid: 1 to 255 of A-Z, a-z, 0-9, "-" and "_".`);
    const invalid = (path: string, message: string): never => {
      throw Object.assign(new SimulatedAwsError('DashboardInvalidInputError', `The dashboard body is invalid, there are 1 validation errors: [ { "dataPath": "${path}", "message": "${message}" } ]`), { Code: 'InvalidParameterInput' });
    };
    let body: any;
    try {
      body = JSON.parse(input.DashboardBody ?? '');
    } catch {
      return invalid('', 'Should be a JSON document');
    }
    if (typeof body !== 'object' || body === null || !Array.isArray(body.widgets)) return invalid('', 'Should have required property \'widgets\'');
    body.widgets.forEach((w: any, i: number) => {
      if (!['metric', 'text', 'log', 'alarm', 'explorer', 'custom'].includes(w?.type)) invalid(`/widgets/${i}/type`, 'Should be equal to one of the allowed values');
      if (typeof w.properties !== 'object' || w.properties === null) invalid(`/widgets/${i}`, "Should have required property 'properties'");
      if (w.width !== undefined && !(Number.isInteger(w.width) && w.width >= 1 && w.width <= 24)) invalid(`/widgets/${i}/width`, 'Should be an integer from 1 to 24');
      if (w.x !== undefined && !(Number.isInteger(w.x) && w.x >= 0 && w.x + (w.width ?? 6) <= 24)) invalid(`/widgets/${i}/x`, 'Should place the widget within the 24 columns');
      if (w.type === 'metric' && !Array.isArray(w.properties.metrics)) invalid(`/widgets/${i}/properties`, "Should have required property 'metrics'");
      if (w.type === 'log' && typeof w.properties.query !== 'string') invalid(`/widgets/${i}/properties`, "Should have required property 'query'");
    });
    this.dashboards.set(name, { body: input.DashboardBody!, lastModified: new Date() });
    return { DashboardValidationMessages: [] };
  }

  getDashboard(input: { DashboardName?: string }) {
    const dashboard = this.dashboards.get(input.DashboardName ?? '');
    if (!dashboard) throw Object.assign(new SimulatedAwsError('DashboardNotFoundError', 'Dashboard does not exist', 404), { Code: 'ResourceNotFound' });
    return { DashboardArn: `arn:aws:cloudwatch::${this.account}:dashboard/${input.DashboardName}`, DashboardBody: dashboard.body, DashboardName: input.DashboardName };
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

  /**
   * Called before every GetMetricData: whoever publishes datapoints late (the load balancers of
   * local/sim/traffic.ts) brings them up to now.
   */
  beforeRead(hook: () => void): void {
    this.readHooks.push(hook);
  }

  /** Adds `data` to the minute of `at` of a metric, as CloudWatch aggregates standard-resolution data. */
  record(metric: MetricId, at: number, data: MinuteData, unit?: string): void {
    const key = metricKey(metric);
    let stored = this.metrics.get(key);
    if (!stored) this.metrics.set(key, (stored = { id: { ...metric, dimensions: metric.dimensions.map((d) => ({ ...d })) }, minutes: new Map() }));
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const existing = stored.minutes.get(minute);
    if (!existing) {
      stored.minutes.set(minute, { ...data, values: data.values && new Map(data.values), unit });
      return;
    }
    existing.sampleCount += data.sampleCount;
    existing.sum += data.sum;
    existing.min = Math.min(existing.min, data.min);
    existing.max = Math.max(existing.max, data.max);
    if (existing.values && data.values) for (const [v, n] of data.values) existing.values.set(v, (existing.values.get(v) ?? 0) + n);
    else existing.values = undefined;
    existing.unit = unit ?? existing.unit;
  }

  /**
   * PutMetricData, as CloudWatch validates it (the messages are moto's, which copies AWS's). Data
   * is kept per minute (a StorageResolution of 1 is accepted and kept per minute too) and is
   * readable at once.
   */
  putMetricData(input: PutMetricDataCommandInput) {
    const namespace = input.Namespace ?? '';
    if (!namespace) awsError('MissingParameter', 'The parameter Namespace is required.');
    // "Namespace ... must not begin with AWS/" (the AWS namespaces are the services' own).
    if (namespace.startsWith('AWS/')) awsError('InvalidParameterValue', `The value ${namespace} for parameter Namespace is invalid.`);
    const data = input.MetricData ?? [];
    if (data.length === 0) awsError('MissingParameter', 'The parameter MetricData is required.');
    if (data.length > 1000)
      awsError('ValidationError', `1 validation error detected: Value at 'metricData' failed to satisfy constraint: Member must have length less than or equal to 1000`);
    const now = Date.now();
    const parsed = data.map((d, i) => {
      const n = i + 1;
      const at = `MetricData.member.${n}`;
      if (!d.MetricName) awsError('MissingParameter', `The parameter ${at}.MetricName is required.`);
      if ((d.Dimensions?.length ?? 0) > 30) awsError('InvalidParameterValue', `The collection ${at}.Dimensions must not have a size greater than 30.`);
      const time = d.Timestamp ? new Date(d.Timestamp).getTime() : now;
      if (time < now - 14 * DAY || time > now + 2 * 3_600_000)
        awsError('InvalidParameterValue', `The parameter ${at}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`);
      if (d.Value !== undefined && !Number.isFinite(d.Value)) awsError('InvalidParameterValue', `The value ${d.Value} for parameter ${at}.Value is invalid.`);
      let minute: MinuteData;
      if (d.Values?.length) {
        if (d.Value !== undefined) awsError('InvalidParameterValue', `The parameters ${at}.Value and ${at}.Values are mutually exclusive and you have specified both.`);
        if (d.Counts?.length && d.Counts.length !== d.Values.length) awsError('InvalidParameterValue', `The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
        if (d.Values.length > 150) awsError('InvalidParameterValue', `The collection ${at}.Values must not have a size greater than 150.`);
        const values = new Map<number, number>();
        d.Values.forEach((v, k) => {
          if (!Number.isFinite(v)) awsError('InvalidParameterValue', `The value ${v} for parameter ${at}.Values is invalid.`);
          values.set(v, (values.get(v) ?? 0) + (d.Counts?.[k] ?? 1));
        });
        const entries = [...values.entries()];
        minute = {
          sampleCount: entries.reduce((s, [, c]) => s + c, 0),
          sum: entries.reduce((s, [v, c]) => s + v * c, 0),
          min: Math.min(...values.keys()),
          max: Math.max(...values.keys()),
          values,
        };
      } else if (d.StatisticValues) {
        if (d.Value !== undefined) awsError('InvalidParameterCombination', `The parameters ${at}.Value and ${at}.StatisticValues are mutually exclusive and you have specified both.`);
        const sv = d.StatisticValues;
        for (const stat of ['Sum', 'Maximum', 'Minimum', 'SampleCount'] as const)
          if (sv[stat] === undefined) awsError('InvalidParameterValue', `Missing required parameter in MetricData[${n}].StatisticValues: "${stat}"`);
        // Percentiles of a statistic set are known only when it is one value (SampleCount 1, or Minimum = Maximum).
        const single = sv.SampleCount === 1 || sv.Minimum === sv.Maximum;
        minute = { sampleCount: sv.SampleCount!, sum: sv.Sum!, min: sv.Minimum!, max: sv.Maximum!, ...(single ? { values: new Map([[sv.Minimum!, sv.SampleCount!]]) } : {}) };
      } else {
        const v = d.Value ?? 0;
        minute = { sampleCount: 1, sum: v, min: v, max: v, values: new Map([[v, 1]]) };
      }
      return { metric: { namespace, name: d.MetricName!, dimensions: (d.Dimensions ?? []).map((x) => ({ Name: x.Name ?? '', Value: x.Value ?? '' })) }, time, minute, unit: d.Unit };
    });
    for (const p of parsed) this.record(p.metric, p.time, p.minute, p.unit);
    return {};
  }

  /**
   * GetMetricData, as the API reference describes it: up to 500 queries with unique Ids
   * (^[a-z][a-zA-Z0-9_]*$); a MetricStat matches the metric's full set of dimensions; Period at
   * least 60 and a multiple of 60; StartTime inclusive and EndTime exclusive, both rounded down
   * to the minute (StartTime more than 15 days ago to 5 minutes, more than 63 days ago to the
   * hour); ScanBy TimestampDescending unless asked; at most MaxDatapoints (100,800) datapoints
   * per answer, the rest behind a NextToken (the queries cut short are PartialData). A period
   * with no data has no datapoint. Metric math and Metrics Insights expressions are not
   * modeled: they fail as unsupported.
   */
  getMetricData(input: GetMetricDataCommandInput) {
    for (const hook of this.readHooks) hook();
    if (input.NextToken !== undefined) {
      const rest = this.pages.get(input.NextToken);
      if (!rest) return awsError('InvalidNextToken', 'The service couldn\u2019t process the NextToken.');
      this.pages.delete(input.NextToken);
      return this.page(rest.results, rest.offsets, input.MaxDatapoints);
    }
    const queries = input.MetricDataQueries ?? [];
    this.metricsRequested += queries.length;
    const problems: string[] = [];
    if (queries.length === 0) awsError('ValidationError', 'The parameter MetricDataQueries is required.');
    if (queries.length > MAX_QUERIES)
      awsError('ValidationError', `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_QUERIES}`);
    if (!input.StartTime) awsError('ValidationError', 'The parameter StartTime is required.');
    if (!input.EndTime) awsError('ValidationError', 'The parameter EndTime is required.');
    const scanBy = input.ScanBy ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
      awsError('ValidationError', `1 validation error detected: Value '${scanBy}' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]`);
    const requestedStart = new Date(input.StartTime!).getTime();
    const requestedEnd = new Date(input.EndTime!).getTime();
    if (requestedStart > requestedEnd) awsError('ValidationError', 'The parameter EndTime must be greater than StartTime.');
    if (requestedStart === requestedEnd) awsError('ValidationError', 'The parameter StartTime must not equal parameter EndTime.');
    const seen = new Set<string>();
    queries.forEach((q, i) => {
      const at = `MetricDataQueries.member.${i + 1}`;
      if (!q.Id || !/^[a-z][a-zA-Z0-9_]*$/.test(q.Id) || q.Id.length > 255) problems.push(`The value ${q.Id ?? ''} for parameter ${at}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.`);
      else if (seen.has(q.Id)) problems.push(`The value ${q.Id} for parameter ${at}.Id is not unique.`);
      seen.add(q.Id ?? '');
      if (!q.MetricStat && !q.Expression) problems.push(`The parameter ${at}.MetricStat is required.\n`);
      else if (q.MetricStat && q.Expression) problems.push(`The parameters ${at}.MetricStat and ${at}.Expression are mutually exclusive and you have specified both.`);
      const stat = q.MetricStat;
      if (!stat) return;
      if (!stat.Metric?.Namespace) problems.push(`The parameter ${at}.MetricStat.Metric.Namespace is required.`);
      if (!stat.Metric?.MetricName) problems.push(`The parameter ${at}.MetricStat.Metric.MetricName is required.`);
      const period = stat.Period;
      if (period === undefined) problems.push(`The parameter ${at}.MetricStat.Period is required.`);
      else if (![1, 5, 10, 20, 30].includes(period) && !(period >= 60 && period % 60 === 0))
        problems.push(`The value ${period} for parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60.`);
      if (!stat.Stat || !(SIMPLE_STATS.has(stat.Stat) || PERCENTILE.test(stat.Stat) || UNMODELED_STATS.test(stat.Stat)))
        problems.push(`The value for parameter ${at}.MetricStat.Stat is not a valid statistic.`);
    });
    if (problems.length > 0) awsError('ValidationError', problems.join('\n'));
    for (const q of queries) {
      if (q.Expression) awsError('UnsupportedOperation', `the simulated CloudWatch does not evaluate metric math or Metrics Insights expressions (query ${q.Id}: ${q.Expression})`);
      if (q.MetricStat!.Period! < 60) awsError('UnsupportedOperation', `the simulated CloudWatch keeps standard-resolution (60 s) metrics only (query ${q.Id}: Period ${q.MetricStat!.Period})`);
      if (UNMODELED_STATS.test(q.MetricStat!.Stat!)) awsError('UnsupportedOperation', `the simulated CloudWatch does not compute the statistic ${q.MetricStat!.Stat} (query ${q.Id})`);
    }
    const now = Date.now();
    const age = now - requestedStart;
    const startUnit = age > 63 * DAY ? 3_600_000 : age > 15 * DAY ? 5 * MINUTE : MINUTE;
    const start = Math.floor(requestedStart / startUnit) * startUnit;
    const end = Math.floor(requestedEnd / MINUTE) * MINUTE;
    const results: MetricDataResult[] = queries
      .filter((q) => q.ReturnData !== false)
      .map((q) => {
        const series = this.series(q.MetricStat!, start, end);
        if (scanBy === 'TimestampDescending') series.reverse();
        return { Id: q.Id!, Label: q.Label ?? q.MetricStat!.Metric!.MetricName!, Timestamps: series.map(([t]) => new Date(t)), Values: series.map(([, v]) => v), StatusCode: 'Complete' as const };
      });
    return this.page(results, results.map(() => 0), input.MaxDatapoints);
  }

  /** One statistic of one metric per period from `start` to `end`: [period start, value] for each period with data. */
  private series(stat: NonNullable<GetMetricDataCommandInput['MetricDataQueries']>[number]['MetricStat'] & object, start: number, end: number): [number, number][] {
    const stored = this.metrics.get(
      metricKey({ namespace: stat.Metric!.Namespace!, name: stat.Metric!.MetricName!, dimensions: (stat.Metric!.Dimensions ?? []).map((d) => ({ Name: d.Name ?? '', Value: d.Value ?? '' })) }),
    );
    if (!stored) return [];
    const period = stat.Period! * 1000;
    const buckets = new Map<number, StoredMinute[]>();
    for (const [minute, data] of stored.minutes) {
      if (minute < start || minute >= end || (stat.Unit && data.unit !== stat.Unit)) continue;
      const bucket = start + Math.floor((minute - start) / period) * period;
      const list = buckets.get(bucket);
      if (list) list.push(data);
      else buckets.set(bucket, [data]);
    }
    const out: [number, number][] = [];
    for (const [bucket, minutes] of [...buckets.entries()].sort((a, b) => a[0] - b[0])) {
      const value = statistic(stat.Stat!, minutes);
      if (value !== undefined) out.push([bucket, value]);
    }
    return out;
  }

  /** At most `max` datapoints of `results` from `offsets` on; the rest is kept behind a NextToken. */
  private page(results: MetricDataResult[], offsets: number[], maxDatapoints = MAX_DATAPOINTS) {
    let budget = Math.min(Math.max(1, maxDatapoints), MAX_DATAPOINTS);
    let more = false;
    const next = [...offsets];
    const MetricDataResults = results.map((r, i) => {
      const from = offsets[i]!;
      const take = Math.min(budget, r.Values!.length - from);
      budget -= take;
      next[i] = from + take;
      const partial = next[i]! < r.Values!.length;
      more ||= partial;
      return { ...r, Timestamps: r.Timestamps!.slice(from, from + take), Values: r.Values!.slice(from, from + take), StatusCode: partial ? ('PartialData' as const) : ('Complete' as const) };
    });
    let NextToken: string | undefined;
    if (more) {
      NextToken = `sim-metric-data-${++this.tokens}`;
      this.pages.set(NextToken, { results, offsets: next });
      if (this.pages.size > 1000) this.pages.delete(this.pages.keys().next().value!);
    }
    return { MetricDataResults, Messages: [], ...(NextToken ? { NextToken } : {}) };
  }
}

/** A statistic over a period's minutes; undefined when it cannot be computed (a percentile over statistic sets). */
function statistic(stat: string, minutes: MinuteData[]): number | undefined {
  const count = minutes.reduce((n, m) => n + m.sampleCount, 0);
  const sum = minutes.reduce((n, m) => n + m.sum, 0);
  switch (stat) {
    case 'Sum':
      return sum;
    case 'SampleCount':
      return count;
    case 'Average':
      return count > 0 ? sum / count : undefined;
    case 'Minimum':
      return Math.min(...minutes.map((m) => m.min));
    case 'Maximum':
      return Math.max(...minutes.map((m) => m.max));
  }
  if (minutes.some((m) => !m.values)) return undefined;
  const merged = new Map<number, number>();
  for (const m of minutes) for (const [v, n] of m.values!) merged.set(v, (merged.get(v) ?? 0) + n);
  return percentile(merged, Number(stat.slice(1)));
}

/** The value at the p-th percentile of a weighted set of values (nearest rank). */
function percentile(values: Map<number, number>, p: number): number | undefined {
  const sorted = [...values.entries()].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return undefined;
  const rank = (p / 100) * total;
  let seen = 0;
  for (const [value, count] of sorted) {
    seen += count;
    if (seen >= rank - 1e-9) return value;
  }
  return sorted.at(-1)![0];
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
