import { createRequire } from 'node:module';
import { currentFunction, setOutputSink } from '../lambda.js';
import type { LocalFunction } from '../stack.js';
import { SIM_ACCOUNT, SIM_REGION } from './constants.js';
import { DynamoDbModel } from './dynamodb.js';
import { LogsModel } from './logs.js';
import { awsError, SimulatedAwsError } from './errors.js';
import { allows, accessDenied, authorize, type Where } from './iam.js';
import { Place, placeKey } from './place.js';
import { Route53Model } from './route53.js';
import { OtherAccount, StsModel, type AssumedSession } from './sts.js';
import { HttpModel, LambdaModel, SecretsModel } from './more.js';
import { CHANGE_TOKENS, CLOUDWATCH_DESCRIBE_ALARMS, CLOUDWATCH_GET_METRIC_DATA, ECS_DESCRIBE_SERVICES, ROUTE53_LIMITS, takeAll, TokenBucket, type BucketSpec } from './throttle.js';
import { randomFrom, TrafficModel } from './traffic.js';
import { realWork } from '../virtual-time.js';
import { AWS_REGION, placeOfService, type ServiceConfig } from '../../functions/lib/config.js';

export { SIM_ACCOUNT, SIM_REGION, Place };

export type ServiceName = 'route53' | 'ecs' | 'cloudwatch' | 'eventbridge' | 'sfn' | 'dynamodb' | 'sqs' | 'elbv2' | 'lambda' | 'secretsmanager' | 'sts' | 'cloudformation';

/** The SDK client class names, as middleware sees them, of the services the account models. */
const SERVICES: Record<string, ServiceName> = {
  Route53Client: 'route53',
  ECSClient: 'ecs',
  CloudWatchClient: 'cloudwatch',
  EventBridgeClient: 'eventbridge',
  SFNClient: 'sfn',
  DynamoDBClient: 'dynamodb',
  SQSClient: 'sqs',
  ElasticLoadBalancingV2Client: 'elbv2',
  LambdaClient: 'lambda',
  SecretsManagerClient: 'secretsmanager',
  STSClient: 'sts',
  CloudFormationClient: 'cloudformation',
};

/** The services whose state is per place (account and region); the rest is the stack's own place's, but for the global ones. */
const PLACED = new Set<ServiceName>(['ecs', 'cloudwatch', 'elbv2', 'cloudformation']);
const GLOBAL = new Set<ServiceName>(['route53', 'sts']);

/**
 * What a call through a role assumed in another account may do there: Route53's record reads and
 * changes (a zone in a DNS account), and what the functions do with a side elsewhere (its
 * service, its target groups, its alarms and metrics, idle scaling).
 */
const THROUGH_ROLE = new Set([
  'route53:ListResourceRecordSets',
  'route53:ChangeResourceRecordSets',
  'route53:GetChange',
  'ecs:DescribeServices',
  'ecs:UpdateService',
  'elbv2:DescribeTargetHealth',
  'elbv2:DescribeTargetGroups',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricData',
]);

/** The region a request goes to, from its endpoint (ecs.eu-central-1.amazonaws.com); a global endpoint (route53.amazonaws.com) names none. */
const regionOf = (hostname: string | undefined) => hostname?.split('.').find((label) => AWS_REGION.test(label));

export interface CallRecord {
  at: number;
  service: ServiceName;
  command: string;
  /** The function whose role made the call; absent for the operator (tests, seeding). */
  caller?: string;
  error?: string;
  /** Made in another account of the organization, through a role assumed there. */
  account?: string;
  /** Made in another region (ECS, ELBv2, CloudWatch: the place's). */
  region?: string;
}

/** A message on a queue (the functions' asynchronous on-failure destination). */
export interface QueuedMessage {
  at: number;
  queueArn: string;
  body: string;
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
  /** RUNNING until whoever runs it says otherwise (see end()). */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  stoppedAt?: number;
  error?: string;
  cause?: string;
  /** A SUCCEEDED run's output, as DescribeExecution returns it. */
  output?: string;
}

