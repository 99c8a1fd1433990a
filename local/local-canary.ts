import type { PairConfig, Place } from '../functions/lib/config.js';
import { SWEEP_RATE_MINUTES, type FunctionDeclaration } from '../functions/lib/stack.js';
import type { Recovery } from '../functions/lib/recovery.js';
import { invoke, type Handler } from './lambda.js';
import { SIM_ACCOUNT, SIM_REGION, SimulatedAccount } from './sim/account.js';
import type { CloudWatchModel } from './sim/cloudwatch.js';
import type { EcsDeploymentEvent } from './sim/ecs.js';
import type { LatencyModel } from './sim/latency.js';
import type { CfnResource } from '../functions/lib/forwarder.js';
import { busPolicyStatements, forwards } from './forwarders.js';
import type { Place as SimPlace } from './sim/place.js';
import { LOCAL_RESOURCES, resolve, type LocalStack } from './stack.js';
import { STATE_MACHINE_ARN, startExecution, type ExecutionResult, type RunningExecution, type StartOptions, type TaskHandler } from './step-functions.js';

/**
 * How long EventBridge takes to hand an event to a rule's target with AWS's latencies off
 * (typically well under a second); with them on, each delivery draws LATENCY.eventDelivery.
 */
export const EVENT_DELIVERY_MS = 500;

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

/** The stack's own place: where a side that names no region and no role runs. */
const HOME: Place = { account: SIM_ACCOUNT, region: SIM_REGION };

/**
 * Creates what a pair needs in the simulated organization, as a platform team would have it
 * before the first canary: the zone, two weighted records (one live), both services steady on
 * revision 1, each behind its own ALB and with its own alarms in its place (account, region),
 * the pair's alarms in the stack's place (the last one named is a composite of two metric
 * alarms), and the clients sending requests through the records.
 */
export function seedPair(sim: SimulatedAccount, pair: PairConfig, options: SeedOptions = {}): void {
  const { live = 0, ttl = 60, alias = true, desiredCount = 3 } = options;
  const places = pair.services.map((s) => sim.placeOf(s));
  const apex = pair.recordName.split('.').slice(1).join('.');
  // A zone in another account (dnsRoleArn) is that account's.
  const route53 = pair.dnsRoleArn ? sim.addAccount(pair.dnsRoleArn.split(':')[4]!).route53 : sim.route53;
  route53.createHostedZone({ Id: pair.hostedZoneId, Name: apex });
  route53.changeResourceRecordSets({
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
            ? { AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: `${s.service}-1234567890.${places[i]!.region}.elb.amazonaws.com.`, EvaluateTargetHealth: true } }
            : { TTL: ttl, ResourceRecords: [{ Value: pair.recordType === 'CNAME' ? `${s.service}.internal.example.com` : `10.0.${i}.10` }] }),
        },
      })),
    },
  });
  pair.services.forEach((s, i) => {
    const place = places[i]!;
    place.ecs.createService({ cluster: s.cluster, service: s.service, taskDefinition: taskDefinitionArn(s.service, 1, place), desiredCount, targetGroupArn: targetGroupArn(s.service, place) });
    sim.http.serve(endpointOf(s.service), { status: 200, body: 'ok' });
    // Each service has its own ALB (loadbalancer/app/<service>-alb/<id>) owning its target group, and
    // the pair's clients reach it through the record of its SetIdentifier (50 requests a second, all
    // sides); the ALB publishes its metrics in its own place's CloudWatch.
    const loadBalancerArn = place.elbv2.addLoadBalancer({ name: `${s.service}-alb` });
    place.elbv2.addTargetGroup({ arn: targetGroupArn(s.service, place), protocol: 'HTTP', port: 8080, loadBalancerArns: [loadBalancerArn] });
    sim.traffic.route(pair.hostedZoneId, pair.recordName, pair.recordType, s.setIdentifier, { targetGroupArn: targetGroupArn(s.service, place), loadBalancerArn, cloudwatch: place.cloudwatch });
    for (const name of s.alarms) seedAlarm(place.cloudwatch, name);
  });
  pair.alarms.forEach((name, i) => {
    if (i === pair.alarms.length - 1 && pair.alarms.length > 1) {
      const children = [`${name}-unhealthy-hosts`, `${name}-latency-p99`];
      for (const child of children) seedAlarm(sim.cloudwatch, child);
      sim.cloudwatch.putCompositeAlarm({ AlarmName: name, AlarmRule: children.map((c) => `ALARM("${c}")`).join(' OR ') });
    } else seedAlarm(sim.cloudwatch, name);
  });
}

