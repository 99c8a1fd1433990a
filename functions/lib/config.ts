import * as z from 'zod/mini';
import './zod.js';
import { CanaryError } from './errors.js';
import { expandSteps, scheduleProblem } from './schedule.js';

/** Record names are compared the way Route53 stores them: lower case, with the final dot. */
export const normalizeRecordName = (name: string): string => {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
};

const name = (what: string, max: number, pattern: RegExp, hint: string) =>
  z.string({ error: `${what} must be a string` }).check(z.minLength(1, `${what} must not be empty`), z.maxLength(max), z.regex(pattern, hint));

const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

const AlarmNames = z.array(z.string().check(z.minLength(1), z.maxLength(255))).check(z.maxLength(100));

/** An AWS region's name: eu-central-1, us-gov-west-1, cn-north-1. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** An IAM role (IAM: a name of at most 64 characters of letters, digits and +=,.@_-, behind an optional path). */
const roleArn = (field: string) =>
  z.string({ error: `${field} must be a string` }).check(
    z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/, `${field} must be an IAM role ARN (arn:aws:iam::111122223333:role/name)`),
  );
/** STS: 2 to 1224 characters of letters, digits and +=,.@:/- */
const externalId = (field: string) =>
  z.string({ error: `${field} must be a string` }).check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, `${field} must be 2 to 1224 characters: letters, digits and +=,.@:/-`));

const Service = z.strictObject({
  cluster: name('cluster', 255, /^[A-Za-z0-9_-]+$/, 'cluster: letters, digits, - and _ only'),
  service: name('service', 255, /^[A-Za-z0-9_-]+$/, 'service: letters, digits, - and _ only'),
  setIdentifier: z.string().check(z.minLength(1, 'setIdentifier must not be empty'), z.maxLength(128)),
  /** This service's own alarms: judged and listened to while it is green; while it is blue they are only shown. */
  alarms: z._default(AlarmNames, []),
  /** The service runs in another region (default: the stack's): its ECS, load balancer, CloudWatch and alarms are read there. */
  region: z.optional(z.string({ error: 'region must be a string' }).check(z.regex(AWS_REGION, 'region must be an AWS region such as eu-central-1'))),
  /** The service runs in another account: its calls assume this role there (`npx ecs-dns-canary iam <pair>` prints its policies). */
  roleArn: z.optional(roleArn('roleArn')),
  /** The ExternalId the service role's trust policy asks for, if any. */
  externalId: z.optional(externalId('externalId')),
});

const num = (min: number, max: number) => z.number().check(z.minimum(min), z.maximum(max));

/**
 * A CloudWatch metric per side, as a GetMetricData MetricStat: dimension values may say
 * ${loadBalancer}, ${targetGroup}, ${cluster} and ${service}, resolved for each side.
 */
const MetricStat = z.strictObject({
  namespace: z.string().check(z.minLength(1), z.maxLength(255)),
  metricName: z.string().check(z.minLength(1), z.maxLength(255)),
  dimensions: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(255)), z.string().check(z.minLength(1), z.maxLength(1024))), {}),
  stat: z._default(z.string().check(z.regex(/^(Sum|Average|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$/, 'stat: Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99')), 'Sum'),
});
const metricName = name('name', 64, /^[a-z][a-zA-Z0-9-]*$/, 'name: starts with a lower-case letter; letters, digits and - only');
/** A count pair (errors of requests, judged by the error test) or a value (judged as latency is, with a maximum ratio). */
const CustomMetric = z.union([
  z.strictObject({ name: metricName, errors: MetricStat, requests: MetricStat }),
  z.strictObject({ name: metricName, value: MetricStat, maxRatio: num(1, 1_000), floor: z._default(num(0, 1e12), 0) }),
]);

/**
 * Green against blue from each side's own metrics (README, "How green is judged"). On by
 * default when both sides have ALB target groups; `analysis: false` turns it off.
 */
