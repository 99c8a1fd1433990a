import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import validator from 'asl-validator';
import { unzipSync } from 'fflate';
import { describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../functions/lib/config.js';
import { declareFunctions, functionRoleName, lambdaLogicalId, normalizedRecordName, STATE_MACHINE_NAME, statementsOf, taskStates } from '../functions/lib/stack.js';
import example from '../local/example.config.js';
import { stackFromDeclarations, stackFromTemplate, type PolicyStatement } from '../local/stack.js';
import { loadDefinition } from '../local/step-functions.js';
import { exampleConfigSource, projectWith, ROOT, sls, slsPackage } from './setup/package-stack.js';

const config = parseConfig(example);
const declarations = declareFunctions(config, STATE_MACHINE_NAME);
const names = Object.keys(declarations);
const out = join(inject('packagedProject'), 'out');

type Template = { Resources: Record<string, { Type: string; Properties: any; DependsOn?: unknown }> };
const template: Template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const statements = () =>
  ofType('AWS::IAM::Role').flatMap(([role, r]) =>
    (r.Properties.Policies ?? []).flatMap((p: any) => [p.PolicyDocument.Statement].flat().map((s: any) => ({ role, ...s, Action: [s.Action].flat(), Resource: [s.Resource].flat() }))),
  );
/** What serverless adds to every role for the function's own log group. */
const withoutLogs = (policies: PolicyStatement[]) => policies.filter((s) => !s.Action.every((a) => a.startsWith('logs:')));

describe('the packaged stack', () => {
  it('validates the definition with asl-validator', () => {
    // Bind each ${XFunctionArn} placeholder to a Lambda ARN, as serverless-step-functions does.
    const bound = JSON.parse(JSON.stringify(loadDefinition()).replace(/\$\{(\w+)FunctionArn\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1'));
    const result = validator(bound, { checkArn: true, checkPaths: true });
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  const ruleTo = (fn: string) => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === fn);
    expect(rules).toHaveLength(1);
    return rules[0]![1];
  };

  it('has five rules and no other', () => expect(ofType('AWS::Events::Rule')).toHaveLength(5));

  it('rule 1: SERVICE_DEPLOYMENT_COMPLETED of every configured service, to start-canary', () => {
    const rule = ruleTo('StartCanaryLambdaFunction');
    const services = config.pairs.flatMap((p) => p.services.map((s) => `service/${s.cluster}/${s.service}`));
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Deployment State Change'],
      resources: services.map((s) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:${s}` })),
      detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
    });
  });

  it('rule 2: ABORTED, TIMED_OUT or FAILED runs of this state machine, to the safety net', () => {
    expect(ruleTo('SafetyNetLambdaFunction').Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ Ref: 'CanaryStateMachine' }] },
    });
  });

  it('rules 3 to 5: the configured alarms going to ALARM, and green failing, to the signal function', () => {
    const patterns = ofType('AWS::Events::Rule')
      .map(([, r]) => r.Properties)
      .filter((p) => p.Targets[0].Arn['Fn::GetAtt'][0] === 'SignalLambdaFunction')
      .map((p) => p.EventPattern);
    const services = config.pairs.flatMap((p) => p.services.map((s) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:service/${s.cluster}/${s.service}` })));
    expect(patterns).toEqual([
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: config.pairs.flatMap((p) => p.alarms), state: { value: ['ALARM'] } } },
      { source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change'], resources: services, detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] } },
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Service Action'],
        resources: services,
        detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'SERVICE_TASK_PLACEMENT_FAILURE', 'SERVICE_TASK_CONFIGURATION_FAILURE'] },
      },
    ]);
  });

  it('keeps pair claims in a DynamoDB table with TTL', () => {
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, any]];
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'pair', KeyType: 'HASH' }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('deploys the definition from statemachine/, each Task bound to its function', () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine') as [[string, any]];
    expect(machine.Properties.StateMachineName).toBe(STATE_MACHINE_NAME);
    const [text, params] = machine.Properties.DefinitionString['Fn::Sub'];
    // The plugin's validator marks every state with the default QueryLanguage (JSONPath); nothing else may differ.
    const deployed = JSON.parse(text, (key, value) => (key === 'QueryLanguage' && value === 'JSONPath' ? undefined : value));
    // Every ${X} the plugin substitutes is one function's ARN; named back as ${FnFunctionArn}, the definition is statemachine/'s.
    const named = JSON.parse(JSON.stringify(deployed).replace(/\$\{(\w+)\}/g, (_, placeholder: string) => {
      const [logicalId, attribute] = params[placeholder]['Fn::GetAtt'];
      expect(attribute).toBe('Arn');
      return `\${${logicalId.replace(/LambdaFunction$/, '')}FunctionArn}`;
    }));
    expect(named).toEqual(loadDefinition());
    expect(Object.keys(params)).toHaveLength(new Set(taskStates(loadDefinition() as never).map((t) => t.fn)).size);
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
  });

  it('has no circular dependency between resources (Ref, GetAtt, ${X} in Fn::Sub, DependsOn)', () => {
    const ids = new Set(Object.keys(template.Resources));
    const refs = (node: unknown, found = new Set<string>()): Set<string> => {
      if (Array.isArray(node)) node.forEach((n) => refs(n, found));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'Ref' && typeof v === 'string') found.add(v);
          else if (k === 'Fn::GetAtt') found.add((Array.isArray(v) ? v[0] : String(v).split('.')[0]) as string);
          else if (k === 'Fn::Sub') {
            const text = Array.isArray(v) ? v[0] : v;
            for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) found.add(m[1]!);
            if (Array.isArray(v)) refs(v[1], found);
          } else refs(v, found);
        }
      }
      return found;
    };
    const edges = new Map(Object.entries(template.Resources).map(([id, r]) => [id, [...refs(r.Properties), ...[r.DependsOn ?? []].flat()].filter((x) => ids.has(x as string)) as string[]]));
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]) => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) visit(next, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of ids) visit(id, []);
  });

  it('runs every declared function on nodejs22.x, each in its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBe(names.length);
    for (const [, f] of functions) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Role['Fn::GetAtt'][0]).not.toBe('IamRoleLambdaExecution');
    }
    expect(new Set(functions.map(([, f]) => f.Properties.Role['Fn::GetAtt'][0])).size).toBe(names.length);
  });

  it('gives each function exactly the environment, role, timeout and async config its declaration says', () => {
    const packaged = stackFromTemplate(template, names);
    const declared = stackFromDeclarations(config);
    for (const name of names) {
      const { policies: p, ...rest } = packaged[name]!;
      const { policies: d, ...declaredRest } = declared[name]!;
      expect(rest, name).toEqual(declaredRest);
      expect(withoutLogs(p), name).toEqual(d);
    }
  });

  it('names a table or the state machine in a function\'s environment exactly when its role may use it', () => {
    for (const [name, fn] of Object.entries(stackFromTemplate(template, names))) {
      const actions = fn.policies.flatMap((s) => s.Action);
      expect('LOCK_TABLE' in fn.environment, name).toBe(actions.some((a) => a.startsWith('dynamodb:')));
      expect('STATE_MACHINE_ARN' in fn.environment, name).toBe(actions.includes('states:StartExecution'));
    }
  });

  it('grants no wildcard action; Route53 writes only UPSERTs of the configured records, in partition-neutral ARNs', () => {
    const all = statements();
    for (const s of all) for (const a of s.Action) expect(a, `${s.role}: ${a}`).not.toMatch(/\*/);
    for (const s of all.filter((x) => x.Action.some((a: string) => a.startsWith('route53:')))) {
      for (const r of s.Resource) expect(JSON.stringify(r), s.role).toMatch(/^\{"Fn::Sub":"arn:\$\{AWS::Partition\}:route53:::(hostedzone|change)\//);
    }
    const writes = all.filter((s) => s.Action.some((a: string) => /^route53:(Change|Create|Delete)/.test(a)));
    for (const s of writes) {
      expect(s.Action).toEqual(['route53:ChangeResourceRecordSets']);
      const pair = config.pairs.find((p) => JSON.stringify(s.Resource).includes(`hostedzone/${p.hostedZoneId}"`))!;
      expect(s.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [normalizedRecordName(pair.recordName)],
          'route53:ChangeResourceRecordSetsRecordTypes': [pair.recordType],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      });
    }
    // Only the functions that move traffic may write.
    expect(new Set(writes.map((s) => s.role))).toEqual(
      new Set(['ShiftTraffic', 'RollBack', 'SafetyNet', 'Sweep'].map((f) => `${f}IamRoleLambdaExecution`)),
    );
  });

  it('scopes DescribeAlarms to * (composite alarms are returned to no narrower permission) and other reads to the configured resources', () => {
    for (const s of statements()) {
      if (s.Action.includes('cloudwatch:DescribeAlarms')) expect(s.Resource).toEqual(['*']);
      if (s.Action.includes('ecs:DescribeServices')) for (const r of s.Resource) expect(JSON.stringify(r)).toMatch(/:service\/shop\/shop-web-[ab]"/);
      if (s.Action.includes('states:StartExecution')) expect(s.Resource).toEqual([{ Ref: 'CanaryStateMachine' }]);
      if (s.Action.includes('states:DescribeExecution'))
        expect(s.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:ecs-dns-canary-prod:*' }]);
      if (s.Action.some((a: string) => a.startsWith('dynamodb:'))) expect(s.Resource).toEqual([{ 'Fn::GetAtt': ['PairClaimsTable', 'Arn'] }]);
    }
  });

  it('sends what the trigger, the signal function, the safety net and the sweep fail to handle to a queue with an alarm on its depth', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties);
    expect(configs.map((c) => c.FunctionName.Ref).sort()).toEqual(['SafetyNetLambdaFunction', 'SignalLambdaFunction', 'StartCanaryLambdaFunction', 'SweepLambdaFunction']);
    for (const c of configs) expect(c.DestinationConfig).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': ['AsyncFailuresQueue', 'Arn'] } } });
    const [[, alarm]] = ofType('AWS::CloudWatch::Alarm') as [[string, any]];
    expect(alarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('runs the sweep on an EventBridge Scheduler schedule whose own role may invoke only the sweep', () => {
    const [[, schedule]] = ofType('AWS::Scheduler::Schedule') as [[string, any]];
    expect(schedule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] });
    const role = template.Resources[schedule.Properties.Target.RoleArn['Fn::GetAtt'][0]]!.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(role.Policies.flatMap((p: any) => p.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] } },
    ]);
  });
});