/** A metric alarm, in OK. */
function seedAlarm(cloudwatch: CloudWatchModel, name: string): void {
  cloudwatch.putMetricAlarm({ AlarmName: name });
  cloudwatch.setState(name, 'OK', 'Threshold not crossed');
}

/** A service's target group, in its place (default: the stack's). */
export const targetGroupArn = (service: string, place: Place = HOME) =>
  `arn:aws:elasticloadbalancing:${place.region}:${place.account}:targetgroup/${service}/${Buffer.from(service).toString('hex').padEnd(16, '0').slice(0, 16)}`;

/** A service's own health endpoint (its load balancer's, reaching only that service). */
export const endpointOf = (service: string) => `http://${service}.lb.internal.example.com/health`;

/** A revision of a task definition family, in its place (default: the stack's). */
export const taskDefinitionArn = (family: string, revision: number, place: Place = HOME) => `arn:aws:ecs:${place.region}:${place.account}:task-definition/${family}:${revision}`;


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

/** What a rule or schedule invocation ends with: the handler's result, or the error of its last attempt. */
export type AsyncOutcome<T = unknown> = T | Error;

export interface LocalCanaryOptions extends Omit<StartOptions, 'name' | 'executionArn' | 'lambda'> {
  /** EventBridge drops every Step Functions status-change event (they are best-effort): only the sweep is left. */
  loseStatusEvents?: boolean;
  /** EventBridge drops every alarm and ECS event meant for the signal function: only polling is left. */
  loseSignalEvents?: boolean;
  /** Run the scheduled sweep (every SWEEP_RATE_MINUTES of virtual time); default true. */
  sweep?: boolean;
  /**
   * AWS's latencies (local/sim/latency.ts): Lambda cold and warm starts, Step Functions state
   * transitions, EventBridge delivery to every rule's target. Without it: none of them, and
   * EVENT_DELIVERY_MS for the signal function's events.
   */
  latency?: LatencyModel;
  /**
   * The stack's bus policy as packaged (functions/lib/forwarder.ts eventBusPolicyResources, or a
   * packaged template's resources): which other accounts' forwarders may put events on its bus.
   */
  busPolicy?: Record<string, CfnResource>;
}

/**
 * The deployed stack, in process. Every function runs as Lambda runs it (local/lambda.ts: the
 * environment and role `stack` gives it, its timeout), from `handlers` (the TypeScript sources,
 * or the bundles `sls package` wrote). ECS deployment events go through the rule pattern to
 * startCanary, whose StartExecution runs the real state machine locally; a run that ends
 * ABORTED, TIMED_OUT or FAILED sends its status change through the second rule to the safety
 * net; EventBridge Scheduler invokes the sweep every few minutes. Rule and schedule targets
 * are invoked asynchronously, with Lambda's retries and on-failure destination.
 */
export class LocalCanary {
  readonly executions: RunningExecution[] = [];
  readonly results: Promise<ExecutionResult>[] = [];
  readonly safetyNets: Promise<AsyncOutcome<Recovery>>[] = [];
  readonly sweeps: Promise<AsyncOutcome>[] = [];
  /** Invocations of functions by the other rules (the signal function), with the event. */
  readonly signals: { event: unknown; at: number; outcome: Promise<AsyncOutcome> }[] = [];
  readonly deploymentEvents: EcsDeploymentEvent[] = [];
  /** Deployment events on their way to startCanary (EventBridge's delivery, then the invocation). */
  private deliveries: Promise<AsyncOutcome>[] = [];
  /** Every function invocation, with how long it ran in virtual time (what Lambda bills). */
  readonly invocations: { fn: string; ms: number }[] = [];
  /** When false, deployment events are recorded but not delivered (to drive executions by hand). */
  trigger = true;
  private deploymentPattern: Record<string, unknown>;
  private statusPattern: Record<string, unknown>;
  /** Every other rule: its function and its pattern. */
  private rules: { fn: string; pattern: Record<string, unknown> }[];

