import { accountOfRole, analysisOf, type CanaryConfig, type PairConfig, type ServiceConfig } from './config.js';

/**
 * The stack, declared once. Each function states its handler, its timeout and what it may
 * touch (`access`): every grant carries the environment variable that names its resource,
 * so a call, its permission and its configuration are written in one place. serverless.yml
 * gets the functions, their environment and IAM through serverless.vars.cjs; the local
 * runner (local/stack.ts) derives each function's environment and role from the same
 * declarations; tests compare both with the packaged template.
 */

/** A value in the template: a string, or an intrinsic CloudFormation resolves at deploy time. */
export type CfnValue = string | { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Sub': string };

export interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: CfnValue[];
  Condition?: Record<string, Record<string, string[]>>;
}

/** A set of permissions, and the environment variables that name what they are for. */
export interface Access {
  statements: Statement[];
  environment?: Record<string, CfnValue>;
  /** Used by the Lambda service on the function's behalf (the async on-failure destination), not by its code. */
  byLambda?: true;
  /** Actions granted only when a pair configures what they are for; none are granted now. */
  whenConfigured?: string[];
  /**
   * Calls made in another account, by the role they go through there (a pair's dnsRoleArn, a
   * service's roleArn): granted to that role (functions/lib/roles.ts), while `statements`
   * grant sts:AssumeRole on it.
   */
  inRole?: Record<string, Statement[]>;
  /** Actions in `statements` that another service calls with the function's credentials (DynamoDB uses the stack's KMS key for its caller), not its code. */
  viaService?: string[];
}

export interface FunctionDeclaration {
  /** `functions/<file>.handler`, as Lambda and serverless.yml name it. */
  handler: string;
  description: string;
  /** Lambda timeout, seconds. */
  timeout: number;
  access: Access[];
  /** EventBridge rule patterns that invoke the function (asynchronously). */
  rules?: { pattern: object; retryPolicy: { maximumEventAge: number; maximumRetryAttempts: number } }[];
  /** An EventBridge Scheduler schedule that invokes the function (asynchronously). */
  schedule?: { rate: string };
  /** Asynchronous invocations: Lambda's own retries; what still fails goes to the failures queue. */
  async?: { maximumRetryAttempts: number; maximumEventAge: number };
  /** Concurrent executions reserved for the function, and its ceiling (config `hardening.reservedConcurrency`, the safety functions only). */
  reservedConcurrency?: number;
}

/** What every function gets from serverless.yml's `provider:` (runtime, memory, environment). */
export const PROVIDER = {
  runtime: 'nodejs22.x',
  memorySize: 256,
  environment: { POWERTOOLS_SERVICE_NAME: 'ecs-dns-canary', POWERTOOLS_LOG_LEVEL: 'INFO', NODE_OPTIONS: '--enable-source-maps' },
} as const;

/** The state machine's name, as serverless.yml gives it (`${self:service}-${sls:stage}`). */
export const stateMachineName = (stage: string) => `ecs-dns-canary-${stage}`;

/** The claims table's name, as serverless.yml gives it (`${self:service}-${sls:stage}-claims`): the CLI finds it by the stage. */
export const claimsTableName = (stage: string) => `${stateMachineName(stage)}-claims`;

/** The stage a state machine's name says: `ecs-dns-canary-prod` -> `prod`. */
export const stageOf = (stateMachine: string) => stateMachine.slice(stateMachineName('').length);

/** A pair's CloudWatch dashboard (functions/lib/dashboard.ts), written by Preflight when a canary starts. */
export const dashboardName = (stage: string, pair: string) => `${stateMachineName(stage)}-${pair}`;

/** The state machine's name for the default stage. */
export const STATE_MACHINE_NAME = stateMachineName('prod');

/** Logical ids of the stack's own resources (serverless.yml `resources:` and the plugins' names). */
export const RESOURCES = {
  claimsTable: 'PairClaimsTable',
  stateMachine: 'CanaryStateMachine',
  failuresQueue: 'AsyncFailuresQueue',
  /** The customer managed key of config `hardening.kms` (functions/lib/hardening.ts). */
  key: 'CanaryKey',
} as const;