/** IAM prefix of each SDK client package a bundle may require. */
const IAM_PREFIX: Record<string, string> = {
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
};

/** The IAM actions a bundle's code can call: every SDK `XCommand` it references, per client package it requires. */
function bundleActions(code: string): Set<string> {
  const require = createRequire(join(ROOT, 'package.json'));
  const packages = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!).filter((p) => p.startsWith('@aws-sdk/'));
  const used = new Set([...code.matchAll(/\.(\w+Command)\b/g)].map((m) => m[1]!));
  const actions = new Set<string>();
  // A credential provider that calls STS for the code: fromTemporaryCredentials assumes a pair's DNS role.
  if (packages.includes('@aws-sdk/credential-providers') && /\.fromTemporaryCredentials\b/.test(code)) actions.add('sts:AssumeRole');
  for (const pkg of new Set(packages.filter((p) => p !== '@aws-sdk/credential-providers'))) {
    const prefix = IAM_PREFIX[pkg];
    expect(prefix, `a bundle requires ${pkg}: map it to its IAM prefix`).toBeDefined();
    for (const name of Object.keys(require(pkg))) if (name.endsWith('Command') && used.has(name)) actions.add(`${prefix}:${name.replace(/Command$/, '')}`);
  }
  return actions;
}

describe('grants that exist only when configured', () => {
  it('name exactly the configured hooks, secrets and idle-scaled services', () => {
    const full = parseConfig({
      pairs: [
        {
          ...example.pairs[0],
          smokeTest: { url: 'https://green.example.com/health', secret: 'shop/smoke-token' },
          hooks: { preTraffic: 'arn:aws:lambda:eu-west-1:123456789012:function:pre', postTraffic: 'arn:aws:lambda:eu-west-1:123456789012:function:post' },
          idleAfterPromotion: { desiredCount: 0, afterSeconds: 300 },
        },
      ],
    });
    const stack = declareFunctions(full, STATE_MACHINE_NAME);
    expect(statementsOf(stack.runHook!)).toEqual([
      { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['arn:aws:lambda:eu-west-1:123456789012:function:pre', 'arn:aws:lambda:eu-west-1:123456789012:function:post'] },
    ]);
    expect(statementsOf(stack.smokeTest!)).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:shop/smoke-token-??????' }] },
    ]);
    expect(statementsOf(stack.scaleService!)[0]!.Action).toEqual(['ecs:UpdateService', 'ecs:DescribeServices']);
    expect(statementsOf(stack.scaleService!)[0]!.Resource).toHaveLength(2);
    // and nothing at all without them
    for (const fn of ['runHook', 'smokeTest', 'scaleService']) expect(statementsOf(declarations[fn]!), fn).toEqual([]);
  });
});

