import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { fail } from '../errors.js';
import type { ServiceStatus } from '../judge.js';

export const ecs = new ECSClient({});

/** One ECS service with its deployments, in the judge's terms. */
export async function describeService(cluster: string, service: string): Promise<ServiceStatus> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] })).catch((e: Error) => {
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