export const AnalysisSchema = z.strictObject({
  mode: z._default(z.enum(['enforce', 'observe']), 'enforce'),
  alpha: z._default(num(0.0001, 0.1), 0.01),
  errorRatio: z._default(num(1, 100), 1.5),
  errorFloorPercent: z._default(num(0, 100), 0.05),
  settleSeconds: z._default(int(60, 900), 150),
  minRequests: z._default(int(1, 10_000_000), 300),
  minShareOfWeight: z._default(num(0, 1), 0.5),
  maxBakeSeconds: z._default(int(60, 86_400), 1_800),
  onInconclusive: z._default(z.enum(['rollback', 'promote', 'approval']), 'rollback'),
  latency: z._default(
    z.union([z.literal(false), z.strictObject({ ratio: z._default(num(1, 100), 1.5), floorMs: z._default(num(0, 60_000), 50), minutes: z._default(int(1, 60), 3), minRequests: z._default(int(1, 1_000_000), 100) })]),
    { ratio: 1.5, floorMs: 50, minutes: 3, minRequests: 100 },
  ),
  incident: z._default(z.strictObject({ ratio: z._default(num(1, 1_000), 5), floorPercent: z._default(num(0, 100), 1) }), { ratio: 5, floorPercent: 1 }),
  baselineMinutes: z._default(int(0, 180), 30),
  metrics: z._default(z.array(CustomMetric).check(z.maxLength(20)), []),
});