describe('the zips `sls package` writes', () => {
  const zips = readdirSync(out).filter((f) => f.endsWith('.zip'));

  it('one per function, each holding its handler as CommonJS (.cjs) and requiring nothing but the AWS SDK', () => {
    expect(zips.map((z) => z.replace(/\.zip$/, '')).sort()).toEqual([...names].sort());
    for (const name of names) {
      const files = unzipSync(readFileSync(join(out, `${name}.zip`)));
      expect(Object.keys(files), name).toEqual([`${declarations[name]!.handler.replace(/\.handler$/, '')}.cjs`]);
      const code = Buffer.from(Object.values(files)[0]!).toString('utf8');
      const external = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!).filter((p) => !p.startsWith('node:') && !/^[a-z_]+$/.test(p));
      for (const p of external) expect(p, name).toMatch(/^@aws-sdk\//);
    }
  });

  it("each role grants exactly the SDK calls its bundle makes: nothing missing, nothing unused", () => {
    const packaged = stackFromTemplate(template, names);
    for (const name of names) {
      const code = Buffer.from(Object.values(unzipSync(readFileSync(join(out, `${name}.zip`))))[0]!).toString('utf8');
      // Invoke needs lambda:InvokeFunction (the one action not named after its command).
      const used = new Set([...bundleActions(code)].map((a) => (a === 'lambda:Invoke' ? 'lambda:InvokeFunction' : a)));
      // what a service calls with the function's credentials, not its code: the async destination (Lambda), the table's KMS key (DynamoDB, with hardening.kms)
      const byLambda = new Set([
        ...declarations[name]!.access.filter((a) => a.byLambda).flatMap((a) => a.statements.flatMap((s) => s.Action)),
        ...declarations[name]!.access.flatMap((a) => a.viaService ?? []),
      ]);
      const granted = new Set(withoutLogs(packaged[name]!.policies).flatMap((s) => s.Action).filter((a) => !byLambda.has(a)));
      // what the example configures nothing for (hooks, secrets, idle scaling) is granted only when configured
      const whenConfigured = declarations[name]!.access.flatMap((a) => a.whenConfigured ?? []);
      for (const action of whenConfigured) used.delete(action);
      expect([...used].sort(), `${name}: SDK calls in the bundle vs grants`).toEqual([...granted].sort());
    }
  });

  it("names each function's role as functionRoleName says: the DNS role's trust policy (`iam <pair>`) names them so", () => {
    for (const name of names) {
      const roleId = template.Resources[lambdaLogicalId(name)]!.Properties.Role['Fn::GetAtt'][0];
      const [separator, parts] = template.Resources[roleId]!.Properties.RoleName['Fn::Join'];
      const roleName = parts.map((p: string | { Ref: string }) => (typeof p === 'string' ? p : p.Ref === 'AWS::Region' ? 'eu-west-1' : `<${p.Ref}>`)).join(separator);
      expect(roleName, name).toBe(functionRoleName(name, 'prod', 'eu-west-1'));
    }
  });

  it('grants sqs:SendMessage for the on-failure destination only to functions invoked asynchronously', () => {
    for (const [name, fn] of Object.entries(declarations)) {
      const sends = statementsOf(fn).some((s) => s.Action.includes('sqs:SendMessage'));
      expect(sends, name).toBe(fn.async !== undefined);
    }
  });
});

