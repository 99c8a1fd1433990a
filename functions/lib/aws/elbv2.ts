import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SideAccess } from '../access.js';
import type { TargetStatus } from '../judge.js';
import { clientFor } from './sts.js';

export const elbv2 = new ElasticLoadBalancingV2Client({});

/** ELBv2 where a side runs (its region, its account's role). */
const elbv2For = (access?: SideAccess) => clientFor('elbv2', access, elbv2, (config) => new ElasticLoadBalancingV2Client(config));

/** The registered targets of a target group and their health, as the load balancer sees them. */
export async function describeTargetHealth(targetGroupArn: string, access?: SideAccess): Promise<TargetStatus[]> {
  const out = await elbv2For(access).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (out.TargetHealthDescriptions ?? []).map((t) => ({
    targetGroupArn,
    target: `${t.Target?.Id ?? '?'}${t.Target?.Port ? `:${t.Target.Port}` : ''}`,
    state: t.TargetHealth?.State ?? 'unavailable',
    reason: [t.TargetHealth?.Reason, t.TargetHealth?.Description].filter(Boolean).join(': '),
  }));
}

/** A target group, with the names CloudWatch gives it and its load balancers in its dimensions. */
export interface TargetGroupInfo {
  arn: string;
  /** 'targetgroup/<name>/<id>': the ARN's tail, the TargetGroup dimension's value. */
  targetGroup: string;
  loadBalancers: {
    arn: string;
    /** 'app/<name>/<id>' (or net/, gwy/): the LoadBalancer dimension's value. */
    dimension: string;
    type: 'application' | 'network' | 'gateway';
  }[];
  protocol?: string;
}

const LB_TYPES = { app: 'application', net: 'network', gwy: 'gateway' } as const;

/** At most 20 target groups per DescribeTargetGroups call here. */
const TARGET_GROUPS_PER_CALL = 20;

/**
 * The target groups and the load balancers each belongs to, in the order asked. A target group
 * that does not exist fails the call, and that error is passed on: ELB's TargetGroupNotFound,
 * which the SDK throws as `TargetGroupNotFoundException` (its `Code`: TargetGroupNotFound).
 */
export async function describeTargetGroups(arns: string[], access?: SideAccess): Promise<TargetGroupInfo[]> {
  const found = new Map<string, TargetGroupInfo>();
  for (let i = 0; i < arns.length; i += TARGET_GROUPS_PER_CALL) {
    let marker: string | undefined;
    do {
      const out = await elbv2For(access).send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns.slice(i, i + TARGET_GROUPS_PER_CALL), Marker: marker }));
      for (const g of out.TargetGroups ?? []) {
        const arn = g.TargetGroupArn ?? '';
        found.set(arn, {
          arn,
          targetGroup: arn.split(':').at(-1) ?? arn,
          loadBalancers: (g.LoadBalancerArns ?? []).map((lb) => {
            const dimension = lb.split(':loadbalancer/')[1] ?? lb;
            return { arn: lb, dimension, type: LB_TYPES[dimension.split('/')[0] as keyof typeof LB_TYPES] ?? 'application' };
          }),
          ...(g.Protocol ? { protocol: g.Protocol } : {}),
        });
      }
      marker = out.NextMarker;
    } while (marker);
  }
  return arns.map((arn) => found.get(arn)).filter((g): g is TargetGroupInfo => g !== undefined);
}
