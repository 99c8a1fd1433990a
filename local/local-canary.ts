import { handler as startCanary } from '../functions/start-canary.js';
import type { PairConfig } from '../functions/lib/config.js';
import { pairsConfig } from '../functions/lib/pairs.js';
import { deploymentRulePattern } from '../functions/lib/stack.js';
import { SIM_ACCOUNT, SIM_REGION, SimulatedAccount } from './sim/account.js';
import type { EcsDeploymentEvent } from './sim/ecs.js';
import { STATE_MACHINE_ARN, startExecution, type ExecutionResult, type RunningExecution, type StartOptions } from './step-functions.js';

/** Plain-string ARNs for the simulated account. */
const localArn = (template: string) =>
  template.replace('${AWS::Partition}', 'aws').replace('${AWS::Region}', SIM_REGION).replace('${AWS::AccountId}', SIM_ACCOUNT);

/** EventBridge pattern matching for what our rules use: lists of exact values, nested objects. */
export function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((v) => expected.includes(v));
    }
    return typeof actual === 'object' && actual !== null && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
  });
}

export interface SeedOptions {
  /** Which of the pair's two services is live (weight 100). */
  live?: 0 | 1;
  ttl?: number;
  /** Alias records (to each service's load balancer) or plain records with a TTL. */
  alias?: boolean;
  desiredCount?: number;
}

/**
 * Creates what a pair needs in the simulated account, as a platform team would have it before
 * the first canary: the zone, two weighted records (one live), both services steady on
 * revision 1, and the alarms (the last one named in the pair is a composite of two metric alarms).
 */
export function seedPair(sim: SimulatedAccount, pair: PairConfig, options: SeedOptions = {}): void {
  const { live = 0, ttl = 60, alias = true, desiredCount = 3 } = options;
  const apex = pair.recordName.split('.').slice(1).join('.');
  sim.route53.createHostedZone({ Id: pair.hostedZoneId, Name: apex });
  sim.route53.changeResourceRecordSets({
    HostedZoneId: pair.hostedZoneId,
    ChangeBatch: {
      Changes: pair.services.map((s, i) => ({
        Action: 'CREATE' as const,
        ResourceRecordSet: {
          Name: pair.recordName,
          Type: pair.recordType,
          SetIdentifier: s.setIdentifier,
          Weight: i === live ? 100 : 0,
          ...(alias
            ? { AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: `${s.service}-1234567890.${SIM_REGION}.elb.amazonaws.com.`, EvaluateTargetHealth: true } }
            : { TTL: ttl, ResourceRecords: [{ Value: pair.recordType === 'CNAME' ? `${s.service}.internal.example.com` : `10.0.${i}.10` }] }),
        },
      })),
    },
  });
  for (const s of pair.services) sim.ecs.createService({ cluster: s.cluster, service: s.service, taskDefinition: taskDefinitionArn(s.service, 1), desiredCount });
  pair.alarms.forEach((name, i) => {
    if (i === pair.alarms.length - 1 && pair.alarms.length > 1) {
      const children = [`${name}-unhealthy-hosts`, `${name}-latency-p99`];
      for (const child of children) (sim.cloudwatch.putMetricAlarm({ AlarmName: child }), sim.cloudwatch.setState(child, 'OK', 'Threshold not crossed'));
      sim.cloudwatch.putCompositeAlarm({ AlarmName: name, AlarmRule: children.map((c) => `ALARM("${c}")`).join(' OR ') });
    } else {
      sim.cloudwatch.putMetricAlarm({ AlarmName: name });
      sim.cloudwatch.setState(name, 'OK', 'Threshold not crossed');
    }
  });
}

export const taskDefinitionArn = (family: string, revision: number) => `arn:aws:ecs:${SIM_REGION}:${SIM_ACCOUNT}:task-definition/${family}:${revision}`;

/**
 * The deployed stack, in process: ECS deployment events go through the rule pattern to the
 * real start-canary handler, whose StartExecution runs the real state machine locally.
 */
export class LocalCanary {
  readonly executions: RunningExecution[] = [];
  readonly results: Promise<ExecutionResult>[] = [];
  readonly deploymentEvents: EcsDeploymentEvent[] = [];
  /** When false, deployment events are recorded but not delivered (to drive executions by hand). */
  trigger = true;
  private pattern = deploymentRulePattern(pairsConfig(), localArn) as unknown as Record<string, unknown>;

  constructor(
    readonly sim: SimulatedAccount,
    private options: Omit<StartOptions, 'name' | 'executionArn'> = {},
  ) {
    process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
    sim.ecs.onDeploymentEvent((event) => {
      this.deploymentEvents.push(event);
      if (this.trigger && matches(this.pattern, event as unknown as Record<string, unknown>)) void this.deliver(event);
    });
    sim.onStartExecution((x) => {
      const running = startExecution(JSON.parse(x.input), { ...this.options, name: x.name, executionArn: x.executionArn });
      this.executions.push(running);
      this.results.push(running.result);
    });
  }

  /** What EventBridge does with a matching event: invoke the rule's target. */
  deliver(event: EcsDeploymentEvent): Promise<unknown> {
    return startCanary(event as never);
  }

  /** Resolves when every execution started so far has ended. */
  async settled(): Promise<ExecutionResult[]> {
    let count = -1;
    while (count !== this.results.length) {
      count = this.results.length;
      await Promise.all(this.results);
    }
    return Promise.all(this.results);
  }
}
