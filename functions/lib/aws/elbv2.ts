import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetStatus } from '../judge.js';

export const elbv2 = new ElasticLoadBalancingV2Client({});

/** The registered targets of a target group and their health, as the load balancer sees them. */
export async function describeTargetHealth(targetGroupArn: string): Promise<TargetStatus[]> {
  const out = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (out.TargetHealthDescriptions ?? []).map((t) => ({
    targetGroupArn,
    target: `${t.Target?.Id ?? '?'}${t.Target?.Port ? `:${t.Target.Port}` : ''}`,
    state: t.TargetHealth?.State ?? 'unavailable',
    reason: [t.TargetHealth?.Reason, t.TargetHealth?.Description].filter(Boolean).join(': '),
  }));
}