/** How often the sweep looks for claims whose execution is no longer running. */
export const SWEEP_RATE_MINUTES = 5;

/** The safety net's Lambda timeout: a run it fenced longer ago than this is no longer being handled. */
export const SAFETY_NET_TIMEOUT_SECONDS = 900;

/** `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}` become `{ 'Fn::Sub': ... }`. */
const sub = (template: string): CfnValue => (template.includes('${') ? { 'Fn::Sub': template } : template);
const allow = (Action: string[], Resource: CfnValue[], Condition?: Statement['Condition']): Statement => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

/**
 * A record name as IAM sees it in `route53:ChangeResourceRecordSetsNormalizedRecordNames`:
 * lower case, no final dot, and every character other than a-z 0-9 - _ . written as a
 * backslash and three octal digits (`*.example.com` -> `\052.example.com`).
 */
export function normalizedRecordName(name: string): string {
  const plain = name.trim().toLowerCase().replace(/\.$/, '').replace(/\\052/g, '*');
  return plain.replace(/[^a-z0-9\-_.]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** A side's service ARN: in its own region and account when it names them, else the stack's. */
const serviceArn = (s: Pick<ServiceConfig, 'cluster' | 'service' | 'region' | 'roleArn'>) =>
  sub(`arn:\${AWS::Partition}:ecs:${s.region ?? '${AWS::Region}'}:${s.roleArn ? accountOfRole(s.roleArn) : '${AWS::AccountId}'}:service/${s.cluster}/${s.service}`);
const serviceArns = (config: CanaryConfig) => config.pairs.flatMap((p) => p.services.map(serviceArn));

/**
 * Calls that go through a role where a unit (a pair's zone, a side) is in another account: the
 * units in the stack's account are granted `grants` in the function's own policy; for the others
 * the function may assume exactly their roles, and `grants` goes to each role (inRole). What
 * nothing configured needs is `whenConfigured`.
 */
function throughRoles<T>(units: T[], roleOf: (unit: T) => string | undefined, actions: string[], grants: (units: T[]) => Statement[]): Access {
  const own = units.filter((u) => !roleOf(u));
  const statements = own.length ? grants(own) : [];
  const roles = [...new Set(units.flatMap((u) => roleOf(u) ?? []))].map((r) => [r, grants(units.filter((u) => roleOf(u) === r))] as const).filter(([, s]) => s.length);
  return {
    statements: [...statements, ...(roles.length ? [allow(['sts:AssumeRole'], roles.map(([r]) => r))] : [])],
    whenConfigured: [...(statements.length ? [] : actions), ...(roles.length ? [] : ['sts:AssumeRole'])],
    ...(roles.length ? { inRole: Object.fromEntries(roles) } : {}),
  };
}

/** What a function may do in the stack's own account whatever is configured, plus `elsewhere`: the same calls in the sides' other accounts. */
const alsoOwn = (own: Statement, elsewhere: Access): Access => ({
  ...elsewhere,
  statements: [own, ...elsewhere.statements.filter((s) => JSON.stringify(s) !== JSON.stringify(own))],
  whenConfigured: (elsewhere.whenConfigured ?? []).filter((a) => !own.Action.includes(a)),
});
const zoneArn = (zoneId: string) => sub(`arn:\${AWS::Partition}:route53:::hostedzone/${zoneId}`);

/** SERVICE_DEPLOYMENT_COMPLETED of any configured service (either side of a pair: roles swap). */
export function deploymentRulePattern(config: CanaryConfig) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: serviceArns(config),
    detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
  };
}

/** Configured alarms, the pairs' and the services' own, going to ALARM (metric and composite alike send this event). None configured: no rule. */
export function alarmRulePattern(config: CanaryConfig) {
  const alarms = [...new Set(config.pairs.flatMap((p) => [...p.alarms, ...p.services.flatMap((s) => s.alarms)]))];
  if (alarms.length === 0) return undefined;
  return { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: alarms, state: { value: ['ALARM'] } } };
}

