import type { CanaryConfig } from './config.js';
import { RESOURCES } from './stack.js';

/**
 * The canary's state machine as serverless-step-functions compiles it: its id, name and
 * definition, and its own logs and tracing from the configuration's `stateMachine` settings.
 *
 * - Logs: Step Functions delivers execution history events at `logLevel` and above (default
 *   ERROR: failed states and executions, with their Error and Cause) to a log group of the stack.
 *   With a `loggingConfig` the plugin grants the state machine's role exactly the log-delivery
 *   actions the Step Functions guide lists ("IAM policies for logging to CloudWatch Logs"):
 *   logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery,
 *   ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups, on `*`
 *   (log delivery has no resource-level permissions). `logLevel: 'OFF'` writes no
 *   loggingConfig: no log group, no grant.
 * - Tracing: with `tracing: true`, X-Ray tracing, and the plugin grants xray:PutTraceSegments,
 *   PutTelemetryRecords, GetSamplingRules and GetSamplingTargets on `*` (the Step Functions guide,
 *   "Trace Step Functions request data in AWS X-Ray"). Off, the template names no tracing (the
 *   plugin grants X-Ray whenever `tracingConfig` is present, even disabled), which CloudFormation
 *   takes as tracing off.
 */
export type StateMachineSettings = CanaryConfig['stateMachine'];

/** The stack's log group for the state machine (serverless.yml `resources`). */
export const STATE_MACHINE_LOG_GROUP = 'CanaryStateMachineLogGroup';

/** Days the state machine's log events are kept: as long as the functions' (serverless.yml provider.logRetentionInDays). */
export const STATE_MACHINE_LOG_RETENTION_DAYS = 30;

/**
 * The log group's name. Step Functions' guide recommends the `/aws/vendedlogs/` prefix: log
 * delivery then needs no CloudWatch Logs resource policy per log group (whose size is limited).
 */
export const stateMachineLogGroupName = (stateMachineName: string) => `/aws/vendedlogs/states/${stateMachineName}`;

/** serverless.yml's `stepFunctions.stateMachines.canary`. */
export function stateMachineDeclaration(config: CanaryConfig, stateMachineName: string, definition: object): Record<string, unknown> {
  const settings = config.stateMachine;
  return {
    id: RESOURCES.stateMachine,
    name: stateMachineName,
    type: 'STANDARD',
    definition,
    ...(settings.logLevel !== 'OFF'
      ? { loggingConfig: { level: settings.logLevel, includeExecutionData: settings.includeExecutionData, destinations: [{ 'Fn::GetAtt': [STATE_MACHINE_LOG_GROUP, 'Arn'] }] } }
      : {}),
    ...(settings.tracing ? { tracingConfig: { enabled: true } } : {}),
  };
}

/** The resources the state machine's settings need: its log group, unless logging is off. */
export function stateMachineResources(config: CanaryConfig, stateMachineName: string): Record<string, object> {
  if (config.stateMachine.logLevel === 'OFF') return {};
  return {
    [STATE_MACHINE_LOG_GROUP]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: stateMachineLogGroupName(stateMachineName), RetentionInDays: STATE_MACHINE_LOG_RETENTION_DAYS },
    },
  };
}
