import { handler as startCanary } from '../functions/start-canary.js';
import type { PairConfig } from '../functions/lib/config.js';
import { pairsConfig } from '../functions/lib/pairs.js';
import { deploymentRulePattern, executionStatusRulePattern } from '../functions/lib/stack.js';
import { handler as safetyNet, type SafetyNetResult } from '../functions/safety-net.js';
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

export const LOCK_TABLE = 'ecs-dns-canary-pair-claims';

/** The Step Functions Execution Status Change event EventBridge sends when a run ends. */
export function executionStatusEvent(result: ExecutionResult) {
  return {
    version: '0',
    id: `status-${result.executionArn.split(':').at(-1)}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: SIM_ACCOUNT,
    time: new Date().toISOString(),
    region: SIM_REGION,
    resources: [result.executionArn],
    detail: {
      executionArn: result.executionArn,
      stateMachineArn: STATE_MACHINE_ARN,
      name: result.executionArn.split(':').at(-1),
      status: result.status,
      error: result.error ?? null,
      cause: result.cause ?? null,
    },
  };
}

/**
 * The deployed stack, in process: ECS deployment events go through the rule pattern to the
 * real start-canary handler, whose StartExecution runs the real state machine locally; a run
 * that ends ABORTED, TIMED_OUT or FAILED sends its status change through the second rule to
 * the real safety net (retried as EventBridge's async Lambda invocation is: 3 attempts).
 */
export class LocalCanary {
  readonly executions: RunningExecution[] = [];
  readonly results: Promise<ExecutionResult>[] = [];
  readonly safetyNets: Promise<SafetyNetResult | Error>[] = [];
  readonly deploymentEvents: EcsDeploymentEvent[] = [];
  /** When false, deployment events are recorded but not delivered (to drive executions by hand). */
  trigger = true;
  private deploymentPattern = deploymentRulePattern(pairsConfig(), localArn) as unknown as Record<string, unknown>;
  private statusPattern = executionStatusRulePattern(STATE_MACHINE_ARN) as unknown as Record<string, unknown>;

  constructor(
    readonly sim: SimulatedAccount,
    private options: Omit<StartOptions, 'name' | 'executionArn'> = {},
  ) {
    process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
    process.env.LOCK_TABLE = LOCK_TABLE;
    sim.dynamodb.createTable({ TableName: LOCK_TABLE, KeySchema: [{ AttributeName: 'pair', KeyType: 'HASH' }] });
    sim.ecs.onDeploymentEvent((event) => {
      this.deploymentEvents.push(event);
      if (this.trigger && matches(this.deploymentPattern, event as unknown as Record<string, unknown>)) void this.deliver(event);
    });
    sim.onStartExecution((x) => {
      const running = startExecution(JSON.parse(x.input), { ...this.options, name: x.name, executionArn: x.executionArn });
      this.executions.push(running);
      this.results.push(
        running.result.then((result) => {
          x.status = result.status;
          const event = executionStatusEvent(result);
          if (matches(this.statusPattern, event)) this.safetyNets.push(this.runSafetyNet(event));
          return result;
        }),
      );
    });
  }

  /** What EventBridge does with a matching event: invoke the rule's target. */
  deliver(event: EcsDeploymentEvent): Promise<unknown> {
    return startCanary(event as never);
  }

  /** Async invocation: on error Lambda retries twice, after about 1 and 2 minutes. */
  private async runSafetyNet(event: unknown): Promise<SafetyNetResult | Error> {
    let last: Error = new Error('not run');
    for (const delay of [0, 60_000, 120_000]) {
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return await safetyNet(event);
      } catch (e) {
        last = e as Error;
      }
    }
    return last;
  }

  /** Resolves when every execution started so far, and every safety-net run, has ended. */
  async settled(): Promise<ExecutionResult[]> {
    let count = -1;
    while (count !== this.results.length + this.safetyNets.length) {
      count = this.results.length + this.safetyNets.length;
      await Promise.all([...this.results, ...this.safetyNets]);
    }
    return Promise.all(this.results);
  }
}
