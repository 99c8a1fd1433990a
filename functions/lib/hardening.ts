import type { CanaryConfig } from './config.js';
import { lambdaLogicalId, RESOURCES } from './stack.js';

/**
 * The optional hardening of config `hardening.kms` (README, "Security"): one customer managed
 * KMS key of the stack, rotated yearly, for every log group of the stack and the claims table.
 * Reserved concurrency is part of each function's declaration (functions/lib/stack.ts).
 *
 * The key policy lets the account's IAM policies decide who uses the key (the functions' roles
 * may use it only through DynamoDB, see `claims` in stack.ts), and lets CloudWatch Logs use it
 * only for this stack's log groups (the `aws:logs:arn` encryption context, as the CloudWatch Logs
 * guide's "Encrypt log data using AWS KMS" describes).
 */

/** serverless' logical id of a function's log group: `shiftTraffic` -> `ShiftTrafficLogGroup`. */
export const logGroupLogicalId = (fn: string) => lambdaLogicalId(fn).replace(/LambdaFunction$/, 'LogGroup');

const keyArn = { 'Fn::GetAtt': [RESOURCES.key, 'Arn'] };

/** The key and its alias `alias/<state machine name>`; none without `hardening.kms`. */
export function keyResources(config: CanaryConfig, stateMachineName: string): Record<string, object> {
  if (!config.hardening.kms) return {};
  const logGroup = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}` });
  return {
    [RESOURCES.key]: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: `${stateMachineName}: the canary's log groups and pair claims`,
        EnableKeyRotation: true,
        // A key scheduled for deletion can be recovered for 30 days (the longest KMS allows).
        PendingWindowInDays: 30,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountIamPoliciesDecide',
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
              Action: 'kms:*',
              Resource: '*',
            },
            {
              Sid: 'CloudWatchLogsForThisStackOnly',
              Effect: 'Allow',
              Principal: { Service: { 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com' } },
              Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
              Resource: '*',
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': [logGroup(`/aws/lambda/${stateMachineName}-*`), logGroup(`/aws/vendedlogs/states/${stateMachineName}*`)],
                },
              },
            },
          ],
        },
      },
    },
    CanaryKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: `alias/${stateMachineName}`, TargetKeyId: { Ref: RESOURCES.key } },
    },
  };
}

/**
 * serverless.yml `resources.extensions`: the key on each function's log group (which serverless
 * generates) and on the claims table. None without `hardening.kms`.
 */
export function keyExtensions(config: CanaryConfig, functionNames: string[]): Record<string, { Properties: object }> {
  if (!config.hardening.kms) return {};
  return {
    ...Object.fromEntries(functionNames.map((fn) => [logGroupLogicalId(fn), { Properties: { KmsKeyId: keyArn } }])),
    [RESOURCES.claimsTable]: { Properties: { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn } } },
  };
}

/** The stack's own log groups (the state machine's) with the key, under `hardening.kms`. */
export function withKeyOnLogGroups(config: CanaryConfig, resources: Record<string, object>): Record<string, object> {
  if (!config.hardening.kms) return resources;
  return Object.fromEntries(
    Object.entries(resources).map(([id, r]) => {
      const resource = r as { Type: string; Properties?: object };
      return [id, resource.Type === 'AWS::Logs::LogGroup' ? { ...resource, Properties: { ...resource.Properties, KmsKeyId: keyArn } } : r];
    }),
  );
}
