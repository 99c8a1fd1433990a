import { runSimulation } from '@cloud-copilot/iam-simulate';
import { normalizedRecordName } from '../../functions/lib/stack.js';
import type { LocalFunction, PolicyStatement } from '../stack.js';
import { SIM_ACCOUNT, SIM_REGION } from './constants.js';
import { SimulatedAwsError } from './errors.js';

/**
 * IAM for the simulated account: before a function's call is answered, it is authorized
 * against that function's role policies with @cloud-copilot/iam-simulate (a maintained IAM
 * policy evaluator; AGPL, so dev-only: it never reaches a bundle). What is evaluated is what
 * AWS evaluates: the action, every resource ARN AWS builds from the request, and the
 * service's condition keys (Route53's normalized record names, types and actions).
 */
export interface IamRequest {
  action: string;
  resources: string[];
  context?: Record<string, string[]>;
}

/** Where a request is made: the account and region its resource ARNs are built in. */
export interface Where {
  account: string;
  region: string;
}

const HOME: Where = { account: SIM_ACCOUNT, region: SIM_REGION };
const arnIn = (where: Where) => (service: string, rest: string) => `arn:aws:${service}:${where.region}:${where.account}:${rest}`;
const homeArn = arnIn(HOME);
const nameOf = (value: string | undefined, fallback: string) => (value ?? fallback).split(/[/:]/).at(-1)!;

/** What the account knows that IAM needs to build a resource ARN (a secret's name -> its ARN). */
export interface Lookup {
  secretArn(id: string): string | undefined;
}