/** A task token a `.waitForTaskToken` Task state is parked on. */
interface ParkedTask {
  executionArn: string;
  state: string;
  resolve(output: unknown): void;
  reject(error: Error): void;
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

/** Deterministic pseudo-random numbers (mulberry32), so injected faults repeat run after run (shared with the traffic model). */
export { randomFrom };

type SdkClient = {
  middlewareStack: { add: Function };
  config: { retryStrategy: () => Promise<object>; maxAttempts: () => Promise<number> };
  [ACCOUNT]?: SimulatedAccount;
  [ORIGINAL_RETRY]?: () => Promise<object>;
};
const ACCOUNT = Symbol('simulatedAccount');
const ORIGINAL_RETRY = Symbol('originalRetryStrategy');
const HOOKED = Symbol('hookedBySimulatedAccount');

/** The account SDK calls go to now, if any. */
let active: SimulatedAccount | undefined;

/**
 * Every SDK v3 client in the process (the functions' own, and those inside the zips `sls
 * package` writes, which take the SDK from node_modules as Lambda's runtime provides it)
 * extends one smithy Client class. Its send is hooked once: a client reaching an active
 * account for the first time gets the account's middleware.
 */
function hookClients(): void {
  const { Client } = createRequire(import.meta.url)('@smithy/core/client') as { Client: { prototype: { send: Function; [HOOKED]?: true } } };
  if (Client.prototype[HOOKED]) return;
  Client.prototype[HOOKED] = true;
  const send = Client.prototype.send;
  Client.prototype.send = function (this: SdkClient, ...args: unknown[]) {
    if (active && this[ACCOUNT] !== active) active.attach(this);
    return send.apply(this, args);
  };
}

/**
 * `fetch` to a host the active account serves (a service's own endpoint) is answered by it, with
 * no network; anything else goes where it would have gone.
 */
function hookFetch(): void {
  const original = globalThis.fetch as typeof fetch & { [HOOKED]?: true };
  if (original[HOOKED]) return;
  const hooked = async (resource: string | URL | Request, init?: RequestInit) => {
    const url = typeof resource === 'string' ? resource : resource instanceof URL ? resource.href : resource.url;
    if (!active?.http.knows(url)) return original(resource, init);
    init?.signal?.throwIfAborted();
    return active.http.fetch(url, Object.fromEntries(new Headers(init?.headers).entries()));
  };
  globalThis.fetch = Object.assign(hooked, { [HOOKED]: true as const }) as typeof fetch;
}

/**
 * The embedded AWS account: stateful models of the services the canary calls, wired in at
 * the SDK boundary. A middleware in each client's deserialize step answers from the model
 * instead of sending HTTP, so everything above it (endpoint, signing, the retry strategy with
 * its backoff) runs as it does against AWS. A call made by a function (see local/lambda.ts)
 * is first authorized against that function's role, as IAM would.
 *
 * The account is the stack's, in an organization: other accounts (addAccount) have their own
 * Route53 and roles, and each place (account, region) its own ECS, ELBv2 and CloudWatch. A call
 * goes to the place of the credentials that signed it (a role STS handed out: its account; else
 * the stack's) and of the region its endpoint names.
 */
export class SimulatedAccount {
  readonly route53 = new Route53Model();
  private placesByKey = new Map<string, Place>();
  private placeListeners: ((place: Place) => void)[] = [];
  /** The organization's other accounts, by id (a zone in a DNS account: addAccount), and STS between them. */
  readonly accounts = new Map<string, OtherAccount>();
  /** The stack's own place (SIM_ACCOUNT, SIM_REGION): `ecs`, `cloudwatch` and `elbv2` are its models. */
  readonly home = this.place(SIM_ACCOUNT, SIM_REGION);
  readonly ecs = this.home.ecs;
  readonly cloudwatch = this.home.cloudwatch;
  /** The functions' log groups: what they print, EMF lines turned into metrics (see logs.ts). */
  readonly logs = new LogsModel(this.cloudwatch);
  readonly dynamodb = new DynamoDbModel();
  readonly elbv2 = this.home.elbv2;
  /** Clients' requests through Route53's answers to the pairs' target groups, and the ALB metrics they make (see traffic.ts). */
  readonly traffic: TrafficModel;
  readonly lambda = new LambdaModel();
  readonly secrets = new SecretsModel(SIM_ACCOUNT, SIM_REGION);
  readonly http = new HttpModel();
  readonly sts = new StsModel(this.accounts);
  readonly events: CapturedEvent[] = [];
  readonly calls: CallRecord[] = [];
  /** Queues by ARN (created by the stack; see createQueue). */
  readonly queues = new Map<string, QueuedMessage[]>();
  readonly executions = new Map<string, SimExecution>();
  /** State machines by ARN (created by the stack). */
  readonly stateMachines = new Set<string>();
  private faults: Fault[] = [];
  private random: () => number;
  private startListeners: ((e: SimExecution) => void)[] = [];
  private parked = new Map<string, ParkedTask>();
  private tokenCount = 0;