const FunctionArn = z.string().check(z.regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, 'must be a Lambda function ARN (arn:aws:lambda:region:account:function:name)'));
const Url = z.string().check(z.regex(/^https?:\/\/[^\s/$.?#][^\s]*$/, 'must be an http(s) URL'));

/**
 * Before any weight moves, green's own endpoint (one that reaches only green, such as its load
 * balancer's name) must answer `successes` checks in a row, `intervalSeconds` apart, within
 * `timeoutSeconds`. `url` is one URL, or one per service name. No credentials here: `secret`
 * names a Secrets Manager secret whose value is sent as the Authorization header.
 */
const SmokeTest = z.strictObject({
  url: z.union([Url, z.record(z.string(), Url)]),
  expectStatus: z._default(z.array(int(100, 599)).check(z.minLength(1)), [200]),
  bodyIncludes: z.optional(z.string().check(z.minLength(1), z.maxLength(1_000))),
  successes: z._default(int(1, 100), 3),
  intervalSeconds: z._default(int(1, 300), 5),
  timeoutSeconds: z._default(int(1, 840), 120),
  secret: z.optional(z.string().check(z.regex(/^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name or ARN'))),
});

/** Lambda functions invoked with the plan: before any traffic moves, and after the promotion. */
const Hooks = z.strictObject({
  preTraffic: z.optional(FunctionArn),
  postTraffic: z.optional(FunctionArn),
  timeoutSeconds: z._default(int(1, 840), 300),
});

/** After a promotion the old side is scaled to `desiredCount`, `afterSeconds` later (at least one DNS wait). */
const IdleAfterPromotion = z.strictObject({
  desiredCount: z._default(int(0, 5_000), 0),
  afterSeconds: int(0, 86_400),
});

/**
 * Manual gates: once green has baked at one of these percentages, the canary holds its weights,
 * sends AwaitingApproval (with the commands) and waits for `ecs-dns-canary approve <pair>` or
 * `reject <pair>`, still judging green. After `timeoutSeconds` without an answer it does what
 * `onTimeout` says.
 */
const Approval = z.strictObject({
  atPercent: z.array(int(1, 99)).check(z.minLength(1, 'name at least one percentage to stop at')),
  timeoutSeconds: int(60, 86_400),
  onTimeout: z.enum(['rollback', 'promote']),
});

const Steps = z
  .union([z.array(z.number()), z.strictObject({ canary: int(1, 99) }), z.strictObject({ linear: int(1, 100) })])
  .check(
    z.superRefine((spec, ctx) => {
      const problem = scheduleProblem(expandSteps(spec));
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: spec });
    }),
  );

const Pair = z
  .strictObject({
    /** Names the pair in execution names, logs and notifications. */
    name: name('name', 32, /^[a-z0-9]+(-[a-z0-9]+)*$/, 'name: lower-case letters and digits, single - between them'),
    hostedZoneId: z.string().check(z.regex(/^Z[A-Z0-9]{1,32}$/, 'hostedZoneId must look like Z0123456789ABCDEFGHIJ')),
    recordName: z.pipe(
      z.string().check(z.regex(/^(\*\.)?([a-zA-Z0-9_-]{1,63}\.)+[a-zA-Z]{2,63}\.?$/, 'recordName must be a DNS name such as app.example.com')),
      z.transform(normalizeRecordName),
    ),
    recordType: z.enum(['A', 'AAAA', 'CNAME']),
    /** The zone is in another account: every Route53 call of the pair assumes this role there (`npx ecs-dns-canary iam <pair>` prints its policies). */
    dnsRoleArn: z.optional(roleArn('dnsRoleArn')),
    /** The ExternalId the role's trust policy asks for, if any. */
    dnsExternalId: z.optional(externalId('dnsExternalId')),
    /** The two ECS services; which one is live is read from the weights, never configured. */
    services: z.tuple([Service, Service]),
    /** The pair's alarms (both sides'): judged and listened to during every canary. */
    alarms: z._default(AlarmNames, []),
    steps: Steps,
    analysis: z.optional(z.union([z.literal(false), AnalysisSchema])),
    /** How long green is judged after each shift, once the DNS wait is over. */
    bakeSeconds: z._default(int(0, 86_400), 300),
    /** How often green is judged during a bake. */
    pollSeconds: z._default(int(1, 3_600), 30),
    /** Least wait after a shift before judging: the TTL floor, and the whole wait for alias records. */
    minWaitSeconds: z._default(int(0, 3_600), 60),
    /** A canary that runs longer than this rolls back. */
    executionTimeoutSeconds: z._default(int(60, 86_400), 4 * 3_600),
    smokeTest: z.optional(SmokeTest),
    hooks: z.optional(Hooks),
    idleAfterPromotion: z.optional(IdleAfterPromotion),
    approval: z.optional(Approval),
    /** A CloudWatch dashboard `ecs-dns-canary-<stage>-<pair>`, written when a canary starts (README, "Dashboard and metrics"). */
    dashboard: z._default(z.boolean({ error: 'dashboard must be true or false' }), true),
  })
  .check(
    z.superRefine((pair, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, input: pair });
      const [a, b] = pair.services;
      // The same cluster and service names in two places (regions, accounts) are two services.
      if (sameService(a, b)) issue('services', 'the two services must differ (by cluster, service, region or account)');
      if (a.setIdentifier === b.setIdentifier) issue('services', 'the two setIdentifiers must differ');
      if (new Set(pair.alarms).size !== pair.alarms.length) issue('alarms', 'alarm names must be unique');
      pair.services.forEach((s, i) => {
        const shared = s.alarms.filter((a) => pair.alarms.includes(a) || pair.services[1 - i]!.alarms.includes(a));
        if (shared.length) issue('services', `alarm ${shared.join(', ')} of ${s.service} is also the pair's or the other service's: a service's own alarms say that service only`);
      });
      if (pair.analysis) {
        const names = pair.analysis.metrics.map((m) => m.name);
        if (new Set(names).size !== names.length) issue('analysis', 'analysis.metrics names must be unique');
        if (pair.analysis.maxBakeSeconds < pair.bakeSeconds) issue('analysis', `maxBakeSeconds (${pair.analysis.maxBakeSeconds}) must be at least bakeSeconds (${pair.bakeSeconds})`);
        if (pair.analysis.onInconclusive === 'approval' && !pair.approval)
          issue('analysis', "onInconclusive 'approval' needs approval (its timeoutSeconds and onTimeout say how long to wait and what then)");
      }
      if (pair.smokeTest && typeof pair.smokeTest.url === 'object') {
        const named = Object.keys(pair.smokeTest.url);
        const missing = pair.services.map((s) => s.service).filter((s) => !named.includes(s));
        const unknown = named.filter((n) => !pair.services.some((s) => s.service === n));
        if (missing.length || unknown.length)
          issue('smokeTest', `url must name exactly the pair's two services (${pair.services.map((s) => s.service).join(', ')})${unknown.length ? `, not ${unknown.join(', ')}` : ''}`);
      }
      if (pair.idleAfterPromotion && pair.idleAfterPromotion.afterSeconds < pair.minWaitSeconds)
        issue('idleAfterPromotion', `afterSeconds must be at least one DNS wait (minWaitSeconds, ${pair.minWaitSeconds} s): clients may still resolve to the old side until then`);
      if (pair.hooks && !pair.hooks.preTraffic && !pair.hooks.postTraffic) issue('hooks', 'name preTraffic, postTraffic or both');
      if (pair.dnsExternalId !== undefined && !pair.dnsRoleArn) issue('dnsExternalId', 'dnsExternalId goes with dnsRoleArn: name the role in the zone\'s account that asks for it');
      pair.services.forEach((s) => {
        if (s.externalId !== undefined && !s.roleArn) issue('services', `externalId of ${s.service} goes with roleArn: name the role in the service's account that asks for it`);
      });
      if (pair.approval) {
        const steps = expandSteps(pair.steps);
        const off = pair.approval.atPercent.filter((p) => !steps.includes(p));
        if (off.length) issue('approval', `atPercent ${off.join(', ')} is not a step of this pair (${steps.join(', ')}); a gate holds the weights of a step`);
      }
      // Each check is three states (Task, Choice, Wait); a standard workflow keeps at most 25,000 history events.
      const checks = expandSteps(pair.steps).length * Math.ceil(pair.bakeSeconds / pair.pollSeconds);
      if (checks > MAX_CHECKS)
        issue('pollSeconds', `${checks} checks of green in all (steps x bakeSeconds / pollSeconds) is over ${MAX_CHECKS}: poll less often or bake less`);
      const needed = minimumRunSeconds(pair);
      if (pair.executionTimeoutSeconds < needed)
        issue(
          'executionTimeoutSeconds',
          `must be at least ${needed} s: ${expandSteps(pair.steps).length} steps of ${pair.minWaitSeconds} s DNS wait + ${pair.bakeSeconds} s bake`,
        );
    }),
  );

/** Keeps an execution's history well under Step Functions' 25,000 events. */
export const MAX_CHECKS = 2_000;

/** The least time a canary of this pair can take, before INSYNC waits. */
export function minimumRunSeconds(pair: { steps: z.infer<typeof Steps>; minWaitSeconds: number; bakeSeconds: number; approval?: z.infer<typeof Approval> }): number {
  const gates = pair.approval?.onTimeout === 'promote' ? pair.approval.atPercent.length * pair.approval.timeoutSeconds : 0;
  return expandSteps(pair.steps).length * (pair.minWaitSeconds + pair.bakeSeconds) + gates;
}

/**
 * The state machine's own logs and tracing (README, "State-machine logs and tracing"): Step Functions
 * writes execution history events at `logLevel` and above to the log group
 * /aws/vendedlogs/states/<state machine>; `includeExecutionData` adds each state's input and output
 * (they carry the plan, weights and verdicts, never credentials); `tracing` turns on X-Ray.
 */
export const StateMachineSchema = z
  .strictObject({
    logLevel: z._default(z.enum(['ALL', 'ERROR', 'FATAL', 'OFF'], { error: 'logLevel must be ALL, ERROR, FATAL or OFF' }), 'ERROR'),
    includeExecutionData: z._default(z.boolean({ error: 'includeExecutionData must be true or false' }), false),
    tracing: z._default(z.boolean({ error: 'tracing must be true or false' }), false),
  })
  .check(
    z.superRefine((s, ctx) => {
      if (s.includeExecutionData && s.logLevel === 'OFF')
        ctx.addIssue({ code: 'custom', path: ['includeExecutionData'], message: "includeExecutionData needs a logLevel other than 'OFF' (nothing is logged)", input: s });
    }),
  );

/**
 * Optional hardening (README, "Security"). Both are off by default.
 * - `kms: true`: one customer managed KMS key, created by the stack with yearly rotation,
 *   encrypts every log group of the stack (the functions' and the state machine's) and the claims
 *   table. The functions that use the table may use the key only through DynamoDB.
 * - `reservedConcurrency: N`: N concurrent executions reserved for each function that restores
 *   blue (`rollBack`, `safetyNet`, `sweep`), so that no other function of the account can take
 *   their capacity. It is also their ceiling, so it must cover every pair rolling back at once
 *   (`safetyConcurrencyFloor`).
 */
export const HardeningSchema = z.strictObject({
  kms: z._default(z.boolean({ error: 'kms must be true or false' }), false),
  reservedConcurrency: z.optional(
    z.int({ error: 'reservedConcurrency must be a whole number of concurrent executions' }).check(
      z.minimum(1, 'reservedConcurrency must be at least 1'),
      z.maximum(1_000, 'reservedConcurrency must be at most 1000 (the default account concurrency; ask AWS for more first)'),
    ),
  ),
});

/** The functions `hardening.reservedConcurrency` reserves capacity for: those that put blue back. */
export const SAFETY_FUNCTIONS = ['rollBack', 'safetyNet', 'sweep'] as const;

/**
 * The least reserved concurrency that never throttles a safety function: two per pair (one canary
 * per pair rolls back or is restored at a time, and a retry may start while a timed-out attempt
 * still runs), and at least 3 (the sweep runs every 5 minutes for up to 15).
 */
export const safetyConcurrencyFloor = (pairs: number) => Math.max(3, 2 * pairs);

const Config = z.strictObject({
  pairs: z.array(Pair).check(z.minLength(1, 'declare at least one pair')),
  hardening: z._default(HardeningSchema, { kms: false }),
  stateMachine: z._default(StateMachineSchema, { logLevel: 'ERROR', includeExecutionData: false, tracing: false }),
}).check(
  z.superRefine((config, ctx) => {
    const reserved = config.hardening.reservedConcurrency;
    const floor = safetyConcurrencyFloor(config.pairs.length);
    if (reserved !== undefined && reserved < floor)
      ctx.addIssue({
        code: 'custom',
        path: ['hardening', 'reservedConcurrency'],
        message: `must be at least ${floor} for ${config.pairs.length} pair(s): it is also the most ${SAFETY_FUNCTIONS.join(', ')} may run at once, and a throttled rollback leaves a pair split longer (2 per pair, at least 3)`,
        input: config,
      });
    const seen = new Map<string, string>();
    const claim = (key: string, owner: string, path: (string | number)[], what: string) => {
      const other = seen.get(key);
      if (other) ctx.addIssue({ code: 'custom', path, message: `${what} is already used by pair ${other}`, input: config });
      else seen.set(key, owner);
    };
    config.pairs.forEach((pair, i) => {
      claim(`name:${pair.name}`, pair.name, ['pairs', i, 'name'], `name ${pair.name}`);
      claim(`record:${pair.hostedZoneId}:${pair.recordName}:${pair.recordType}`, pair.name, ['pairs', i, 'recordName'], `record ${pair.recordName} ${pair.recordType}`);
      pair.services.forEach((s, j) =>
        claim(`service:${placeKey(s)}:${s.cluster}/${s.service}`, pair.name, ['pairs', i, 'services', j], `service ${s.cluster}/${s.service}`),
      );
    });
    // One role has one trust policy: every use of a role (a pair's dnsRoleArn, a service's roleArn) names the same ExternalId.
    const externalIds = new Map<string, { externalId: string | undefined; where: string }>();
    config.pairs.forEach((pair, i) => {
      const uses = [
        ...(pair.dnsRoleArn ? [{ role: pair.dnsRoleArn, externalId: pair.dnsExternalId, where: `pair ${pair.name}'s dnsRoleArn`, path: ['pairs', i, 'dnsExternalId'] }] : []),
        ...pair.services.flatMap((s, j) => (s.roleArn ? [{ role: s.roleArn, externalId: s.externalId, where: `service ${s.service}'s roleArn`, path: ['pairs', i, 'services', j, 'externalId'] }] : [])),
      ];
      for (const use of uses) {
        const first = externalIds.get(use.role);
        if (!first) externalIds.set(use.role, use);
        else if (first.externalId !== use.externalId)
          ctx.addIssue({ code: 'custom', path: use.path, message: `${first.where} names the same role with ${first.externalId ? `ExternalId ${first.externalId}` : 'no ExternalId'}: one role has one trust policy`, input: config });
      }
    });
  }),
);

export type CanaryConfigInput = z.input<typeof Config>;
export type CanaryConfig = z.output<typeof Config>;
export type PairConfig = CanaryConfig['pairs'][number];
export type ServiceConfig = PairConfig['services'][number];
export type AnalysisConfig = Exclude<PairConfig['analysis'], false | undefined>;
export type CustomMetricConfig = AnalysisConfig['metrics'][number];

/** The analysis a pair asks for: its settings with every default; false when turned off. */
export const analysisOf = (pair: Pick<PairConfig, 'analysis'>): AnalysisConfig | false =>
  pair.analysis === false ? false : (pair.analysis ?? AnalysisSchema.parse({}));

/** The role a pair's Route53 calls go through, when its zone is in another account. */
export const dnsRoleOf = (pair: Pick<PairConfig, 'dnsRoleArn' | 'dnsExternalId'>): { roleArn: string; externalId?: string } | undefined =>
  pair.dnsRoleArn ? { roleArn: pair.dnsRoleArn, ...(pair.dnsExternalId ? { externalId: pair.dnsExternalId } : {}) } : undefined;

/** Identity for configuration files: gives them types and editor completion. */
export const defineConfig = (config: CanaryConfigInput): CanaryConfigInput => config;

/** `pairs[0].steps`: a zod issue's path as the messages write it. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');

/** What is wrong with a configuration, one line per bad field (`pairs[0].steps: the last step must be 100`); empty when valid. */
export function configProblems(input: unknown): string[] {
  const result = Config.safeParse(input);
  return result.success ? [] : [...new Set(result.error.issues.flatMap((issue) => explain(issue, [])).map((i) => `${formatPath(i.path) || '(config)'}: ${i.message}`))];
}

type Issue = { path: PropertyKey[]; message: string; code?: string; errors?: Issue[][] };

/**
 * A value that matches no member of a union (`analysis: { mode: 'shadow' }` against `false | {...}`)
 * is explained by the member it came closest to: the one whose problems lie deepest in the value,
 * with their own paths, rather than "Invalid input".
 */
function explain(issue: Issue, base: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [{ path, message: issue.message }];
  const depth = (branch: Issue[]) => Math.min(...branch.map((i) => i.path.length));
  const closest = issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best));
  return depth(closest) > 0 ? closest.flatMap((i) => explain(i, path)) : [{ path, message: issue.message }];
}

