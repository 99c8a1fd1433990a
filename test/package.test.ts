import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import validator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import shipped from '../canary.config.js';
import { parseConfig } from '../functions/lib/config.js';
import { loadDefinition } from '../local/step-functions.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const SLS = join(ROOT, 'node_modules/osls/bin/serverless.js');
const config = parseConfig(shipped);

/** `sls package` into a directory of its own: what `sls deploy` would upload. */
async function slsPackage(cwd: string, out: string) {
  return run(process.execPath, [SLS, 'package', '--package', out], { cwd, env: { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1' }, timeout: 240_000 });
}

type Template = { Resources: Record<string, { Type: string; Properties: any }> };
let template: Template;
let out: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'canary-package-'));
  await slsPackage(ROOT, out);
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 240_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const statements = () =>
  ofType('AWS::IAM::Role').flatMap(([role, r]) =>
    (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement.map((s: any) => ({ role, ...s, Action: [s.Action].flat(), Resource: [s.Resource].flat() }))),
  );

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

  it('has two rules and no other', () => expect(ofType('AWS::Events::Rule')).toHaveLength(2));

  it('rule 1: SERVICE_DEPLOYMENT_COMPLETED of every configured service, to start-canary', () => {
    const rule = ruleTo('StartCanaryLambdaFunction');
    const services = config.pairs.flatMap((p) => p.services.map((s) => `service/${s.cluster}/${s.service}`));
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Deployment State Change'],
      resources: services.map((s) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:${s}` })),
      detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
    });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['StartCanaryLambdaFunction', 'Arn'] } })]);
  });

  it('rule 2: ABORTED, TIMED_OUT or FAILED runs of this state machine, to the safety net', () => {
    expect(ruleTo('SafetyNetLambdaFunction').Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ Ref: 'CanaryStateMachine' }] },
    });
  });

  it('keeps pair claims in a DynamoDB table with TTL', () => {
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, any]];
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'pair', KeyType: 'HASH' }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const withTable = ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.LOCK_TABLE);
    expect(withTable.map(([id]) => id).sort()).toEqual(['PreflightLambdaFunction', 'PromoteLambdaFunction', 'RollBackLambdaFunction', 'SafetyNetLambdaFunction']);
  });

  it('deploys the definition from statemachine/, each Task bound to its function', () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine') as [[string, any]];
    const [text, params] = machine.Properties.DefinitionString['Fn::Sub'];
    // The plugin's validator marks every state with the default QueryLanguage (JSONPath); nothing else may differ.
    const deployed = JSON.parse(text, (key, value) => (key === 'QueryLanguage' && value === 'JSONPath' ? undefined : value));
    const source = loadDefinition();
    expect(Object.keys(deployed.States)).toEqual(Object.keys(source.States));
    for (const [name, state] of Object.entries(source.States)) {
      if (state.Type !== 'Task') {
        expect(deployed.States[name]).toEqual(state);
        continue;
      }
      const fn = /^\$\{(\w+)FunctionArn\}$/.exec(state.Resource!)![1];
      const placeholder = /^\$\{(\w+)\}$/.exec(deployed.States[name].Resource)![1]!;
      expect(params[placeholder]).toEqual({ 'Fn::GetAtt': [`${fn}LambdaFunction`, 'Arn'] });
      expect({ ...deployed.States[name], Resource: state.Resource }).toEqual(state);
    }
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
  });

  it('has no circular dependency between resources (Ref, GetAtt, ${X} in Fn::Sub, DependsOn)', () => {
    const ids = new Set(Object.keys(template.Resources));
    const refs = (node: unknown, out = new Set<string>()): Set<string> => {
      if (Array.isArray(node)) node.forEach((n) => refs(n, out));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'Ref' && typeof v === 'string') out.add(v);
          else if (k === 'Fn::GetAtt') out.add((Array.isArray(v) ? v[0] : String(v).split('.')[0]) as string);
          else if (k === 'Fn::Sub') {
            const text = Array.isArray(v) ? v[0] : v;
            for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) out.add(m[1]!);
            if (Array.isArray(v)) refs(v[1], out);
          } else refs(v, out);
        }
      }
      return out;
    };
    const edges = new Map(
      Object.entries(template.Resources).map(([id, r]) => [id, [...refs(r.Properties), ...[(r as any).DependsOn ?? []].flat()].filter((x) => ids.has(x))]),
    );
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

  it('runs every function on nodejs22.x, each in its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBe(8);
    for (const [, f] of functions) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Role['Fn::GetAtt'][0]).not.toBe('IamRoleLambdaExecution');
    }
    expect(new Set(functions.map(([, f]) => f.Properties.Role['Fn::GetAtt'][0])).size).toBe(8);
  });

  it('grants no wildcard action, and Route53 writes only to the configured records, as UPSERTs', () => {
    const all = statements();
    for (const s of all) for (const a of s.Action) expect(a, `${s.role}: ${a}`).not.toMatch(/\*/);
    const writes = all.filter((s) => s.Action.some((a: string) => /^route53:(Change|Create|Delete)/.test(a)));
    expect(writes.length).toBeGreaterThan(0);
    const zones = new Set(config.pairs.map((p) => `arn:aws:route53:::hostedzone/${p.hostedZoneId}`));
    for (const s of writes) {
      expect(s.Action).toEqual(['route53:ChangeResourceRecordSets']);
      for (const r of s.Resource) expect(zones.has(r), `${s.role}: ${r}`).toBe(true);
      const pair = config.pairs.find((p) => s.Resource.includes(`arn:aws:route53:::hostedzone/${p.hostedZoneId}`))!;
      expect(s.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [pair.recordName.replace(/\.$/, '')],
          'route53:ChangeResourceRecordSetsRecordTypes': [pair.recordType],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      });
    }
    // Only the functions that move traffic may write.
    expect(new Set(writes.map((s) => s.role))).toEqual(
      new Set(['ShiftTrafficIamRoleLambdaExecution', 'PromoteIamRoleLambdaExecution', 'RollBackIamRoleLambdaExecution', 'SafetyNetIamRoleLambdaExecution']),
    );
  });

  it('scopes ECS and CloudWatch reads to the configured services and alarms', () => {
    for (const s of statements()) {
      if (s.Action.includes('ecs:DescribeServices')) for (const r of s.Resource) expect(JSON.stringify(r)).toMatch(/:service\/shop\/shop-web-[ab]"/);
      if (s.Action.includes('cloudwatch:DescribeAlarms')) for (const r of s.Resource) expect(JSON.stringify(r)).toMatch(/:alarm:shop-web-/);
      if (s.Action.includes('states:StartExecution')) expect(s.Resource).toEqual([{ Ref: 'CanaryStateMachine' }]);
      if (s.Action.includes('states:DescribeExecution'))
        expect(s.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:ecs-dns-canary-prod:*' }]);
      if (s.Action.some((a: string) => a.startsWith('dynamodb:'))) expect(s.Resource).toEqual([{ 'Fn::GetAtt': ['PairClaimsTable', 'Arn'] }]);
    }
  });

});

describe('bad configuration', () => {
  it('fails `sls package` with InvalidConfig naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-badconfig-'));
    try {
      for (const f of ['serverless.yml', 'serverless.vars.cjs', 'package.json', 'tsconfig.json', 'functions', 'statemachine'])
        cpSync(join(ROOT, f), join(dir, f), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const bad = readFileSync(join(ROOT, 'canary.config.ts'), 'utf8').replace('steps: [10, 25, 50, 100]', 'steps: [10, 25, 50]');
      expect(bad).toContain('steps: [10, 25, 50]');
      writeFileSync(join(dir, 'canary.config.ts'), bad);
      const error = await slsPackage(dir, join(dir, 'out')).then(
        () => undefined,
        (e: { stdout: string; stderr: string }) => e,
      );
      expect(error, 'sls package should fail').toBeDefined();
      expect(`${error!.stdout}${error!.stderr}`).toContain('pairs[0].steps: the last step must be 100');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
