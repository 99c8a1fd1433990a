import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { SideAccess } from '../access.js';
import { fail } from '../errors.js';
import { clientFor } from './sts.js';
import type { ServiceStatus } from '../judge.js';

export const ecs = new ECSClient({});

/** ECS where a side runs (its region, its account's role); the function's own client for a side in the stack's place. */
const ecsFor = (access?: SideAccess) => clientFor('ecs', access, ecs, (config) => new ECSClient(config));

/** One ECS service with its deployments, in the judge's terms. */
export async function describeService(cluster: string, service: string, access?: SideAccess): Promise<ServiceStatus> {
  const out = await ecsFor(access).send(new DescribeServicesCommand({ cluster, services: [service] })).catch((e: Error) => {
    if (e.name === 'ClusterNotFoundException') fail('ServiceNotFound', `ECS cluster ${cluster} does not exist (looking for service ${service}); check the pair's services`);
    throw e;
  });
  const s = out.services?.[0];
  if (!s) {
    const why = out.failures?.[0]?.reason ?? 'MISSING';
    return fail('ServiceNotFound', `ECS service ${cluster}/${service} was not found (${why}); check the pair's services`);
  }
  return {
    cluster,
    service,
    status: s.status ?? 'UNKNOWN',
    desiredCount: s.desiredCount ?? 0,
    runningCount: s.runningCount ?? 0,
    taskDefinition: s.taskDefinition ?? '',
    targetGroups: (s.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((arn): arn is string => Boolean(arn)),
    deployments: (s.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? '',
      rolloutState: d.rolloutState ?? 'COMPLETED',
      rolloutStateReason: d.rolloutStateReason,
      taskDefinition: d.taskDefinition ?? '',
      desiredCount: d.desiredCount ?? 0,
      runningCount: d.runningCount ?? 0,
      failedTasks: d.failedTasks ?? 0,
    })),
  };
}

/** Sets a service's desired count (no new deployment: the current one scales). */
export async function setDesiredCount(cluster: string, service: string, desiredCount: number, access?: SideAccess): Promise<void> {
  await ecsFor(access).send(new UpdateServiceCommand({ cluster, service, desiredCount }));
}