/** A configured service's deployment failing (sent with the circuit breaker on), or its tasks failing to start or to be placed. */
export function greenFailureRulePatterns(config: CanaryConfig) {
  return [
    { source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change'], resources: serviceArns(config), detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] } },
    {
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action'],
      resources: serviceArns(config),
      detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'SERVICE_TASK_PLACEMENT_FAILURE', 'SERVICE_TASK_CONFIGURATION_FAILURE'] },
    },
  ];
}

/** ABORTED, TIMED_OUT or FAILED runs of the canary's state machine: the safety net's trigger. */
export function executionStatusRulePattern() {
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ Ref: RESOURCES.stateMachine }] },
  };
}

/** What the functions may touch, one entry per kind of call. */
function accessFor(config: CanaryConfig, stateMachineName: string) {
  // A pair whose zone is in another account (dnsRoleArn) is reached through that role: each
  // Route53 grant becomes sts:AssumeRole on exactly the configured roles, and the calls themselves
  // are granted to the role, in its account (inRole; `npx ecs-dns-canary iam <pair>`).
  const route53 = (actions: string[], grants: (pairs: PairConfig[]) => Statement[]): Access => throughRoles(config.pairs, (p) => p.dnsRoleArn, actions, grants);
  // Each side, as either may be green: a side in another account (roleArn) is reached through its
  // role, one in another region of this account with the function's own role.
  type Side = { pair: PairConfig; service: ServiceConfig };
  const sides: Side[] = config.pairs.flatMap((pair) => pair.services.map((service) => ({ pair, service })));
  const onSides = (units: Side[], actions: string[], grants: (sides: Side[]) => Statement[]) => throughRoles(units, (s) => s.service.roleArn, actions, grants);
  const anywhere = (action: string) => (): Statement[] => [allow([action], ['*'])];
  const zonesOf = (pairs: PairConfig[]) => [...new Set(pairs.map((p) => p.hostedZoneId))];
  // With `hardening.kms` the table is encrypted with the stack's key: DynamoDB uses it with its
  // caller's credentials, so each caller may use the key, through DynamoDB only.
  const tableKeyActions = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];
  const claims = (...actions: string[]): Access => ({
    statements: [
      allow(actions.map((a) => `dynamodb:${a}`), [{ 'Fn::GetAtt': [RESOURCES.claimsTable, 'Arn'] }]),
      ...(config.hardening.kms ? [allow(tableKeyActions, [{ 'Fn::GetAtt': [RESOURCES.key, 'Arn'] }], { StringLike: { 'kms:ViaService': ['dynamodb.*.amazonaws.com'] } })] : []),
    ],
    environment: { LOCK_TABLE: { Ref: RESOURCES.claimsTable } },
    ...(config.hardening.kms ? { viaService: tableKeyActions } : {}),
  });
  return {
    readRecords: route53(['route53:ListResourceRecordSets'], (pairs) => [allow(['route53:ListResourceRecordSets'], zonesOf(pairs).map(zoneArn))]),
    // Only UPSERTs, only of the configured record names and types, only in the configured zones.
    writeRecords: route53(['route53:ChangeResourceRecordSets'], (pairs) =>
      pairs.map((p) =>
        allow(['route53:ChangeResourceRecordSets'], [zoneArn(p.hostedZoneId)], {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizedRecordName(p.recordName)],
            'route53:ChangeResourceRecordSetsRecordTypes': [p.recordType],
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          },
        }),
      ),
    ),
    // Change ids belong to the zone's account: GetChange goes through the same role as the change.
    getChange: route53(['route53:GetChange'], () => [allow(['route53:GetChange'], [sub('arn:${AWS::Partition}:route53:::change/*')])]),
    describeServices: onSides(sides, ['ecs:DescribeServices'], (of) => [allow(['ecs:DescribeServices'], of.map((s) => serviceArn(s.service)))]),
    // Composite alarms come back from DescribeAlarms only when the permission is scoped to *
    // (DescribeAlarms API reference); the action has no condition key to narrow it. The pair's
    // alarms are in the stack's account; a side's own alarms where it runs.
    describeAlarms: alsoOwn(
      allow(['cloudwatch:DescribeAlarms'], ['*']),
      onSides(sides.filter((s) => s.service.alarms.length), ['cloudwatch:DescribeAlarms'], anywhere('cloudwatch:DescribeAlarms')),
    ),
    putEvents: { statements: [allow(['events:PutEvents'], [sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default')])] } as Access,
    claims,
    // Functions the state machine invokes must not reference the state machine resource (a
    // circular dependency), so executions are named through the state machine's name.
    describeExecution: {
      statements: [allow(['states:DescribeExecution'], [sub(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}:*`)])],
    } as Access,
    startExecution: {
      statements: [allow(['states:StartExecution'], [{ Ref: RESOURCES.stateMachine }])],
      environment: { STATE_MACHINE_ARN: { Ref: RESOURCES.stateMachine } },
    } as Access,
    // SendTask* name no resource (Service Authorization Reference): only `*` grants them.
    succeedTasks: { statements: [allow(['states:SendTaskSuccess'], ['*'])] } as Access,
    failTasks: { statements: [allow(['states:SendTaskFailure'], ['*'])] } as Access,
    failures: {
      statements: [allow(['sqs:SendMessage'], [{ 'Fn::GetAtt': [RESOURCES.failuresQueue, 'Arn'] }])],
      byLambda: true,
    } as Access,
    // DescribeTargetHealth has no resource-level permissions (Service Authorization Reference).
    describeTargetHealth: alsoOwn(
      allow(['elasticloadbalancing:DescribeTargetHealth'], ['*']),
      onSides(sides, ['elasticloadbalancing:DescribeTargetHealth'], anywhere('elasticloadbalancing:DescribeTargetHealth')),
    ),
    // Neither has DescribeTargetGroups nor GetMetricData (Service Authorization Reference): `*` only.
    describeTargetGroups: alsoOwn(
      allow(['elasticloadbalancing:DescribeTargetGroups'], ['*']),
      onSides(sides, ['elasticloadbalancing:DescribeTargetGroups'], anywhere('elasticloadbalancing:DescribeTargetGroups')),
    ),
    // Metrics are read where each side runs, for the pairs whose green is judged against blue.
    getMetricData: alsoOwn(
      allow(['cloudwatch:GetMetricData'], ['*']),
      onSides(sides.filter((s) => analysisOf(s.pair) !== false), ['cloudwatch:GetMetricData'], anywhere('cloudwatch:GetMetricData')),
    ),
    // The canary's own metrics are EMF log lines (no API call): the stage is their `stage` dimension.
    metrics: { statements: [], environment: { CANARY_STAGE: stageOf(stateMachineName) } } as Access,
    // Exactly the dashboards of the pairs that keep one (a dashboard's ARN has no region: dashboards are global).
    putDashboard: {
      ...whenConfigured(
        ['cloudwatch:PutDashboard'],
        config.pairs.filter((p) => p.dashboard).map((p) => sub(`arn:\${AWS::Partition}:cloudwatch::\${AWS::AccountId}:dashboard/${dashboardName(stageOf(stateMachineName), p.name)}`)),
      ),
      environment: { CANARY_STAGE: stageOf(stateMachineName) },
    } as Access,
    // Only the services of pairs that scale their idle side.
    scaleServices: onSides(
      sides.filter((s) => s.pair.idleAfterPromotion),
      ['ecs:UpdateService', 'ecs:DescribeServices'],
      (of) => [allow(['ecs:UpdateService', 'ecs:DescribeServices'], of.map((s) => serviceArn(s.service)))],
    ),
    // Exactly the configured hook functions.
    invokeHooks: whenConfigured(
      ['lambda:InvokeFunction'],
      [...new Set(config.pairs.flatMap((p) => [p.hooks?.preTraffic, p.hooks?.postTraffic]).filter((a): a is string => Boolean(a)))],
    ),
    // Exactly the configured smoke-test secrets (a name matches the ARN's random suffix).
    readSecrets: whenConfigured(
      ['secretsmanager:GetSecretValue'],
      [...new Set(config.pairs.map((p) => p.smokeTest?.secret).filter((s): s is string => Boolean(s)))].map((s) =>
        s.startsWith('arn:') ? s : sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${s}-??????`),
      ),
    ),
  };
}

/** Actions on exactly the resources the configuration names; with none named, nothing is granted. */
function whenConfigured(actions: string[], resources: CfnValue[]): Access {
  return resources.length ? { statements: [allow(actions, resources)] } : { statements: [], whenConfigured: actions };
}

/**
 * Every function of the stack. `stateMachineName` is the name serverless.yml gives the state
 * machine (see accessFor).
 */
export function declareFunctions(config: CanaryConfig, stateMachineName: string): Record<string, FunctionDeclaration> {
  const a = accessFor(config, stateMachineName);
  const restore = [a.readRecords, a.writeRecords, a.getChange, a.putEvents];
  const async = { maximumRetryAttempts: 2, maximumEventAge: 6 * 3600 };
  // The functions that put blue back (SAFETY_FUNCTIONS): capacity reserved for them when configured.
  const safety = config.hardening.reservedConcurrency ? { reservedConcurrency: config.hardening.reservedConcurrency } : {};
  return {
    startCanary: {
      handler: 'functions/start-canary.handler',
      description: 'Starts one canary execution per ECS deployment of a configured service',
      timeout: 30,
      access: [a.startExecution, a.describeServices, a.failures],
      rules: [{ pattern: deploymentRulePattern(config), retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 8 } }],
      async,
    },
    preflight: {
      handler: 'functions/preflight.handler',
      description: 'Canary: fail-closed checks before the first weight change',
      timeout: 50,
      access: [a.readRecords, a.describeServices, a.describeTargetGroups, a.describeAlarms, a.putEvents, a.claims('PutItem', 'GetItem', 'DeleteItem'), a.describeExecution, a.putDashboard, a.metrics],
    },
    shiftTraffic: {
      handler: 'functions/shift-traffic.handler',
      description: 'Canary: drift guard and one atomic change batch to the next step',
      timeout: 50,
      access: [a.readRecords, a.writeRecords, a.getChange, a.claims('GetItem', 'UpdateItem'), a.metrics],
    },
    waitForChange: {
      handler: 'functions/wait-for-change.handler',
      description: 'Canary: waits until a Route53 change is INSYNC',
      timeout: 290,
      access: [a.getChange],
    },
    judgeGreen: {
      handler: 'functions/judge-green.handler',
      description: "Canary: green against blue from each side's metrics, alarms, ECS health and target-group health",
      timeout: 50,
      access: [a.describeServices, a.describeAlarms, a.describeTargetHealth, a.getMetricData, a.putEvents, a.claims('GetItem', 'UpdateItem'), a.metrics],
    },
    awaitSignal: {
      handler: 'functions/await-signal.handler',
      description: 'Canary: parks the listener\'s or a gate\'s task token with the pair\'s claim',
      timeout: 30,
      access: [a.claims('GetItem', 'UpdateItem'), a.succeedTasks, a.failTasks],
    },
    signal: {
      handler: 'functions/signal.handler',
      description: 'Canary: an alarm or a failing green stops the running canary at once',
      timeout: 30,
      access: [a.claims('GetItem', 'UpdateItem'), a.failTasks, a.failures],
      rules: [alarmRulePattern(config), ...greenFailureRulePatterns(config)]
        .filter((p): p is NonNullable<typeof p> => p !== undefined)
        .map((pattern) => ({ pattern, retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 8 } })),
      async,
    },
    scaleService: {
      handler: 'functions/scale-service.handler',
      description: 'Canary: brings green back up before traffic; scales the old side down after a promotion',
      timeout: 900,
      access: [a.scaleServices],
    },
    smokeTest: {
      handler: 'functions/smoke-test.handler',
      description: "Canary: checks green's own endpoint before any traffic moves",
      timeout: 900,
      access: [a.readSecrets],
    },
    runHook: {
      handler: 'functions/run-hook.handler',
      description: 'Canary: invokes the pre-traffic or post-traffic hook of the pair',
      timeout: 900,
      access: [a.invokeHooks],
    },
    promote: {
      handler: 'functions/promote.handler',
      description: 'Canary: confirms green 100 / blue 0 and marks the pair promoting',
      timeout: 50,
      access: [a.readRecords, a.claims('GetItem', 'UpdateItem'), a.succeedTasks],
    },
    release: {
      handler: 'functions/release.handler',
      description: 'Canary: releases the pair after a promotion or a refusal, and says so',
      timeout: 50,
      access: [a.putEvents, a.claims('DeleteItem'), a.metrics],
    },
    rollBack: {
      handler: 'functions/roll-back.handler',
      description: 'Canary: blue 100 / green 0, INSYNC, and the RolledBack notification',
      timeout: 290,
      access: [...restore, a.claims('GetItem', 'UpdateItem', 'DeleteItem'), a.metrics],
      ...safety,
    },
    safetyNet: {
      handler: 'functions/safety-net.handler',
      description: 'Canary: restores blue 100 / green 0 after a stopped, timed-out or failed run',
      timeout: SAFETY_NET_TIMEOUT_SECONDS,
      access: [...restore, a.claims('GetItem', 'UpdateItem', 'DeleteItem'), a.describeExecution, a.failures, a.metrics],
      rules: [{ pattern: executionStatusRulePattern(), retryPolicy: { maximumEventAge: 86_400, maximumRetryAttempts: 185 } }],
      async,
      ...safety,
    },
    sweep: {
      handler: 'functions/sweep.handler',
      description: 'Canary: restores any pair whose claim belongs to an execution that is no longer running',
      timeout: SAFETY_NET_TIMEOUT_SECONDS,
      access: [...restore, a.claims('Scan', 'UpdateItem', 'DeleteItem'), a.describeExecution, a.failures, a.metrics],
      schedule: { rate: `rate(${SWEEP_RATE_MINUTES} minutes)` },
      async: { maximumRetryAttempts: 0, maximumEventAge: 60 * SWEEP_RATE_MINUTES },
      ...safety,
    },
  };
}

/** A function's environment: what its grants name. */
export function environmentOf(fn: FunctionDeclaration): Record<string, CfnValue> {
  return Object.assign({}, ...fn.access.map((x) => x.environment ?? {}));
}

/**
 * A function's IAM statements, in declaration order, each once; its sts:AssumeRole grants as one
 * statement (a function that reads Route53 and a side's ECS through roles assumes each role once).
 */
export function statementsOf(fn: FunctionDeclaration): Statement[] {
  const all = fn.access.flatMap((x) => x.statements);
  const roles = [...new Set(all.filter((s) => s.Action.includes('sts:AssumeRole')).flatMap((s) => s.Resource))];
  const merged = all.map((s) => (s.Action.length === 1 && s.Action[0] === 'sts:AssumeRole' ? allow(['sts:AssumeRole'], roles) : s));
  return merged.filter((s, i) => merged.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
}

/** serverless.yml's `functions:` block. */
export function serverlessFunctions(config: CanaryConfig, stateMachineName: string): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [name, fn] of Object.entries(declareFunctions(config, stateMachineName))) {
    const environment = environmentOf(fn);
    out[name] = {
      handler: fn.handler,
      description: fn.description,
      timeout: fn.timeout,
      ...(Object.keys(environment).length ? { environment } : {}),
      iamRoleStatements: statementsOf(fn),
      ...(fn.reservedConcurrency ? { reservedConcurrency: fn.reservedConcurrency } : {}),
      ...(fn.async
        ? {
            maximumRetryAttempts: fn.async.maximumRetryAttempts,
            maximumEventAge: fn.async.maximumEventAge,
            destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': [RESOURCES.failuresQueue, 'Arn'] } } },
          }
        : {}),
      events: (fn.rules ?? []).map((r) => ({ eventBridge: { pattern: r.pattern, retryPolicy: r.retryPolicy } })),
    };
  }
  return out;
}