  constructor(
    readonly sim: SimulatedAccount,
    readonly stack: LocalStack,
    private handlers: Record<string, Handler>,
    declarations: Record<string, FunctionDeclaration>,
    private options: LocalCanaryOptions = {},
  ) {
    [this.deploymentPattern, this.statusPattern] = ['startCanary', 'safetyNet'].map((fn) => resolve(declarations[fn]?.rules?.[0]?.pattern, fn));
    this.rules = Object.entries(declarations)
      .filter(([fn]) => fn !== 'startCanary' && fn !== 'safetyNet')
      .flatMap(([fn, d]) => (d.rules ?? []).map((r) => ({ fn, pattern: resolve(r.pattern, fn) as Record<string, unknown> })));
    sim.cloudwatch.onStateChange((event) => this.onDefaultBus(event as unknown as Record<string, unknown>));
    sim.dynamodb.createTable({ TableName: LOCAL_RESOURCES.claimsTable, KeySchema: [{ AttributeName: 'pair', KeyType: 'HASH' }] });
    sim.createQueue(LOCAL_RESOURCES.failuresQueue);
    sim.stateMachines.add(LOCAL_RESOURCES.stateMachineArn);
    sim.ecs.onDeploymentEvent((event) => this.onDefaultBus(event as unknown as Record<string, unknown>));
    // Another place's events reach the stack's bus only through the forwarder deployed there (local/forwarders.ts).
    const busPolicy = busPolicyStatements(options.busPolicy ?? {});
    const listen = (place: SimPlace) => {
      if (place === sim.home) return;
      const forward = (event: Record<string, unknown>) => {
        if (!forwards(place, event, busPolicy)) return;
        // one more EventBridge delivery, from the place's bus to the stack's; settled() waits for what it starts
        const delivery = this.options.latency ? this.options.latency.draw('eventDelivery') : EVENT_DELIVERY_MS;
        this.deliveries.push(new Promise((r) => setTimeout(r, delivery)).then(() => this.onDefaultBus(event)));
      };
      place.ecs.onDeploymentEvent((event) => forward(event as unknown as Record<string, unknown>));
      place.cloudwatch.onStateChange((event) => forward(event as unknown as Record<string, unknown>));
    };
    sim.places().forEach(listen);
    sim.onPlace(listen);
    sim.onStartExecution((x) => {
      const { latency, loseStatusEvents: _, loseSignalEvents: __, sweep: ___, ...startOptions } = this.options;
      const running = startExecution(JSON.parse(x.input), {
        ...startOptions,
        ...(latency ? { transitionDelay: () => latency.draw('stateTransition') } : {}),
        lambda: (fn) => this.lambda(fn),
        park: (arn, state) => sim.parkTask(arn, state),
        name: x.name,
        executionArn: x.executionArn,
      });
      this.executions.push(running);
      this.results.push(
        running.result.then((result) => {
          sim.endExecution(result.executionArn, result.status, result.error, result.cause, result.status === 'SUCCEEDED' ? JSON.stringify(result.output) : undefined);
          const event = executionStatusEvent(result);
          if (!this.options.loseStatusEvents && matches(this.statusPattern, event))
            this.safetyNets.push(this.afterDelivery(() => this.invokeAsync('safetyNet', event)) as Promise<AsyncOutcome<Recovery>>);
          return result;
        }),
      );
    });
    if (options.sweep !== false) {
      const timer = setInterval(() => this.sweepNow(), SWEEP_RATE_MINUTES * 60_000);
      (timer as { unref?: () => void }).unref?.();
      this.stop = () => clearInterval(timer);
    }
  }

  /** Stops the schedule. */
  stop: () => void = () => undefined;

  /** Function `name`, invoked as Lambda invokes it. */
  lambda(name: string): TaskHandler {
    const fn = this.stack[name];
    const handler = this.handlers[name];
    if (!fn || !handler) throw new Error(`the stack has no function ${name}`);
    const latency = this.options.latency;
    if (!latency)
      return (event) => {
        const started = Date.now();
        const record = { fn: name, ms: 0 };
        this.invocations.push(record);
        return invoke(fn, handler, event).finally(() => (record.ms = Date.now() - started));
      };
    return async (event) => {
      const record = { fn: name, ms: 0 };
      this.invocations.push(record);
      // AWS's latencies: a cold start or a warm one, before the handler runs (Lambda's timeout
      // starts with the handler); a cold start's Init is billed (since August 2025), so it counts.
      const start = latency.startInvocation(name);
      await new Promise((resolve) => setTimeout(resolve, start.ms));
      const started = Date.now();
      try {
        return await invoke(fn, handler, event);
      } finally {
        record.ms = Date.now() - started + (start.cold ? start.ms : 0);
        start.release();
      }
    };
  }

