import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configProblems, parseConfig, SAFETY_FUNCTIONS, safetyConcurrencyFloor } from '../functions/lib/config.js';
import { logGroupLogicalId } from '../functions/lib/hardening.js';
import { declareFunctions, environmentOf, lambdaLogicalId, PROVIDER, STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import example from '../local/example.config.js';
import { stackFromDeclarations, stackFromTemplate } from '../local/stack.js';
import allFeatures from './fixtures/all-features.config.js';
import { projectWith, ROOT, sls, slsPackage } from './setup/package-stack.js';

/**
 * The security baseline (README, "Security"): what the deployment bucket enforces, the hardening
 * switches as packaged, and the waivers of .checkov.yaml, each still true of the template. checkov
 * itself runs in CI (.ci/checkov.sh), on the example and on the all-features fixture.
 */
type Resource = { Type: string; Properties: any; DependsOn?: unknown };
type Template = { Resources: Record<string, Resource> };
const read = (dir: string): Template => JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const policyStatements = (role: Resource) => (role.Properties.Policies ?? []).flatMap((p: any) => [p.PolicyDocument.Statement].flat()) as any[];
const actions = (s: any): string[] => [s.Action].flat();
const roleOf = (t: Template, fnId: string) => t.Resources[t.Resources[fnId]!.Properties.Role['Fn::GetAtt'][0]]!;

const exampleTemplate = read(join(inject('packagedProject'), 'out'));
const names = Object.keys(declareFunctions(parseConfig(example), STATE_MACHINE_NAME));

describe('the deployment bucket (osls provider.deploymentBucket)', () => {
  const bucket = exampleTemplate.Resources.ServerlessDeploymentBucket!.Properties;

  it('blocks every kind of public access', () =>
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }));

  it('is versioned, and noncurrent versions expire after 30 days', () => {
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }));
  });

  it('is encrypted at rest, and its policy denies every request not made over TLS, to the bucket and its objects', () => {
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    const [, policy] = ofType(exampleTemplate, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === 'ServerlessDeploymentBucket')!;
    const deny = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Action: 's3:*', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': false } } });
    expect(JSON.stringify(deny.Resource)).toContain('"/*"');
    expect(deny.Resource).toHaveLength(2);
  });
});

/** .checkov.yaml's waivers: each skipped check with the comment lines just above it. */
function waivers(): Map<string, string> {
  const lines = readFileSync(join(ROOT, '.checkov.yaml'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^skip-check:\s*$/.test(l));
  expect(start, '.checkov.yaml has a skip-check list').toBeGreaterThan(-1);
  const out = new Map<string, string>();
  let reason: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const comment = /^\s+#\s?(.*)$/.exec(line);
    const item = /^\s+-\s+(\S+)\s*$/.exec(line);
    if (comment) reason.push(comment[1]!);
    else if (item) {
      out.set(item[1]!, reason.join(' '));
      reason = [];
    }
  }
  return out;
}