/** Validates configuration; the error names every offending field, once. */
export function parseConfig(input: unknown): CanaryConfig {
  const result = Config.safeParse(input);
  if (result.success) return result.data;
  throw new CanaryError('InvalidConfig', `invalid canary configuration:\n  ${configProblems(input).join('\n  ')}`);
}

/** Where something runs: an account and a region. */
export interface Place {
  account: string;
  region: string;
}

/** The same account and region. */
export const samePlace = (a: Place, b: Place): boolean => a.account === b.account && a.region === b.region;

/** The account of an IAM role ARN. */
export const accountOfRole = (roleArn: string): string => roleArn.split(':')[4]!;

/** Where a side runs: its own region and its role's account, else the stack's (`home`). */
export const placeOfService = (s: Pick<ServiceConfig, 'region' | 'roleArn'>, home: Place): Place => ({
  account: s.roleArn ? accountOfRole(s.roleArn) : home.account,
  region: s.region ?? home.region,
});

/** Where a service runs as configured: its role's account and its region, '' for the stack's. */
const placeKey = (s: Pick<ServiceConfig, 'region' | 'roleArn'>) => `${s.roleArn ? accountOfRole(s.roleArn) : ''}:${s.region ?? ''}`;

/** The same service: its cluster, its name and where it runs. */
export const sameService = (a: Pick<ServiceConfig, 'cluster' | 'service' | 'region' | 'roleArn'>, b: Pick<ServiceConfig, 'cluster' | 'service' | 'region' | 'roleArn'>) =>
  a.cluster === b.cluster && a.service === b.service && placeKey(a) === placeKey(b);

