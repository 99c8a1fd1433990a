import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configProblems, parseConfig } from '../functions/lib/config.js';
import { STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import { stateMachineDeclaration, stateMachineResources } from '../functions/lib/state-machine.js';
import example from '../local/example.config.js';
import { exampleConfigSource, projectWith, slsPackage } from './setup/package-stack.js';

type Template = { Resources: Record<string, { Type: string; Properties: any }> };
const read = (dir: string): Template => JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));

/** The actions AWS documents for Step Functions logging to CloudWatch Logs (all on `*`). */
const LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];

/** The state machine's role's statements other than invoking the canary's functions. */
function roleGrants(template: Template) {
  const machine = template.Resources.CanaryStateMachine!.Properties;
  const roleId = machine.RoleArn['Fn::GetAtt'][0];
  const statements = template.Resources[roleId]!.Properties.Policies.flatMap((p: any) => [p.PolicyDocument.Statement].flat());
  return statements
    .map((s: any) => ({ Action: [s.Action].flat() as string[], Resource: [s.Resource].flat() }))
    .filter((s: { Action: string[] }) => !s.Action.every((a) => a === 'lambda:InvokeFunction'));
}

describe('state-machine logs and tracing in the packaged template', () => {
  it('by default: logs at ERROR, without execution data, to the stack\'s own log group; the role may deliver logs and nothing else; no tracing', () => {
    const template = read(join(inject('packagedProject'), 'out'));
    const machine = template.Resources.CanaryStateMachine!.Properties;
    expect(machine.LoggingConfiguration).toEqual({
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['CanaryStateMachineLogGroup', 'Arn'] } } }],
    });
    expect(template.Resources.CanaryStateMachineLogGroup).toEqual({
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/vendedlogs/states/${STATE_MACHINE_NAME}`, RetentionInDays: 30 },
    });
    expect(machine.TracingConfiguration).toBeUndefined();
    expect(roleGrants(template)).toEqual([{ Action: LOG_DELIVERY, Resource: ['*'] }]);
  });

  describe('with stateMachine: { logLevel: ALL, includeExecutionData: true, tracing: true }', () => {
    let dir: string;
    let template: Template;
    beforeAll(async () => {
      const source = exampleConfigSource().replace(/^(\s*)pairs: \[/m, "$1stateMachine: { logLevel: 'ALL', includeExecutionData: true, tracing: true },\n$1pairs: [");
      expect(source).toContain("stateMachine: { logLevel: 'ALL'");
      dir = projectWith(source);
      await slsPackage(dir, join(dir, 'out'));
      template = read(join(dir, 'out'));
    }, 240_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('logs everything with the states\' input and output, traces with X-Ray, and the role gets exactly X-Ray\'s grants beside log delivery', () => {
      const machine = template.Resources.CanaryStateMachine!.Properties;
      expect(machine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
      expect(machine.TracingConfiguration).toEqual({ Enabled: true });
      const grants = roleGrants(template);
      expect(grants.flatMap((s: { Action: string[] }) => s.Action).sort()).toEqual([...LOG_DELIVERY, ...XRAY].sort());
      for (const s of grants) expect(s.Resource).toEqual(['*']);
    });
  });
});

describe('the stateMachine settings', () => {
  const withSettings = (stateMachine: unknown) => ({ ...example, stateMachine });

  it('default to ERROR, no execution data, no tracing', () => {
    expect(parseConfig(example).stateMachine).toEqual({ logLevel: 'ERROR', includeExecutionData: false, tracing: false });
  });

  it('logLevel OFF: no loggingConfig and no log group (so no log-delivery grant)', () => {
    const config = parseConfig(withSettings({ logLevel: 'OFF' }));
    const declared = stateMachineDeclaration(config, STATE_MACHINE_NAME, { StartAt: 'x', States: {} });
    expect(declared).not.toHaveProperty('loggingConfig');
    expect(declared).not.toHaveProperty('tracingConfig');
    expect(stateMachineResources(config, STATE_MACHINE_NAME)).toEqual({});
  });

  it('tracing off writes no tracingConfig at all (serverless-step-functions grants X-Ray whenever one is present)', () => {
    const declared = stateMachineDeclaration(parseConfig(example), STATE_MACHINE_NAME, {});
    expect(declared).not.toHaveProperty('tracingConfig');
    expect(stateMachineDeclaration(parseConfig(withSettings({ tracing: true })), STATE_MACHINE_NAME, {})).toMatchObject({ tracingConfig: { enabled: true } });
  });

  it('name the bad field', () => {
    expect(configProblems(withSettings({ logLevel: 'DEBUG' }))).toEqual(['stateMachine.logLevel: logLevel must be ALL, ERROR, FATAL or OFF']);
    expect(configProblems(withSettings({ logLevel: 'OFF', includeExecutionData: true }))).toEqual([
      "stateMachine.includeExecutionData: includeExecutionData needs a logLevel other than 'OFF' (nothing is logged)",
    ]);
    expect(configProblems(withSettings({ tracing: 'yes' }))).toEqual(['stateMachine.tracing: tracing must be true or false']);
    expect(configProblems(withSettings({ xray: true }))[0]).toMatch(/^stateMachine/);
  });
});
