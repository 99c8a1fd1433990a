import type { CanaryConfig } from './config.js';

/**
 * What the stack derives from the pairs: the EventBridge rule that starts canaries and each
 * function's least-privilege IAM statements. serverless.yml gets them through
 * serverless.vars.cjs; the tests and the local runner use the same functions.
 *
 * `arn(template)` turns an ARN with `${AWS::Region}` / `${AWS::AccountId}` into what the
 * caller needs: `{ 'Fn::Sub': template }` for CloudFormation, a plain string locally.
 */
export type ArnFn = (template: string) => unknown;
export const cfnArn: ArnFn = (template) => (template.includes('${') ? { 'Fn::Sub': template } : template);

const serviceArns = (config: CanaryConfig, arn: ArnFn) =>
  config.pairs.flatMap((p) => p.services.map((s) => arn(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:service/${s.cluster}/${s.service}`)));

/** SERVICE_DEPLOYMENT_COMPLETED of any configured service (either side of a pair: roles swap). */
export function deploymentRulePattern(config: CanaryConfig, arn: ArnFn = cfnArn) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: serviceArns(config, arn),
    detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED'] },
  };
}

/** ABORTED, TIMED_OUT or FAILED runs of the canary's state machine: the safety net's trigger. */
export function executionStatusRulePattern(stateMachineArn: unknown = { Ref: 'CanaryStateMachine' }) {
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [stateMachineArn] },
  };
}

interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: unknown[];
  Condition?: Record<string, Record<string, string[]>>;
}

const zoneArn = (zoneId: string) => `arn:aws:route53:::hostedzone/${zoneId}`;

/**
 * `stateMachineName` is the name serverless.yml gives the state machine: functions the state
 * machine invokes must not reference the state machine resource itself (a circular dependency).
 */
export function iamStatements(config: CanaryConfig, stateMachineName: string, arn: ArnFn = cfnArn) {
  const zones = [...new Set(config.pairs.map((p) => p.hostedZoneId))];
  const alarms = [...new Set(config.pairs.flatMap((p) => p.alarms))];
  const readRecords: Statement = { Effect: 'Allow', Action: ['route53:ListResourceRecordSets'], Resource: zones.map(zoneArn) };
  // Only UPSERTs, only of the configured record names and types, only in the configured zones.
  const changeRecords: Statement[] = config.pairs.map((p) => ({
    Effect: 'Allow',
    Action: ['route53:ChangeResourceRecordSets'],
    Resource: [zoneArn(p.hostedZoneId)],
    Condition: {
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [p.recordName.replace(/\.$/, '')],
        'route53:ChangeResourceRecordSetsRecordTypes': [p.recordType],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    },
  }));
  const getChange: Statement = { Effect: 'Allow', Action: ['route53:GetChange'], Resource: ['arn:aws:route53:::change/*'] };
  const describeServices: Statement = { Effect: 'Allow', Action: ['ecs:DescribeServices'], Resource: serviceArns(config, arn) };
  const describeAlarms: Statement[] = alarms.length
    ? [{ Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: alarms.map((a) => arn(`arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${a}`)) }]
    : [];
  const putEvents: Statement = { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [arn('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default')] };
  // The pair claims (one canary per pair) and the executions of the canary's own state machine.
  const claims = (...actions: string[]): Statement => ({ Effect: 'Allow', Action: actions.map((a) => `dynamodb:${a}`), Resource: [{ 'Fn::GetAtt': ['PairClaimsTable', 'Arn'] }] });
  const describeExecution: Statement = {
    Effect: 'Allow',
    Action: ['states:DescribeExecution'],
    Resource: [arn(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName}:*`)],
  };
  return {
    startCanary: [{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: [{ Ref: 'CanaryStateMachine' }] } as Statement, describeServices],
    preflight: [readRecords, describeServices, ...describeAlarms, putEvents, claims('PutItem', 'GetItem', 'DeleteItem'), describeExecution],
    shiftTraffic: [readRecords, ...changeRecords],
    waitForChange: [getChange],
    judgeGreen: [describeServices, ...describeAlarms, putEvents],
    promote: [readRecords, ...changeRecords, getChange, putEvents, claims('UpdateItem', 'DeleteItem')],
    rollBack: [readRecords, ...changeRecords, getChange, putEvents, claims('GetItem', 'DeleteItem')],
    safetyNet: [readRecords, ...changeRecords, getChange, putEvents, claims('GetItem', 'DeleteItem'), describeExecution],
  };
}