/** The IAM request(s) a call made in `where` makes; undefined for a call no function of ours may make. */
export function iamRequestOf(service: string, command: string, input: any, lookup?: Lookup, where: Where = HOME): IamRequest | undefined {
  const arn = arnIn(where);
  switch (`${service}:${command}`) {
    case 'route53:ListResourceRecordSets':
      return { action: 'route53:ListResourceRecordSets', resources: [`arn:aws:route53:::hostedzone/${nameOf(input.HostedZoneId, '')}`] };
    case 'route53:ChangeResourceRecordSets': {
      const changes: any[] = input.ChangeBatch?.Changes ?? [];
      return {
        action: 'route53:ChangeResourceRecordSets',
        resources: [`arn:aws:route53:::hostedzone/${nameOf(input.HostedZoneId, '')}`],
        context: {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) => normalizedRecordName(c.ResourceRecordSet?.Name ?? '')),
          'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) => String(c.ResourceRecordSet?.Type ?? '')),
          'route53:ChangeResourceRecordSetsActions': changes.map((c) => String(c.Action ?? '')),
        },
      };
    }
    case 'route53:GetChange':
      return { action: 'route53:GetChange', resources: [`arn:aws:route53:::change/${nameOf(input.Id, '')}`] };
    case 'ecs:DescribeServices': {
      const cluster = nameOf(input.cluster, 'default');
      return { action: 'ecs:DescribeServices', resources: (input.services ?? []).map((s: string) => (s.startsWith('arn:') ? s : arn('ecs', `service/${cluster}/${s}`))) };
    }
    // GetMetricData has no resource-level permissions (Service Authorization Reference): only `*` grants it.
    case 'cloudwatch:GetMetricData':
      return { action: 'cloudwatch:GetMetricData', resources: ['*'] };
    // Dashboards are global: their ARN has no region.
    case 'cloudwatch:PutDashboard':
    case 'cloudwatch:GetDashboard':
      return { action: `cloudwatch:${command}`, resources: [`arn:aws:cloudwatch::${where.account}:dashboard/${input.DashboardName ?? ''}`] };
    case 'cloudwatch:DescribeAlarms':
      return { action: 'cloudwatch:DescribeAlarms', resources: (input.AlarmNames ?? ['*']).map((n: string) => (n === '*' ? '*' : arn('cloudwatch', `alarm:${n}`))) };
    case 'eventbridge:PutEvents':
      return {
        action: 'events:PutEvents',
        resources: [...new Set<string>((input.Entries ?? []).map((e: any) => (e.EventBusName?.startsWith('arn:') ? e.EventBusName : arn('events', `event-bus/${e.EventBusName ?? 'default'}`))))],
      };
    case 'sfn:StartExecution':
      return { action: 'states:StartExecution', resources: [input.stateMachineArn] };
    case 'sfn:DescribeExecution':
      return { action: 'states:DescribeExecution', resources: [input.executionArn] };
    // Task tokens name no resource (Service Authorization Reference): only `*` grants them.
    case 'sfn:SendTaskSuccess':
    case 'sfn:SendTaskFailure':
      return { action: `states:${command}`, resources: ['*'] };
    case 'dynamodb:PutItem':
    case 'dynamodb:GetItem':
    case 'dynamodb:UpdateItem':
    case 'dynamodb:DeleteItem':
    case 'dynamodb:Scan':
      return { action: `dynamodb:${command}`, resources: [arn('dynamodb', `table/${input.TableName}`)] };
    case 'sqs:SendMessage':
      return { action: 'sqs:SendMessage', resources: [arn('sqs', nameOf(input.QueueUrl, ''))] };
    case 'ecs:UpdateService': {
      const cluster = nameOf(input.cluster, 'default');
      return { action: 'ecs:UpdateService', resources: [input.service.startsWith('arn:') ? input.service : arn('ecs', `service/${cluster}/${input.service}`)] };
    }
    // ELB's Describe* actions take no resource (Service Authorization Reference): only `*` grants them.
    case 'elbv2:DescribeTargetHealth':
    case 'elbv2:DescribeTargetGroups':
    case 'elbv2:DescribeLoadBalancers':
      return { action: `elasticloadbalancing:${command}`, resources: ['*'] };
    case 'lambda:Invoke':
      return { action: 'lambda:InvokeFunction', resources: [input.FunctionName.startsWith('arn:') ? input.FunctionName : arn('lambda', `function:${input.FunctionName}`)] };
    case 'secretsmanager:GetSecretValue': {
      const id: string = input.SecretId ?? '';
      return { action: 'secretsmanager:GetSecretValue', resources: [lookup?.secretArn(id) ?? (id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}-AAAAAA`))] };
    }
    default:
      return undefined;
  }
}

/** How each service names a denial (its error code and HTTP status). */
const DENIED: Record<string, [string, number]> = {
  route53: ['AccessDenied', 403],
  cloudwatch: ['AccessDenied', 403],
  sqs: ['AccessDenied', 403],
  elbv2: ['AccessDenied', 403],
  lambda: ['AccessDeniedException', 403],
};

export function accessDenied(fn: LocalFunction, service: string, action: string, resource: string, account = SIM_ACCOUNT): SimulatedAwsError {
  const [code, status] = DENIED[service] ?? ['AccessDeniedException', 400];
  const role = fn.roleArn.split('/').at(-1);
  return new SimulatedAwsError(
    code,
    `User: arn:aws:sts::${account}:assumed-role/${role}/${fn.functionName} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    status,
  );
}

const decisions = new Map<string, boolean>();

/** One evaluation of `action` on `resource` by a principal whose identity policies are `policies`. */
const simulate = (principal: string, policies: object[], action: string, resource: string, context: Record<string, string[]> = {}, accountId = SIM_ACCOUNT) =>
  runSimulation(
    {
      request: { principal, action, resource: { resource, accountId }, contextVariables: context },
      identityPolicies: [{ name: 'role', policy: { Version: '2012-10-17', Statement: policies } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );

/**
 * The evaluator reads its service data from disk on first use. Virtual time does not wait
 * for real I/O, so every modeled service's data is read here, once, before any run.
 */
const WARM_UP: [string, string][] = [
  ['route53:GetChange', 'arn:aws:route53:::change/C1'],
  ['route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z1'],
  ['route53:ListResourceRecordSets', 'arn:aws:route53:::hostedzone/Z1'],
  ['states:StartExecution', homeArn('states', 'stateMachine:m')],
  ['dynamodb:Scan', homeArn('dynamodb', 'table/t')],
  ['ecs:DescribeServices', homeArn('ecs', 'service/c/s')],
  ['cloudwatch:DescribeAlarms', homeArn('cloudwatch', 'alarm:a')],
  ['events:PutEvents', homeArn('events', 'event-bus/default')],
  ['states:DescribeExecution', homeArn('states', 'execution:m:e')],
  ['states:SendTaskFailure', '*'],
  ['states:SendTaskSuccess', '*'],
  ['dynamodb:GetItem', homeArn('dynamodb', 'table/t')],
  ['sqs:SendMessage', homeArn('sqs', 'q')],
  ['ecs:UpdateService', homeArn('ecs', 'service/c/s')],
  ['elasticloadbalancing:DescribeTargetHealth', '*'],
  ['elasticloadbalancing:DescribeTargetGroups', '*'],
  ['elasticloadbalancing:DescribeLoadBalancers', '*'],
  ['cloudwatch:GetMetricData', '*'],
  ['cloudwatch:PutDashboard', `arn:aws:cloudwatch::${SIM_ACCOUNT}:dashboard/d`],
  ['cloudwatch:GetDashboard', `arn:aws:cloudwatch::${SIM_ACCOUNT}:dashboard/d`],
  ['lambda:InvokeFunction', homeArn('lambda', 'function:f')],
  ['secretsmanager:GetSecretValue', homeArn('secretsmanager', 'secret:s-AAAAAA')],
  ['sts:AssumeRole', `arn:aws:iam::${SIM_ACCOUNT}:role/r`],
];
await Promise.all(WARM_UP.map(([action, resource]) => simulate(`arn:aws:iam::${SIM_ACCOUNT}:role/warm-up`, [{ Effect: 'Allow', Action: action, Resource: '*' }], action, resource)));

/**
 * STS AssumeRole, decided on both sides as IAM decides it across accounts: the caller's identity
 * policies must allow sts:AssumeRole on the role, and the role's trust policy (a resource-based
 * policy, with its sts:ExternalId condition) must allow the caller. Says which side refused.
 */
export async function assumeRoleDecision(
  caller: { principal: string; policies: object[] },
  role: { arn: string; account: string; trustPolicy: object },
  externalId: string | undefined,
): Promise<'Allowed' | 'identity' | 'trust'> {
  const result = await runSimulation(
    {
      request: { principal: caller.principal, action: 'sts:AssumeRole', resource: { resource: role.arn, accountId: role.account }, contextVariables: externalId === undefined ? {} : { 'sts:ExternalId': externalId } },
      identityPolicies: [{ name: 'role', policy: { Version: '2012-10-17', Statement: caller.policies } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: role.trustPolicy,
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType !== 'single') throw new Error(`IAM simulation of sts:AssumeRole on ${role.arn} failed: ${JSON.stringify(result)}`);
  if (result.result.ignoredContextKeys?.length) throw new Error(`IAM simulation of sts:AssumeRole ignored context keys ${result.result.ignoredContextKeys.join(', ')}`);
  if (result.overallResult === 'Allowed') return 'Allowed';
  return result.result.analysis?.identityAnalysis?.result !== 'Allowed' ? 'identity' : 'trust';
}

/** Whether the role's policies allow `action` on `resource` with `context` (cached per policy set). */
export async function allows(fn: LocalFunction, action: string, resource: string, context: Record<string, string[]> = {}, policies: PolicyStatement[] = fn.policies, account = SIM_ACCOUNT): Promise<boolean> {
  const key = JSON.stringify([fn.roleArn, policies, action, resource, context, account]);
  const cached = decisions.get(key);
  if (cached !== undefined) return cached;
  const result = await simulate(fn.roleArn, policies, action, resource, context, account);
  // A request the evaluator cannot place is a bug in iamRequestOf, never a decision.
  if (result.resultType === 'error') throw new Error(`IAM simulation of ${action} on ${resource} failed: ${JSON.stringify(result.errors)}`);
  const ignored = result.resultType === 'single' ? result.result.ignoredContextKeys : [];
  if (ignored?.length) throw new Error(`IAM simulation of ${action} ignored context keys ${ignored.join(', ')}: they would not be checked`);
  const allowed = result.overallResult === 'Allowed';
  decisions.set(key, allowed);
  return allowed;
}

/**
 * Authorizes a function's call, made in `where` (its account and region), or throws what AWS throws. DescribeAlarms is special, as in
 * CloudWatch: composite alarms are visible only to a permission scoped to `*` (the request
 * still succeeds; they are left out), so the caller learns whether they may be listed.
 */
export async function authorize(fn: LocalFunction, service: string, command: string, input: unknown, lookup?: Lookup, where: Where = HOME): Promise<{ compositeAlarmsVisible?: boolean }> {
  const request = iamRequestOf(service, command, input, lookup, where);
  if (!request) throw new Error(`${fn.name} called ${service}:${command}, which the simulated account has no IAM model for: add it to local/sim/iam.ts`);
  for (const resource of request.resources) {
    if (!(await allows(fn, request.action, resource, request.context, fn.policies, where.account))) throw accessDenied(fn, service, request.action, resource, where.account);
  }
  if (request.action !== 'cloudwatch:DescribeAlarms') return {};
  const scopedToStar = fn.policies.filter((s) => s.Resource.includes('*'));
  return { compositeAlarmsVisible: scopedToStar.length > 0 && (await allows(fn, request.action, '*', {}, scopedToStar)) };
}