describe('the waivers (.checkov.yaml), each with its reason', () => {
  const waived = waivers();

  it('each skipped check is explained just above it, by its id', () => {
    expect(waived.size).toBeGreaterThan(0);
    for (const [id, reason] of waived) {
      expect(reason, id).toMatch(new RegExp(`^${id} \\(`));
      expect(reason.length, `${id}: a reason, not a label`).toBeGreaterThan(120);
    }
  });

  it('the README\'s Security section has a row for exactly the waived checks', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /\n## Security\n([\s\S]*?)(\n## |$)/.exec(readme)?.[1];
    expect(section, 'README has a "## Security" section').toBeDefined();
    // the waiver table: one row per waived check
    const listed = new Set([...section!.matchAll(/^\| (CKV2?_AWS_\d+) \|/gm)].map((m) => m[1]));
    expect([...listed].sort()).toEqual([...waived.keys()].sort());
  });

  it('CKV_AWS_116: every function invoked asynchronously sends what fails to the failures queue; the others have no trigger but the state machine', () => {
    const invokedAsync = new Set([
      ...ofType(exampleTemplate, 'AWS::Lambda::Permission').map(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0] as string),
      ...ofType(exampleTemplate, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties.Target.Arn['Fn::GetAtt'][0] as string),
    ]);
    const withDestination = new Set(
      ofType(exampleTemplate, 'AWS::Lambda::EventInvokeConfig')
        .filter(([, c]) => c.Properties.DestinationConfig?.OnFailure?.Destination?.['Fn::GetAtt']?.[0] === 'AsyncFailuresQueue')
        .map(([, c]) => c.Properties.FunctionName.Ref as string),
    );
    expect([...invokedAsync].sort()).toEqual(['SafetyNetLambdaFunction', 'SignalLambdaFunction', 'StartCanaryLambdaFunction', 'SweepLambdaFunction']);
    expect([...withDestination].sort()).toEqual([...invokedAsync].sort());
  });

  it('CKV_AWS_173: environment variables name resources and settings, never a secret', () => {
    const allowed = new Set([...Object.keys(PROVIDER.environment), ...Object.values(declareFunctions(parseConfig(allFeatures), STATE_MACHINE_NAME)).flatMap((f) => Object.keys(environmentOf(f)))]);
    for (const [id, fn] of ofType(exampleTemplate, 'AWS::Lambda::Function')) {
      for (const key of Object.keys(fn.Properties.Environment?.Variables ?? {})) {
        expect(allowed.has(key), `${id}: ${key}`).toBe(true);
        expect(key, id).not.toMatch(/SECRET|PASSWORD|TOKEN|CREDENTIAL|API_KEY/);
      }
    }
  });

  it('CKV_AWS_117, CKV_AWS_27, CKV_AWS_119: no function in a VPC; the queue has SQS-managed encryption; the claims table point-in-time recovery', () => {
    for (const [id, fn] of ofType(exampleTemplate, 'AWS::Lambda::Function')) expect(fn.Properties.VpcConfig, id).toBeUndefined();
    expect(exampleTemplate.Resources.AsyncFailuresQueue!.Properties.SqsManagedSseEnabled).toBe(true);
    expect(exampleTemplate.Resources.PairClaimsTable!.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('CKV_AWS_115, CKV_AWS_158, CKV_AWS_119 by default: no reservation (never a ceiling on a rollback), no key, nothing that needs one', () => {
    for (const [id, fn] of ofType(exampleTemplate, 'AWS::Lambda::Function')) expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
    expect(ofType(exampleTemplate, 'AWS::KMS::Key')).toEqual([]);
    for (const [id, g] of ofType(exampleTemplate, 'AWS::Logs::LogGroup')) expect(g.Properties.KmsKeyId, id).toBeUndefined();
    expect(JSON.stringify(exampleTemplate)).not.toContain('kms:');
  });
});

describe('the configuration with every optional feature (test/fixtures/all-features.config.ts), packaged', () => {
  const config = parseConfig(allFeatures);
  let dir: string;
  let t: Template;
  beforeAll(async () => {
    dir = projectWith(readFileSync(join(ROOT, 'test/fixtures/all-features.config.ts'), 'utf8'));
    await slsPackage(dir, join(dir, 'out'));
    t = read(join(dir, 'out'));
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has every optional feature: hooks, the smoke test\'s secret, idle scaling, gates, a dashboard, a DNS role, logs and X-Ray, both switches', () => {
    const granted = ofType(t, 'AWS::IAM::Role').flatMap(([, r]) => policyStatements(r).flatMap(actions));
    for (const a of ['lambda:InvokeFunction', 'secretsmanager:GetSecretValue', 'ecs:UpdateService', 'cloudwatch:PutDashboard', 'sts:AssumeRole', 'xray:PutTraceSegments', 'logs:CreateLogDelivery'])
      expect(granted).toContain(a);
    expect(config.pairs[1]!.dnsRoleArn).toBeDefined();
    expect(config.pairs.map((p) => p.name)).toEqual(['shop-web', 'api']);
    expect(config.pairs[0]!.approval?.atPercent).toEqual([50]);
    expect(config.hardening).toEqual({ kms: true, reservedConcurrency: 10 });
  });

  it('agrees with the declarations: each function\'s environment, role, timeout, async config and reserved concurrency', () => {
    const packaged = stackFromTemplate(t, names);
    const declared = stackFromDeclarations(config);
    const withoutLogs = (p: { Action: string[] }[]) => p.filter((s) => !s.Action.every((a) => a.startsWith('logs:')));
    for (const name of names) {
      const { policies: p, ...rest } = packaged[name]!;
      const { policies: d, ...declaredRest } = declared[name]!;
      expect(rest, name).toEqual(declaredRest);
      expect(withoutLogs(p), name).toEqual(d);
    }
  });

  it('reserves hardening.reservedConcurrency for exactly the functions that put blue back', () => {
    const reserved = Object.fromEntries(
      ofType(t, 'AWS::Lambda::Function')
        .filter(([, f]) => f.Properties.ReservedConcurrentExecutions !== undefined)
        .map(([id, f]) => [id, f.Properties.ReservedConcurrentExecutions]),
    );
    expect(reserved).toEqual(Object.fromEntries(SAFETY_FUNCTIONS.map((fn) => [lambdaLogicalId(fn), 10])));
  });

  it('creates one KMS key, rotated, whose policy lets IAM decide and CloudWatch Logs use it for this stack\'s log groups only', () => {
    const keys = ofType(t, 'AWS::KMS::Key');
    expect(keys.map(([id]) => id)).toEqual(['CanaryKey']);
    const key = keys[0]![1].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.PendingWindowInDays).toBe(30);
    const [root, logs, ...more] = key.KeyPolicy.Statement;
    expect(more).toEqual([]);
    expect(root).toMatchObject({ Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } } });
    expect(logs).toMatchObject({ Effect: 'Allow', Principal: { Service: { 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com' } } });
    // Every log group of the stack is covered by the condition on the encryption context, and no other prefix.
    const patterns: string[] = logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'].map((p: any) => p['Fn::Sub'].replace(/^.*:log-group:/, ''));
    const glob = (p: string) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const groups = ofType(t, 'AWS::Logs::LogGroup');
    expect(groups.length).toBe(names.length + 1); // the functions' and the state machine's
    for (const [id, g] of groups) {
      const name = typeof g.Properties.LogGroupName === 'string' ? g.Properties.LogGroupName : g.Properties.LogGroupName['Fn::Sub'];
      expect(patterns.some((p) => glob(p).test(name)), `${id}: ${name}`).toBe(true);
    }
    for (const p of patterns) expect(p).toMatch(new RegExp(`^/aws/(lambda|vendedlogs/states)/${STATE_MACHINE_NAME}`));
  });

  it('encrypts every log group (each function\'s and the state machine\'s) and the claims table with that key', () => {
    const key = { 'Fn::GetAtt': ['CanaryKey', 'Arn'] };
    for (const [id, g] of ofType(t, 'AWS::Logs::LogGroup')) expect(g.Properties.KmsKeyId, id).toEqual(key);
    for (const fn of names) expect(t.Resources[logGroupLogicalId(fn)]?.Properties.KmsKeyId, fn).toEqual(key);
    expect(t.Resources.PairClaimsTable!.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: key });
  });

  it('lets exactly the functions that use the claims table use the key, and only through DynamoDB', () => {
    for (const name of names) {
      const statements = policyStatements(roleOf(t, lambdaLogicalId(name)));
      const usesTable = statements.some((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
      const kms = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
      expect(kms.length, name).toBe(usesTable ? 1 : 0);
      // declared as used by DynamoDB, not by the code (the grants-vs-SDK-calls check in package.test.ts leaves them out)
      const viaService = declareFunctions(config, STATE_MACHINE_NAME)[name]!.access.flatMap((a) => a.viaService ?? []);
      expect([...new Set(viaService)].sort(), name).toEqual(kms.flatMap(actions).sort());
      for (const s of kms) {
        expect(s.Resource, name).toEqual([{ 'Fn::GetAtt': ['CanaryKey', 'Arn'] }]);
        expect(s.Condition, name).toEqual({ StringLike: { 'kms:ViaService': ['dynamodb.*.amazonaws.com'] } });
        expect(actions(s).every((a) => !a.includes('*')), name).toBe(true);
      }
    }
  });
});

describe('the hardening switches in the configuration', () => {
  const pair = example.pairs[0]!;
  const two = [pair, { ...pair, name: 'api', recordName: 'api.example.com', services: [{ ...pair.services[0], service: 'api-a' }, { ...pair.services[1], service: 'api-b' }] }];

  it('are off unless asked for', () => expect(parseConfig(example).hardening).toEqual({ kms: false }));

  it('refuse a reservation that could throttle a rollback: 2 per pair, at least 3', () => {
    expect(safetyConcurrencyFloor(1)).toBe(3);
    expect(safetyConcurrencyFloor(5)).toBe(10);
    expect(configProblems({ pairs: [pair], hardening: { reservedConcurrency: 2 } })).toEqual([
      expect.stringMatching(/^hardening\.reservedConcurrency: must be at least 3 for 1 pair\(s\): .*rollBack, safetyNet, sweep/),
    ]);
    expect(configProblems({ pairs: two, hardening: { reservedConcurrency: 3 } })).toEqual([expect.stringMatching(/^hardening\.reservedConcurrency: must be at least 4 for 2 pair/)]);
    expect(configProblems({ pairs: two, hardening: { reservedConcurrency: 4 } })).toEqual([]);
  });

  it('name the field of a bad value', () => {
    expect(configProblems({ pairs: [pair], hardening: { kms: 'yes' } })).toEqual(['hardening.kms: kms must be true or false']);
    expect(configProblems({ pairs: [pair], hardening: { reservedConcurrency: 2.5 } })).toEqual([expect.stringMatching(/^hardening\.reservedConcurrency: reservedConcurrency must be a whole number/)]);
    expect(configProblems({ pairs: [pair], hardening: { reservedConcurrency: 5000 } })).toEqual([expect.stringMatching(/^hardening\.reservedConcurrency: reservedConcurrency must be at most 1000/)]);
    expect(configProblems({ pairs: [pair], hardening: { vpc: true } })).toEqual([expect.stringMatching(/^hardening: .*vpc/)]);
  });
});

describe('CANARY_CONFIG (how CI packages the example and the all-features fixture)', () => {
  it('a file that does not exist stops `sls package` with its name, not the default configuration', async () => {
    const dir = projectWith(readFileSync(join(ROOT, 'local/example.config.ts'), 'utf8'));
    try {
      const error = await sls(dir, ['package', '--package', join(dir, 'out')], { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1', CANARY_CONFIG: 'no/such.config.ts' }).then(
        () => undefined,
        (e: { stdout: string; stderr: string }) => e,
      );
      expect(error, 'sls package should fail').toBeDefined();
      expect(`${error!.stdout}${error!.stderr}`).toContain('no/such.config.ts: no such configuration file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
