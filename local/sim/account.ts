import { cloudwatch } from '../../functions/lib/aws/cloudwatch.js';
import { dynamodb } from '../../functions/lib/aws/dynamodb.js';
import { ecs } from '../../functions/lib/aws/ecs.js';
import { eventbridge } from '../../functions/lib/aws/eventbridge.js';
import { route53 } from '../../functions/lib/aws/route53.js';
import { sfn } from '../../functions/lib/aws/stepfunctions.js';
import { CloudWatchModel } from './cloudwatch.js';
import { DynamoDbModel } from './dynamodb.js';
import { EcsModel } from './ecs.js';
import { awsError, SimulatedAwsError } from './errors.js';
import { Route53Model } from './route53.js';

export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'eu-west-1';

export type ServiceName = 'route53' | 'ecs' | 'cloudwatch' | 'eventbridge' | 'sfn' | 'dynamodb';

export interface CallRecord {
  at: number;
  service: ServiceName;
  command: string;
  error?: string;
}

export interface CapturedEvent {
  at: number;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

export interface SimExecution {
  executionArn: string;
  name: string;
  input: string;
  startedAt: number;
  /** RUNNING until whoever runs it says otherwise. */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
}

/** An error to inject: into every matching call, the next `times` calls, or a random share of them. */
export interface Fault {
  service: ServiceName;
  command?: string;
  error: string;
  message?: string;
  httpStatusCode?: number;
  times?: number;
  probability?: number;
}

/** Deterministic pseudo-random numbers (mulberry32), so injected faults repeat run after run. */
function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The embedded AWS account: stateful models of the five services the canary calls, wired in
 * at the SDK boundary. A middleware in each client's deserialize step answers from the model
 * instead of sending HTTP, so everything above it (endpoint, signing, the retry strategy with
 * its backoff, waiters) runs as it does against AWS.
 */
export class SimulatedAccount {
  readonly route53 = new Route53Model();
  readonly ecs = new EcsModel(SIM_ACCOUNT, SIM_REGION);
  readonly cloudwatch = new CloudWatchModel(SIM_ACCOUNT, SIM_REGION);
  readonly dynamodb = new DynamoDbModel();
  readonly events: CapturedEvent[] = [];
  readonly calls: CallRecord[] = [];
  readonly executions = new Map<string, SimExecution>();
  private faults: Fault[] = [];
  private random: () => number;
  private startListeners: ((e: SimExecution) => void)[] = [];
  private uninstallers: (() => void)[] = [];