  /** `invoke` once EventBridge has delivered the event: at once without the latency model (but the signal rules' EVENT_DELIVERY_MS, see publish). */
  private afterDelivery<T>(invoke: () => Promise<T>): Promise<T> {
    const latency = this.options.latency;
    return latency ? new Promise((resolve) => setTimeout(resolve, latency.draw('eventDelivery'))).then(invoke) : invoke();
  }

  /**
   * An event on the stack's default bus (the stack's own place's ECS and CloudWatch events, and
   * what forwarders bring from elsewhere): a deployment event is recorded, and goes to startCanary
   * when it matches its rule (what that delivery ends with); every other rule gets it too.
   */
  onDefaultBus(event: Record<string, unknown>): Promise<AsyncOutcome> | undefined {
    let delivery: Promise<AsyncOutcome> | undefined;
    if (event['detail-type'] === 'ECS Deployment State Change') {
      this.deploymentEvents.push(event as unknown as EcsDeploymentEvent);
      if (this.trigger && matches(this.deploymentPattern, event)) {
        delivery = this.deliver(event as unknown as EcsDeploymentEvent);
        // With EventBridge's latency the execution starts later: settled() waits for the delivery.
        if (this.options.latency) this.deliveries.push(delivery);
      }
    }
    this.publish(event);
    return delivery;
  }

  /** What EventBridge does with a matching deployment event: invoke startCanary, asynchronously. */
  deliver(event: EcsDeploymentEvent): Promise<AsyncOutcome> {
    return this.afterDelivery(() => this.invokeAsync('startCanary', event));
  }

  /**
   * EventBridge on the default bus: every other rule that matches invokes its function,
   * asynchronously, EVENT_DELIVERY_MS after the event (EventBridge's typical latency).
   */
  publish(event: Record<string, unknown>): void {
    if (this.options.loseSignalEvents) return;
    for (const rule of this.rules)
      if (matches(rule.pattern, event)) {
        const at = Date.now();
        const latency = this.options.latency;
        const delivered = new Promise((resolve) => setTimeout(resolve, latency ? latency.draw('eventDelivery') : EVENT_DELIVERY_MS));
        this.signals.push({ event, at, outcome: delivered.then(() => this.invokeAsync(rule.fn, event)) });
      }
  }

  /** What the schedule does: invoke the sweep. */
  sweepNow(): Promise<AsyncOutcome> {
    const run = this.invokeAsync('sweep', { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', time: new Date().toISOString() });
    this.sweeps.push(run);
    return run;
  }

  /**
   * Asynchronous invocation: on error Lambda retries (after about 1, then 2 minutes) up to the
   * function's MaximumRetryAttempts, then sends the record to its on-failure destination.
   */
  async invokeAsync(name: string, event: unknown): Promise<AsyncOutcome> {
    const fn = this.stack[name]!;
    const attempts = 1 + (fn.async?.maximumRetryAttempts ?? 2);
    let last: Error = new Error('not run');
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, attempt * 60_000));
      try {
        return await this.lambda(name)(event);
      } catch (e) {
        last = e as Error;
      }
    }
    await this.sim.sendToDestination(fn, {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { functionArn: `arn:aws:lambda:${SIM_REGION}:${SIM_ACCOUNT}:function:${fn.functionName}`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
      requestPayload: event,
      responsePayload: { errorType: last.name, errorMessage: last.message },
    });
    return last;
  }

  /** Resolves when every execution started so far, and every safety-net and sweep run, has ended. */
  async settled(): Promise<ExecutionResult[]> {
    let count = -1;
    const all = () => [...this.deliveries, ...this.results, ...this.safetyNets, ...this.sweeps, ...this.signals.map((s) => s.outcome)];
    while (count !== all().length) {
      count = all().length;
      await Promise.all(all());
    }
    return Promise.all(this.results);
  }
}