/**
 * An EventBridge Scheduler schedule per scheduled function, with a role of its own that may
 * invoke exactly that function. (serverless' `schedule` event with `method: scheduler` would
 * make the function's own execution role the scheduler's, which lacks lambda:InvokeFunction
 * with per-function roles.)
 */
export function scheduleResources(config: CanaryConfig, stateMachineName: string): Record<string, object> {
  const resources: Record<string, object> = {};
  for (const [name, fn] of Object.entries(declareFunctions(config, stateMachineName))) {
    if (!fn.schedule) continue;
    const id = lambdaLogicalId(name).replace(/LambdaFunction$/, '');
    resources[`${id}SchedulerRole`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
          ],
        },
        Policies: [
          {
            PolicyName: 'invoke',
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [lambdaLogicalId(name), 'Arn'] } }] },
          },
        ],
      },
    };
    resources[`${id}Schedule`] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: fn.description,
        ScheduleExpression: fn.schedule.rate,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [lambdaLogicalId(name), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [`${id}SchedulerRole`, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 * SWEEP_RATE_MINUTES },
        },
      },
    };
  }
  return resources;
}

/** The service integration a Task state uses to park a task token with a function (the listener, the gate). */
export const WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

interface AslStates {
  States: Record<string, { Type: string; Resource?: unknown; Parameters?: { FunctionName?: unknown }; Branches?: AslStates[] }>;
}