/**
 * Whether something of side `s` (an event of its service, one of its alarms) comes from where the
 * side runs: its region (the stack's, `homeRegion`, when it names none) and, for a side in another
 * account, that account. (A side of the stack's account is not told apart by account: the stack's
 * rules and the bus policy let in only the configured places.)
 */
export const fromSide = (s: Pick<ServiceConfig, 'region' | 'roleArn'>, at: Partial<Place>, homeRegion: string | undefined): boolean =>
  (at.region === undefined || homeRegion === undefined || (s.region ?? homeRegion) === at.region) && (!s.roleArn || at.account === undefined || accountOfRole(s.roleArn) === at.account);

/** The places other than `home` where the configured sides run, each once. */
export function servicePlaces(config: Pick<CanaryConfig, 'pairs'>, home: Place): Place[] {
  const places = config.pairs.flatMap((p) => p.services.map((s) => placeOfService(s, home))).filter((p) => !samePlace(p, home));
  return places.filter((p, i) => places.findIndex((q) => samePlace(p, q)) === i);
}

/**
 * Each service, where it really runs, belongs to one side of one pair. The schema compares
 * services as written; a service that names the stack's region (or a role in the stack's
 * account) and one that names none are the same service, which only the stack's place tells:
 * `sls package` checks with its region (serverless.vars.cjs), the functions with their ARNs
 * (findPairByService). Throws InvalidConfig naming each service claimed twice.
 */
