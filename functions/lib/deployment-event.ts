import * as z from 'zod/mini';
import './zod.js';
import type { Place } from './config.js';
import { fail } from './errors.js';

const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):service\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)$/;

const text = z.string().check(z.minLength(1));

/** `ECS Deployment State Change` as EventBridge delivers it (only the fields the canary reads). */
const DeploymentEvent = z.strictObject({
  version: z.optional(z.string()),
  'replay-name': z.optional(z.string()),
  id: text,
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
  region: text,
  time: text,
  resources: z.array(z.string().check(z.regex(SERVICE_ARN, 'must be an ECS service ARN'))).check(z.length(1, 'must name exactly one service')),
  detail: z.object({
    eventType: z.optional(z.string()),
    eventName: z.enum(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED']),
    deploymentId: z.string().check(z.regex(/^ecs-svc\/\d+$/, 'must look like ecs-svc/1234567890123456789')),
    updatedAt: text,
    reason: z.optional(z.string()),
  }),
});

export interface Deployment {
  eventId: string;
  eventName: string;
  account: string;
  region: string;
  cluster: string;
  service: string;
  serviceArn: string;
  deploymentId: string;
  updatedAt: string;
}

/** ECS deployment events are about 1 KB; anything far larger is not one. */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * Reads a deployment event, or fails with MalformedEvent naming the first bad field (unknown
 * top-level fields included: the EventBridge envelope is fixed) or EventTooLarge.
 */
export function parseDeploymentEvent(input: unknown): Deployment {
  const bytes = Buffer.byteLength(JSON.stringify(input ?? null));
  if (bytes > MAX_EVENT_BYTES) fail('EventTooLarge', `the event has ${bytes} bytes; an ECS deployment event has about 1 KB (limit ${MAX_EVENT_BYTES})`);
  const result = DeploymentEvent.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || '(event)';
    return fail('MalformedEvent', `not an ECS deployment state change event: ${field}: ${issue.message}`);
  }
  const e = result.data;
  const serviceArn = e.resources[0]!;
  const [, region, account, cluster, service] = SERVICE_ARN.exec(serviceArn)!;
  return {
    eventId: e.id,
    eventName: e.detail.eventName,
    account: account!,
    region: region!,
    cluster: cluster!,
    service: service!,
    serviceArn,
    deploymentId: e.detail.deploymentId,
    updatedAt: e.detail.updatedAt,
  };
}

/**
 * Step Functions execution names allow 80 characters of [A-Za-z0-9_-]. The name carries the
 * pair and the deployment, so the console list reads well and a redelivered event maps to
 * the same name (StartExecution is idempotent for the same name and input).
 */
export function executionName(pair: string, deploymentId: string): string {
  // pair names have no '--' (see the config schema), so the name splits back unambiguously
  const deployment = deploymentId.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${pair}--${deployment}`.slice(0, 80);
}

/** The pair an execution name was given for (`<pair>--<deployment>`), if it has that form. */
export function pairOfExecutionName(name: string): string | undefined {
  const at = name.indexOf('--');
  return at > 0 ? name.slice(0, at) : undefined;
}

/** Region and account of an ARN (arn:partition:service:region:account:...). */
function arnScope(arn: string): { region: string; account: string } | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' ? { region: parts[3]!, account: parts[4]! } : undefined;
}

/**
 * Where a deployment's event comes from (`place`) and where the stack runs (`home`, from one of
 * its ARNs: the execution's, the state machine's), as findPairByService takes them; undefined
 * when `stackArn` is not an ARN.
 */
export function eventPlaces(deployment: Pick<Deployment, 'account' | 'region'>, stackArn: string): { place: Place; home: Place } | undefined {
  const home = arnScope(stackArn);
  return home && { place: { account: deployment.account, region: deployment.region }, home };
}