/**
 * Every Task state of a definition, Parallel branches included, with the function it invokes:
 * `${XFunctionArn}` as its Resource, or as the FunctionName of a `.waitForTaskToken` Lambda
 * integration (`token` says which). State names are unique across branches.
 */
export function taskStates(definition: AslStates): { name: string; state: AslStates['States'][string]; fn: string; token: boolean }[] {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    if (state.Type === 'Parallel') return (state.Branches ?? []).flatMap(taskStates);
    if (state.Type !== 'Task') return [];
    const token = state.Resource === WAIT_FOR_TOKEN;
    const placeholder = token ? state.Parameters?.FunctionName : state.Resource;
    const fn = typeof placeholder === 'string' ? functionOfPlaceholder(placeholder) : undefined;
    if (!fn) throw new Error(`statemachine: Task state "${name}" must name its function with a \${...FunctionArn} placeholder, found ${JSON.stringify(placeholder)}`);
    return [{ name, state, fn, token }];
  });
}

/** The Task state placeholder `${ShiftTrafficFunctionArn}` names the function `shiftTraffic`. */
export const functionOfPlaceholder = (placeholder: string): string | undefined => {
  const m = /^\$\{(\w+)FunctionArn\}$/.exec(placeholder);
  return m ? m[1]!.charAt(0).toLowerCase() + m[1]!.slice(1) : undefined;
};

/** CloudFormation logical id serverless gives a function's resource: `shiftTraffic` -> `ShiftTrafficLambdaFunction`. */
export const lambdaLogicalId = (fn: string) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`;

/**
 * A function's role name as serverless-iam-roles-per-function gives it: `<service>-<stage>-<fn>-<region>-lambdaRole`,
 * without `-lambdaRole` when that would pass IAM's 64 characters (longer still, the plugin refuses to package).
 */
export function functionRoleName(fn: string, stage: string, region: string): string {
  const parts = [stateMachineName(stage), fn, region, 'lambdaRole'];
  const name = parts.join('-');
  return name.length > 64 ? parts.slice(0, -1).join('-') : name;
}