  /** AWS's own throttling (token buckets at the documented rates); on unless turned off. */
  private throttling: boolean;
  private buckets = new Map<string, TokenBucket>();

  constructor(options: { seed?: number; throttling?: boolean; trafficSeed?: number } = {}) {
    this.random = randomFrom(options.seed ?? 1);
    this.traffic = new TrafficModel(this.route53, this.cloudwatch, { seed: options.trafficSeed ?? options.seed ?? 1 });
    this.throttling = options.throttling ?? true;
  }

  /**
   * The place (account, region), created on first use with its own ECS, ELBv2 and CloudWatch;
   * a place in another account makes that account part of the organization (addAccount).
   */
  place(account: string, region: string): Place {
    const key = placeKey(account, region);
    let place = this.placesByKey.get(key);
    if (!place) {
      this.placesByKey.set(key, (place = new Place(account, region)));
      if (account !== SIM_ACCOUNT) this.addAccount(account);
      for (const listener of this.placeListeners) listener(place);
    }
    return place;
  }

  /** Where a configured side runs: its region and its role's account, else the stack's (config placeOfService). */
  placeOf(side: Pick<ServiceConfig, 'region' | 'roleArn'>): Place {
    const { account, region } = placeOfService(side, this.home);
    return this.place(account, region);
  }

  /** Every place so far, home first. */
  places(): Place[] {
    return [...this.placesByKey.values()];
  }

  /** `listener` is called with each place created from now on (the ones that exist: places()). */
  onPlace(listener: (place: Place) => void): void {
    this.placeListeners.push(listener);
  }

