import { placeOfService, samePlace, servicePlaces, type CanaryConfig, type Place } from './config.js';
import { fail } from './errors.js';
import { alarmRulePattern, deploymentRulePattern, greenFailureRulePatterns, stateMachineName, type CfnValue } from './stack.js';

/**
 * Events of sides elsewhere. EventBridge rules match only their own account and region: the ECS
 * and CloudWatch events of a side in another region or account reach the stack's default bus
 * through a forwarder there, one CloudFormation stack per place (account, region) with a rule per
 * kind of event the stack listens to and the role EventBridge sends them with; the stack's bus lets
 * in the other accounts' forwarder roles (its policy, eventBusPolicyResources). The patterns are the
 * stack's own (functions/lib/stack.ts), narrowed to the sides of that place.
 */

/** Where the stack runs, and its stage (its names). */
export interface StackPlace extends Place {
  stage: string;
  /** Default: the stack region's partition. */
  partition?: string;
}

/** The forwarder's CloudFormation stack, in each place it runs in. */
export const forwarderStackName = (stage: string) => `${stateMachineName(stage)}-forwarder`;

/** Its role (IAM names are per account: one per region). */
export const forwarderRoleName = (stage: string, region: string) => `${stateMachineName(stage)}-forwarder-${region}`;

/** The partition of a region: aws-cn in China, aws-us-gov in GovCloud, aws elsewhere. */
export const partitionOf = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

/** The stack's default bus, where the forwarders send and the stack's rules listen. */
export const stackBusArn = (stack: StackPlace) => `arn:${stack.partition ?? partitionOf(stack.region)}:events:${stack.region}:${stack.account}:event-bus/default`;

/** A resource of a template, as CloudFormation reads it. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
}

export interface ForwarderTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Resources: Record<string, CfnResource>;
}

/** The logical id of the forwarder's role in its template. */
const FORWARDER_ROLE = 'ForwarderRole';

/**
 * The stack's patterns of a place's own events (deployments, green failures, its sides' alarms),
 * with the stack's pseudo parameters read as that place's: they name only its services and alarms.
 */
function forwardedPatterns(config: CanaryConfig, stack: StackPlace, place: Place): { name: string; description: string; pattern: object }[] {
  const pairs = config.pairs
    .map((p) => ({ ...p, alarms: [], services: p.services.filter((s) => samePlace(placeOfService(s, stack), place)) }))
    .filter((p) => p.services.length > 0);
  // Pair-level alarms are the stack's own (its region and account): only the sides' alarms are here.
  // A pair may keep one side here: the patterns read only the services and the alarms.
  const here = { ...config, pairs } as unknown as CanaryConfig;
  const [failed, serviceAction] = greenFailureRulePatterns(here);
  const alarms = alarmRulePattern(here);
  const patterns = [
    { name: 'Deployments', description: 'deployments completed', pattern: deploymentRulePattern(here) },
    { name: 'DeploymentFailures', description: 'deployments failed', pattern: failed },
    { name: 'TaskFailures', description: 'tasks failing to start or to be placed', pattern: serviceAction },
    ...(alarms ? [{ name: 'Alarms', description: 'alarms of the sides going to ALARM', pattern: alarms }] : []),
  ];
  const partition = stack.partition ?? partitionOf(stack.region);
  return patterns.map((p) => ({ ...p, pattern: inPlace(p.pattern, { ...place, partition }) }));
}

/** `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}` as they are in `place`. */
function inPlace(value: unknown, place: Place & { partition: string }): any {
  if (Array.isArray(value)) return value.map((v) => inPlace(v, place));
  if (typeof value !== 'object' || value === null) return value;
  if ('Fn::Sub' in value) {
    const text = String((value as { 'Fn::Sub': string })['Fn::Sub']);
    const pseudo: Record<string, string> = { 'AWS::Partition': place.partition, 'AWS::Region': place.region, 'AWS::AccountId': place.account };
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => pseudo[name] ?? fail('InvalidConfig', `a forwarded pattern names a stack value (\${${name}}): it cannot be written into another place's rule`));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inPlace(v, place)]));
}

/**
 * The forwarder of `place`, for `aws cloudformation deploy` there: a rule per kind of event on the
 * place's default bus, each sending to the stack's default bus with a role that may put events on
 * exactly that bus and that only EventBridge of the place's account may assume.
 */
export function forwarderTemplate(config: CanaryConfig, stack: StackPlace, place: Place): ForwarderTemplate {
  const places = servicePlaces(config, stack);
  if (samePlace(place, stack))
    fail('UsageError', `${place.account}/${place.region} is the stack's own place: its events reach the stack's bus without a forwarder`);
  if (!places.some((p) => samePlace(p, place)))
    fail(
      'UsageError',
      `no configured side runs in account ${place.account}, region ${place.region}: ${places.length ? `sides elsewhere run in ${places.map((p) => `${p.account}/${p.region}`).join(', ')}` : 'every side runs in the stack\'s own account and region'}`,
    );
  const bus = stackBusArn(stack);
  const role: CfnValue = { 'Fn::GetAtt': [FORWARDER_ROLE, 'Arn'] };
  const resources: ForwarderTemplate['Resources'] = {
    [FORWARDER_ROLE]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: forwarderRoleName(stack.stage, place.region),
        Description: `EventBridge forwards the canary's events of ${place.region} to ${bus}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': place.account } } }],
        },
        Policies: [{ PolicyName: 'put-events', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: bus }] } }],
      },
    },
  };
  for (const { name, description, pattern } of forwardedPatterns(config, stack, place))
    resources[`${name}Rule`] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `ecs-dns-canary ${stack.stage}: ${description}, to the stack's bus in ${stack.account}/${stack.region}`,
        EventBusName: 'default',
        State: 'ENABLED',
        EventPattern: pattern,
        Targets: [{ Id: 'stack-bus', Arn: bus, RoleArn: role }],
      },
    };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ecs-dns-canary ${stack.stage}: forwards the events of the sides in ${place.account}/${place.region} to the stack's default bus (${bus})`,
    Resources: resources,
  };
}

/**
 * The stack's bus policy (serverless.yml resources): one statement per other account where sides
 * run, letting in exactly the forwarder roles of that account's places. Written without the stack's
 * account (`sls package` needs no credentials): a side's account is its role's (roleArn), its
 * region `${AWS::Region}` when it names none. None when no side names a role.
 */
export function eventBusPolicyResources(config: CanaryConfig, stage: string): Record<string, CfnResource> {
  const stack = { account: '${AWS::AccountId}', region: '${AWS::Region}' };
  const byAccount = new Map<string, string[]>();
  for (const place of servicePlaces(config, stack)) {
    if (place.account === stack.account) continue;
    byAccount.set(place.account, [...(byAccount.get(place.account) ?? []), place.region]);
  }
  return Object.fromEntries(
    [...byAccount].map(([account, regions]) => [
      `ForwardersFrom${account}BusPolicy`,
      {
        Type: 'AWS::Events::EventBusPolicy',
        Properties: {
          EventBusName: 'default',
          StatementId: `ecs-dns-canary-${stage}-forwarders-${account}`,
          Statement: {
            Effect: 'Allow',
            Principal: { AWS: regions.map((region) => sub(`arn:\${AWS::Partition}:iam::${account}:role/${forwarderRoleName(stage, region)}`)) },
            Action: 'events:PutEvents',
            Resource: sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'),
          },
        },
      },
    ]),
  );
}

const sub = (template: string): CfnValue => ({ 'Fn::Sub': template });