  constructor(options: { seed?: number } = {}) {
    this.random = randomFrom(options.seed ?? 1);
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  onStartExecution(listener: (e: SimExecution) => void): void {
    this.startListeners.push(listener);
  }

  /** Routes the canary's AWS clients to this account until the returned function is called. */
  install(): () => void {
    process.env.AWS_REGION ??= SIM_REGION;
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDSIMULATED';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'simulated';
    const clients: [ServiceName, { middlewareStack: { add: Function; remove: (name: string) => boolean } }][] = [
      ['route53', route53],
      ['ecs', ecs],
      ['cloudwatch', cloudwatch],
      ['eventbridge', eventbridge],
      ['sfn', sfn],
      ['dynamodb', dynamodb],
    ];
    for (const [service, client] of clients) {
      const name = 'simulatedAccount';
      client.middlewareStack.add(
        (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => ({
          output: await this.dispatch(service, (context.commandName ?? '').replace(/Command$/, ''), args.input),
          response: { statusCode: 200, headers: {} },
        }),
        { step: 'deserialize', priority: 'high', name, override: true },
      );
      this.uninstallers.push(() => client.middlewareStack.remove(name));
      // Each account starts with fresh SDK retry strategies (a fresh retry quota), as a new
      // Lambda container would: runs in one process must not drain each other's quota.
      const config = (client as unknown as { config: { retryStrategy: () => Promise<object>; maxAttempts: () => Promise<number> } }).config;
      const original = config.retryStrategy;
      let fresh: Promise<object> | undefined;
      config.retryStrategy = () =>
        (fresh ??= original().then((s) => new (s.constructor as new (maxAttempts: () => Promise<number>) => object)(config.maxAttempts)));
      this.uninstallers.push(() => (config.retryStrategy = original));
    }
    return () => this.uninstall();
  }

  uninstall(): void {
    for (const undo of this.uninstallers.splice(0)) undo();
  }

  private async dispatch(service: ServiceName, command: string, input: any): Promise<object> {
    const record: CallRecord = { at: Date.now(), service, command };
    this.calls.push(record);
    try {
      this.maybeFail(service, command);
      const output = this.handle(service, command, input);
      return { ...output, $metadata: { httpStatusCode: 200, requestId: 'simulated', attempts: 1, totalRetryDelay: 0 } };
    } catch (e) {
      record.error = (e as Error).name;
      throw e;
    }
  }

  private maybeFail(service: ServiceName, command: string): void {
    for (const fault of this.faults) {
      if (fault.service !== service || (fault.command && fault.command !== command)) continue;
      if (fault.times !== undefined && fault.times <= 0) continue;
      if (fault.probability !== undefined && this.random() >= fault.probability) continue;
      if (fault.times !== undefined) fault.times--;
      throw new SimulatedAwsError(fault.error, fault.message ?? `injected ${fault.error}`, fault.httpStatusCode ?? 400);
    }
  }

  private handle(service: ServiceName, command: string, input: any): object {
    const unsupported = () => awsError('UnsupportedOperation', `the simulated ${service} does not implement ${command}`);
    switch (`${service}:${command}Command`) {
      case 'route53:CreateHostedZoneCommand':
        return this.route53.createHostedZone(input);
      case 'route53:ListResourceRecordSetsCommand':
        return this.route53.listResourceRecordSets(input);
      case 'route53:ChangeResourceRecordSetsCommand':
        return this.route53.changeResourceRecordSets(input);
      case 'route53:GetChangeCommand':
        return this.route53.getChange(input);
      case 'route53:CreateHealthCheckCommand':
        return this.route53.createHealthCheck(input);
      case 'ecs:CreateClusterCommand':
        return this.ecs.createCluster(input);
      case 'ecs:RegisterTaskDefinitionCommand':
        return this.ecs.registerTaskDefinition(input);
      case 'ecs:CreateServiceCommand':
        return this.ecs.createServiceCommand(input);
      case 'ecs:DescribeServicesCommand':
        return this.ecs.describeServices(input);
      case 'cloudwatch:DescribeAlarmsCommand':
        return this.cloudwatch.describeAlarms(input);
      case 'cloudwatch:PutMetricAlarmCommand':
        return this.cloudwatch.putMetricAlarm(input);
      case 'cloudwatch:PutCompositeAlarmCommand':
        return this.cloudwatch.putCompositeAlarm(input);
      case 'cloudwatch:DeleteAlarmsCommand':
        return this.cloudwatch.deleteAlarms(input);
      case 'cloudwatch:SetAlarmStateCommand':
        return this.cloudwatch.setAlarmState(input);
      case 'eventbridge:PutEventsCommand':
        return this.putEvents(input);
      case 'sfn:StartExecutionCommand':
        return this.startExecution(input);
      case 'sfn:DescribeExecutionCommand':
        return this.describeExecution(input);
      case 'dynamodb:CreateTableCommand':
        return this.dynamodb.createTable(input);
      case 'dynamodb:PutItemCommand':
        return this.dynamodb.putItem(input);
      case 'dynamodb:GetItemCommand':
        return this.dynamodb.getItem(input);
      case 'dynamodb:DeleteItemCommand':
        return this.dynamodb.deleteItem(input);
      case 'dynamodb:UpdateItemCommand':
        return this.dynamodb.updateItem(input);
      default:
        return unsupported();
    }
  }

  private putEvents(input: { Entries?: { Source?: string; DetailType?: string; Detail?: string }[] }) {
    // As EventBridge: a bad entry fails on its own (ErrorCode in its place), the call does not.
    const Entries = (input.Entries ?? []).map((e) => {
      const missing = (['Source', 'DetailType', 'Detail'] as const).find((field) => !e[field]);
      if (missing) return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${missing} is not valid. Reason: ${missing} is a required argument.` };
      let detail: Record<string, unknown>;
      try {
        detail = JSON.parse(e.Detail!);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      this.events.push({ at: Date.now(), source: e.Source!, detailType: e.DetailType!, detail });
      return { EventId: `sim-event-${this.events.length}` };
    });
    return { FailedEntryCount: Entries.filter((e) => 'ErrorCode' in e).length, Entries };
  }

  private startExecution(input: { stateMachineArn: string; name: string; input?: string }) {
    const existing = this.executions.get(input.name);
    if (existing) {
      if (existing.input !== (input.input ?? '{}'))
        awsError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      return { executionArn: existing.executionArn, startDate: new Date(existing.startedAt) };
    }
    const execution: SimExecution = {
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
      name: input.name,
      input: input.input ?? '{}',
      startedAt: Date.now(),
      status: 'RUNNING',
    };
    this.executions.set(input.name, execution);
    for (const listener of this.startListeners) listener(execution);
    return { executionArn: execution.executionArn, startDate: new Date(execution.startedAt) };
  }

  private describeExecution(input: { executionArn?: string }) {
    const execution = [...this.executions.values()].find((x) => x.executionArn === input.executionArn);
    if (!execution) return awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    const stateMachineArn = execution.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
    return { executionArn: execution.executionArn, stateMachineArn, name: execution.name, status: execution.status, input: execution.input, startDate: new Date(execution.startedAt) };
  }

  /** Calls made so far, optionally of one service and command (e.g. 'ChangeResourceRecordSets'). */
  count(service: ServiceName, command?: string, options: { includeErrors?: boolean } = {}): number {
    return this.calls.filter(
      (c) => c.service === service && (!command || c.command === command) && (options.includeErrors || !c.error),
    ).length;
  }
}