  private bucket(key: string, spec: BucketSpec): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(spec)));
    return bucket;
  }

  /** Throws what AWS throws when a call in `place` finds its token buckets empty (see throttle.ts). */
  private throttle(service: ServiceName, command: string, input: any, place: Where): void {
    if (!this.throttling) return;
    let draws: [TokenBucket, number][] = [];
    let error = ['Throttling', 'Rate exceeded'];
    if (service === 'route53') {
      // Route53's buckets are per account: another account's (a DNS account) are its own.
      const of = (key: string) => `${place.account}:${key}`;
      draws = [
        [this.bucket(of('route53'), ROUTE53_LIMITS.account), 1],
        [this.bucket(of(`route53:${command}`), ROUTE53_LIMITS.perAction), 1],
      ];
      if (command === 'ChangeResourceRecordSets') {
        const changes: { Action?: string }[] = input.ChangeBatch?.Changes ?? [];
        draws.push([this.bucket(of('route53:changes'), ROUTE53_LIMITS.changes), changes.reduce((n, c) => n + (CHANGE_TOKENS[c.Action ?? ''] ?? 1), 0)]);
      }
    } else if (service === 'ecs' && command === 'DescribeServices') {
      // ECS's and CloudWatch's quotas are per account and Region: each place has its own buckets.
      draws = [[this.bucket(`${placeKey(place.account, place.region)}:ecs:DescribeServices`, ECS_DESCRIBE_SERVICES), 1]];
      error = ['ThrottlingException', 'Rate exceeded'];
    } else if (service === 'cloudwatch' && command === 'DescribeAlarms') {
      draws = [[this.bucket(`${placeKey(place.account, place.region)}:cloudwatch:DescribeAlarms`, CLOUDWATCH_DESCRIBE_ALARMS), 1]];
    } else if (service === 'cloudwatch' && command === 'GetMetricData') {
      draws = [[this.bucket(`${placeKey(place.account, place.region)}:cloudwatch:GetMetricData`, CLOUDWATCH_GET_METRIC_DATA), 1]];
    }
    if (draws.length > 0 && !takeAll(draws)) throw new SimulatedAwsError(error[0]!, error[1]!, 400);
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  onStartExecution(listener: (e: SimExecution) => void): void {
    this.startListeners.push(listener);
  }

  /** Routes every SDK client in the process to this account until the returned function is called. */
  install(): () => void {
    process.env.AWS_REGION ??= SIM_REGION;
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDSIMULATED';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'simulated';
    hookClients();
    hookFetch();
    active = this;
    setOutputSink((fn, text) => active?.logs.write(`/aws/lambda/${fn.functionName}`, text));
    return () => this.uninstall();
  }

  uninstall(): void {
    if (active === this) active = undefined;
  }

  /**
   * Answers `client`'s requests from this account while it is the active one. Each account
   * starts with fresh SDK retry strategies (a fresh retry quota), as a new Lambda container
   * would: runs in one process must not drain each other's quota.
   */
  attach(client: SdkClient): void {
    if (client[ACCOUNT] === undefined) {
      client.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: { input: object }) => {
          const account = active;
          const service = SERVICES[context.clientName ?? ''];
          if (!account) return next(args);
          if (!service) return awsError('UnsupportedOperation', `the simulated account does not model ${context.clientName}`);
          const command = (context.commandName ?? '').replace(/Command$/, '');
          const request = (args as { request?: { hostname?: string; headers?: Record<string, string> } }).request;
          // Whose credentials signed it (SigV4: Credential=<access key id>/...): STS's, for a role in another account.
          const signedBy = /Credential=([A-Z0-9]+)\//.exec(String(request?.headers?.authorization ?? ''))?.[1];
          const session = account.sts.session(signedBy);
          const region = regionOf(request?.hostname) ?? SIM_REGION;
          const output = session ? await account.dispatchAs(session, service, command, args.input, region) : await account.dispatch(service, command, args.input, region);
          return { output, response: { statusCode: 200, headers: {} } };
        },
        { step: 'deserialize', priority: 'high', name: 'simulatedAccount', override: true },
      );
      client[ORIGINAL_RETRY] = client.config.retryStrategy;
    }
    client[ACCOUNT] = this;
    const original = client[ORIGINAL_RETRY]!;
    let fresh: Promise<object> | undefined;
    client.config.retryStrategy = () =>
      (fresh ??= original().then((s) => new (s.constructor as new (maxAttempts: () => Promise<number>) => object)(client.config.maxAttempts)));
  }

  /**
   * A call with the stack account's own credentials (a function's role, or the operator's) to
   * `region`: ECS, ELBv2 and CloudWatch answer from that place, authorized with ARNs built there.
   */
  private async dispatch(service: ServiceName, command: string, input: any, region: string): Promise<object> {
    const caller = currentFunction();
    const record: CallRecord = { at: Date.now(), service, command, ...(caller ? { caller: caller.name } : {}), ...(!GLOBAL.has(service) && region !== SIM_REGION ? { region } : {}) };
    return this.recorded(record, async () => {
      if (service === 'sts')
        // Decided by STS itself, on both sides (the caller's grant and the role's trust policy).
        return command === 'AssumeRole' ? await realWork(this.sts.assumeRole(caller, input)) : command === 'GetCallerIdentity' ? this.sts.callerIdentity(caller) : awsError('UnsupportedOperation', `the simulated sts does not implement ${command}`);
      if (!PLACED.has(service) && !GLOBAL.has(service) && region !== SIM_REGION)
        awsError('UnsupportedOperation', `the simulated organization has ${service} in the stack's region (${SIM_REGION}) only, not in ${region}`);
      const place = PLACED.has(service) ? this.place(SIM_ACCOUNT, region) : this.home;
      const granted = caller ? await realWork(authorize(caller, service, command, input, { secretArn: (id) => this.secrets.arnOf(id) }, place)) : { compositeAlarmsVisible: true };
      this.maybeFail(service, command);
      this.throttle(service, command, input, place);
      const composites = granted.compositeAlarmsVisible !== false;
      return PLACED.has(service)
        ? this.handleIn(place, service, command, input, composites)
        : service === 'lambda' && command === 'Invoke'
          ? await this.lambda.invoke(input)
          : this.handle(service, command, input, this.route53);
    });
  }

  /** Records the call (its error, if it fails) and answers it as the SDK expects an answer ($metadata). */
  private async recorded(record: CallRecord, answer: () => Promise<object>): Promise<object> {
    this.calls.push(record);
    try {
      return { ...(await answer()), $metadata: { httpStatusCode: 200, requestId: 'simulated', attempts: 1, totalRetryDelay: 0 } };
    } catch (e) {
      record.error = (e as Error).name;
      throw e;
    }
  }

  /** Another account of the organization (created on first use): its own Route53, its own roles. */
  addAccount(id: string): OtherAccount {
    let account = this.accounts.get(id);
    if (!account) {
      this.accounts.set(id, (account = new OtherAccount(id)));
      this.traffic.follow(account.route53);
    }
    return account;
  }

  /** The Route53 of the account that holds `hostedZoneId` (this one's when none does). */
  route53Of(hostedZoneId: string): Route53Model {
    return [...this.accounts.values()].find((a) => a.route53.hasZone(hostedZoneId))?.route53 ?? this.route53;
  }

  /**
   * A call signed with credentials STS handed out: made as the assumed role, in its account (and
   * for ECS, ELBv2 and CloudWatch in `region`: that place's), authorized against the role's
   * permission policy with ARNs built there. What may be called so: THROUGH_ROLE.
   */
  async dispatchAs(session: AssumedSession, service: ServiceName, command: string, input: any, region = SIM_REGION): Promise<object> {
    const caller = currentFunction();
    const record: CallRecord = { at: Date.now(), service, command, ...(caller ? { caller: caller.name } : {}), account: session.account.id, ...(PLACED.has(service) && region !== SIM_REGION ? { region } : {}) };
    return this.recorded(record, async () => {
      if (!THROUGH_ROLE.has(`${service}:${command}`))
        return awsError('UnsupportedOperation', `the simulated account ${session.account.id} answers ${[...THROUGH_ROLE].join(', ')} through a role, not ${service}:${command}`);
      const where = { account: session.account.id, region: PLACED.has(service) ? region : SIM_REGION };
      const granted = await realWork(authorize(StsModel.asCaller(session), service, command, input, undefined, where));
      this.maybeFail(service, command);
      this.throttle(service, command, input, where);
      // A place is created only for what lives in one: Route53 is the account's.
      return PLACED.has(service)
        ? this.handleIn(this.place(where.account, where.region), service, command, input, granted.compositeAlarmsVisible !== false)
        : this.handle(service, command, input, session.account.route53);
    });
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

  /** ECS, ELBv2 and CloudWatch, as `place` answers (composite alarms listed only to a caller who may see them). */
  private handleIn(place: Place, service: ServiceName, command: string, input: any, composites: boolean): object {
    const { ecs, cloudwatch, elbv2 } = place;
    switch (`${service}:${command}Command`) {
      case 'ecs:CreateClusterCommand':
        return ecs.createCluster(input);
      case 'ecs:RegisterTaskDefinitionCommand':
        return ecs.registerTaskDefinition(input);
      case 'ecs:CreateServiceCommand':
        return ecs.createServiceCommand(input);
      case 'ecs:DescribeServicesCommand':
        return ecs.describeServices(input);
      case 'ecs:UpdateServiceCommand':
        return ecs.updateService(input);
      case 'cloudwatch:DescribeAlarmsCommand':
        return cloudwatch.describeAlarms(input, { composites });
      case 'cloudwatch:PutMetricAlarmCommand':
        return cloudwatch.putMetricAlarm(input);
      case 'cloudwatch:PutCompositeAlarmCommand':
        return cloudwatch.putCompositeAlarm(input);
      case 'cloudwatch:DeleteAlarmsCommand':
        return cloudwatch.deleteAlarms(input);
      case 'cloudwatch:SetAlarmStateCommand':
        return cloudwatch.setAlarmState(input);
      case 'cloudwatch:GetMetricDataCommand':
        return cloudwatch.getMetricData(input);
      case 'cloudwatch:PutMetricDataCommand':
        return cloudwatch.putMetricData(input);
      case 'cloudwatch:PutDashboardCommand':
        return cloudwatch.putDashboard(input);
      case 'cloudwatch:GetDashboardCommand':
        return cloudwatch.getDashboard(input);
      case 'elbv2:DescribeTargetHealthCommand':
        return elbv2.describeTargetHealth(input);
      case 'elbv2:DescribeTargetGroupsCommand':
        return elbv2.describeTargetGroups(input);
      case 'elbv2:DescribeLoadBalancersCommand':
        return elbv2.describeLoadBalancers(input);
      case 'elbv2:CreateLoadBalancerCommand':
        return elbv2.createLoadBalancer(input);
      case 'elbv2:CreateTargetGroupCommand':
        return elbv2.createTargetGroup(input);
      case 'elbv2:CreateListenerCommand':
        return elbv2.createListener(input);
      case 'cloudformation:DescribeStacksCommand':
        return place.cloudformation.describeStacks(input);
      default:
        return awsError('UnsupportedOperation', `the simulated ${service} does not implement ${command}`);
    }
  }

  /** Everything else: the account's global Route53 (`route53`: this one's or another account's), and the stack's own services. */
  private handle(service: ServiceName, command: string, input: any, route53: Route53Model): object {
    const unsupported = () => awsError('UnsupportedOperation', `the simulated ${service} does not implement ${command}`);
    switch (`${service}:${command}Command`) {
      case 'route53:CreateHostedZoneCommand':
        return route53.createHostedZone(input);
      case 'route53:ListResourceRecordSetsCommand':
        return route53.listResourceRecordSets(input);
      case 'route53:ChangeResourceRecordSetsCommand':
        return route53.changeResourceRecordSets(input);
      case 'route53:GetChangeCommand':
        return route53.getChange(input);
      case 'route53:CreateHealthCheckCommand':
        return route53.createHealthCheck(input);
      case 'eventbridge:PutEventsCommand':
        return this.putEvents(input);
      case 'sfn:StartExecutionCommand':
        return this.startExecution(input);
      case 'sfn:DescribeExecutionCommand':
        return this.describeExecution(input);
      case 'sfn:ListStateMachinesCommand':
        return { stateMachines: [...this.stateMachines].map((arn) => ({ stateMachineArn: arn, name: arn.split(':').at(-1), type: 'STANDARD', creationDate: new Date(0) })) };
      case 'sfn:ListExecutionsCommand':
        return this.listExecutions(input);
      case 'sfn:SendTaskSuccessCommand':
        return this.answerTask(input.taskToken, (t) => t.resolve(JSON.parse(input.output ?? 'null')));
      case 'sfn:SendTaskFailureCommand':
        return this.answerTask(input.taskToken, (t) =>
          t.reject(Object.assign(new Error(input.cause ?? ''), { name: input.error ?? 'States.TaskFailed' })),
        );
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
      case 'dynamodb:ScanCommand':
        return this.dynamodb.scan(input);
      case 'sqs:SendMessageCommand':
        return this.sendMessage(input);
      case 'secretsmanager:GetSecretValueCommand':
        return this.secrets.getSecretValue(input);
      case 'secretsmanager:CreateSecretCommand':
        return { ARN: this.secrets.put(input.Name, input.SecretString), Name: input.Name };
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

  /** A standard queue the stack owns. */
  createQueue(name: string): string {
    const queueArn = `arn:aws:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
    if (!this.queues.has(queueArn)) this.queues.set(queueArn, []);
    return queueArn;
  }

  private sendMessage(input: { QueueUrl?: string; MessageBody?: string }) {
    const name = (input.QueueUrl ?? '').split('/').at(-1)!;
    const messages = this.queues.get(`arn:aws:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${name}`);
    if (!messages) return awsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    messages.push({ at: Date.now(), queueArn: `arn:aws:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${name}`, body: input.MessageBody ?? '' });
    return { MessageId: `sim-message-${messages.length}`, MD5OfMessageBody: 'simulated' };
  }

  /**
   * What Lambda does with an asynchronous invocation that failed every attempt: it sends the
   * record to the function's on-failure destination, as the function's role (which must grant
   * sqs:SendMessage on the queue). Returns false when the record could not be delivered, as
   * Lambda then only logs it.
   */
  async sendToDestination(fn: LocalFunction, record: object): Promise<boolean> {
    const queueArn = fn.async?.failuresQueueArn;
    const messages = queueArn ? this.queues.get(queueArn) : undefined;
    if (!queueArn || !messages) return false;
    if (!(await allows(fn, 'sqs:SendMessage', queueArn))) {
      this.calls.push({ at: Date.now(), service: 'sqs', command: 'SendMessage', caller: fn.name, error: accessDenied(fn, 'sqs', 'sqs:SendMessage', queueArn).name });
      return false;
    }
    messages.push({ at: Date.now(), queueArn, body: JSON.stringify(record) });
    return true;
  }

  /** StartExecution (also what the operator does with `aws stepfunctions start-execution`). */
  startExecution(input: { stateMachineArn: string; name: string; input?: string }) {
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
    return {
      executionArn: execution.executionArn,
      stateMachineArn,
      name: execution.name,
      status: execution.status,
      input: execution.input,
      startDate: new Date(execution.startedAt),
      ...(execution.stoppedAt ? { stopDate: new Date(execution.stoppedAt) } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      ...(execution.output ? { output: execution.output } : {}),
    };
  }

  /** ListExecutions: newest first, in pages of maxResults (default 100). */
  private listExecutions(input: { stateMachineArn?: string; maxResults?: number; nextToken?: string; statusFilter?: string }) {
    const all = [...this.executions.values()]
      .filter((x) => x.executionArn.startsWith(`${input.stateMachineArn?.replace(':stateMachine:', ':execution:')}:`))
      .filter((x) => !input.statusFilter || x.status === input.statusFilter)
      .sort((a, b) => b.startedAt - a.startedAt);
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const page = all.slice(from, from + (input.maxResults || 100));
    return {
      executions: page.map((x) => ({
        executionArn: x.executionArn,
        stateMachineArn: input.stateMachineArn,
        name: x.name,
        status: x.status,
        startDate: new Date(x.startedAt),
        ...(x.stoppedAt ? { stopDate: new Date(x.stoppedAt) } : {}),
      })),
      ...(from + page.length < all.length ? { nextToken: String(from + page.length) } : {}),
    };
  }

  /** What whoever runs an execution reports when it ends: its status, and the tokens it held die with it. */
  endExecution(executionArn: string, status: SimExecution['status'], error?: string, cause?: string, output?: string): void {
    const execution = [...this.executions.values()].find((x) => x.executionArn === executionArn);
    if (execution) Object.assign(execution, { status, stoppedAt: Date.now(), error, cause, output });
    for (const [token, task] of this.parked) if (task.executionArn === executionArn) this.parked.delete(token);
  }

  /**
   * A `.waitForTaskToken` Task state parks here: a new token (the state's earlier token, if
   * any, is no longer valid), and a promise SendTaskSuccess resolves and SendTaskFailure
   * rejects (with an error named by its `error`).
   */
  parkTask(executionArn: string, state: string): { token: string; answered: Promise<unknown>; expire(): void } {
    for (const [token, task] of this.parked) if (task.executionArn === executionArn && task.state === state) this.parked.delete(token);
    const token = `AQB${(++this.tokenCount).toString(36).padStart(8, '0')}${Buffer.from(`${executionArn}#${state}`).toString('base64url').slice(-24)}`;
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const answered = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)));
    answered.catch(() => undefined); // answered after its state moved on: nobody awaits it
    this.parked.set(token, { executionArn, state, resolve, reject });
    return { token, answered, expire: () => void this.parked.delete(token) };
  }

  /** A token's task, once: an unknown, answered or expired token fails as AWS fails it. */
  private answerTask(token: string | undefined, answer: (task: ParkedTask) => void) {
    if (!token || token.length > 2048) return awsError('InvalidToken', 'Invalid Token');
    const task = this.parked.get(token);
    if (!task) return awsError('TaskTimedOut', 'Task Timed Out');
    this.parked.delete(token);
    answer(task);
    return {};
  }

  /** Calls made so far, optionally of one service and command (e.g. 'ChangeResourceRecordSets'). */
  count(service: ServiceName, command?: string, options: { includeErrors?: boolean } = {}): number {
    return this.calls.filter(
      (c) => c.service === service && (!command || c.command === command) && (options.includeErrors || !c.error),
    ).length;
  }
}