describe('canary.config.ts errors', () => {
  /** What `sls package` prints when it refuses `source` (the test fails if it packages it); never a stack trace. */
  async function refusal(source: string): Promise<string> {
    const dir = projectWith(source);
    try {
      const error = await slsPackage(dir, join(dir, 'out')).then(
        () => undefined,
        (e: { stdout: string; stderr: string }) => e,
      );
      expect(error, 'sls package should fail').toBeDefined();
      const text = `${error!.stdout}${error!.stderr}`;
      expect(text).not.toMatch(/^\s+at /m);
      return text;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('fail `sls package` with one clean message naming each bad field: no stack trace, nothing repeated', async () => {
    const bad = exampleConfigSource().replace('steps: [10, 25, 50, 100]', 'steps: [10, 25, 50]').replace("recordType: 'A'", "recordType: 'MX'");
    expect(bad).toContain('steps: [10, 25, 50]');
    const text = await refusal(bad);
    expect(text).toContain('pairs[0].steps: the last step must be 100');
    expect(text).toContain('pairs[0].recordType:');
    expect(text.split('the last step must be 100').length - 1).toBe(1);
  }, 240_000);

  it("fail `sls package` for what only the stack's region shows: one service named with that region and without, as both sides of a pair", async () => {
    const source = exampleConfigSource();
    const bad = source.replace("{ cluster: 'shop', service: 'shop-web-b', setIdentifier: 'shop-web-b' }", "{ cluster: 'shop', service: 'shop-web-a', setIdentifier: 'shop-web-b', region: 'eu-west-1' }");
    expect(bad).not.toBe(source);
    expect(await refusal(bad)).toContain('service shop/shop-web-a in eu-west-1 is both shop-web.services[0] and shop-web.services[1]');
  }, 240_000);
});

describe('sls invoke local', () => {
  // No credentials, as on a laptop that has none: each must fail fast with a clear message, not hang.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^AWS_/.test(k)));
  const dir = inject('packagedProject');
  const invoke = (fn: string, event: string) =>
    sls(dir, ['invoke', 'local', '-f', fn, '-p', `events/${event}`], { ...env, CI: 'true', SLS_TELEMETRY_DISABLED: '1', HOME: dir }, 60_000).then(
      (r) => ({ code: 0, text: r.stdout + r.stderr }),
      (e: { code?: number; killed?: boolean; stdout?: string; stderr?: string }) => ({ code: e.killed ? 'TIMEOUT' : e.code, text: `${e.stdout}${e.stderr}` }),
    );

  it('loads waitForChange on the sample task input and stops at the first AWS call, naming the missing credentials', async () => {
    const r = await invoke('waitForChange', 'task-wait-for-change.json');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/Could not load credentials from any providers/);
  }, 90_000);

  it('judgeGreen on the sample task input: its LOCK_TABLE needs the deployed stack, and says so', async () => {
    const r = await invoke('judgeGreen', 'task-judge-green.json');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/LOCK_TABLE/);
  }, 90_000);

  it('startCanary on the sample deployment event: its STATE_MACHINE_ARN needs the deployed stack, and says so', async () => {
    const r = await invoke('startCanary', 'ecs-deployment-completed.json');
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/STATE_MACHINE_ARN/);
  }, 90_000);
});