export function checkServicesAt(config: Pick<CanaryConfig, 'pairs'>, home: Place): void {
  const owners = new Map<string, string>();
  const problems: string[] = [];
  for (const pair of config.pairs)
    pair.services.forEach((s, i) => {
      const place = placeOfService(s, home);
      const key = `${place.account}:${place.region}:${s.cluster}/${s.service}`;
      const owner = `${pair.name}.services[${i}]`;
      const first = owners.get(key);
      if (first) problems.push(`service ${s.cluster}/${s.service} in ${place.region}${place.account ? ` of ${place.account}` : ''} is both ${first} and ${owner}: a service that names the stack's region or account and one that names neither are the same service`);
      else owners.set(key, owner);
    });
  if (problems.length) throw new CanaryError('InvalidConfig', `invalid canary configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * The configured pair that owns an ECS service, with the service's index in that pair. With
 * `where` (the event's account and region, and the stack's own place) the service must run
 * there: a service of the same name elsewhere is another service, and one claimed by two
 * sides there is refused (checkServicesAt).
 */
export function findPairByService(config: CanaryConfig, cluster: string, service: string, where?: { place: Place; home: Place }): { pair: PairConfig; index: 0 | 1 } | undefined {
  if (where) checkServicesAt(config, where.home);
  const here = (s: ServiceConfig) => !where || samePlace(placeOfService(s, where.home), where.place);
  for (const pair of config.pairs) {
    const index = pair.services.findIndex((s) => s.cluster === cluster && s.service === service && here(s));
    if (index === 0 || index === 1) return { pair, index };
  }
  return undefined;
}
