import { z } from 'zod';
import { fail } from './errors.js';

const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):service\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)$/;

/** `ECS Deployment State Change` as EventBridge delivers it (only the fields the canary reads). */
const DeploymentEvent = z.object({
  id: z.string().min(1),
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  time: z.string().min(1),
  resources: z.array(z.string().regex(SERVICE_ARN, 'must be an ECS service ARN')).length(1),
  detail: z.object({
    eventType: z.string().optional(),
    eventName: z.enum(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED']),
    deploymentId: z.string().regex(/^ecs-svc\/\d+$/, 'must look like ecs-svc/1234567890123456789'),
    updatedAt: z.string().min(1),
    reason: z.string().optional(),
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

/** Reads a deployment event, or fails with MalformedEvent naming the first bad field. */
export function parseDeploymentEvent(input: unknown): Deployment {
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
  const deployment = deploymentId.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${pair}--${deployment}`.slice(0, 80);
}
