import { createHash } from 'node:crypto';
import type {
  CreateListenerCommandInput,
  CreateLoadBalancerCommandInput,
  CreateTargetGroupCommandInput,
  DescribeLoadBalancersCommandInput,
  DescribeTargetGroupsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SIM_ACCOUNT, SIM_REGION } from './constants.js';
import { awsError, awsErrorsOf } from './errors.js';
import type { EcsModel } from './ecs.js';

export type LoadBalancerType = 'application' | 'network' | 'gateway';

export interface SimLoadBalancer {
  arn: string;
  name: string;
  type: LoadBalancerType;
  scheme: 'internet-facing' | 'internal';
  dnsName: string;
  vpcId: string;
  subnets: string[];
  createdAt: Date;
}

export interface SimTargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  vpcId?: string;
  targetType: string;
  loadBalancerArns: string[];
}

/**
 * ELB's error codes (on the wire) and the names the SDK gives them (its modeled exceptions):
 * what a caller sees is `TargetGroupNotFoundException`, with `Code` TargetGroupNotFound.
 * ValidationError is not modeled: its name stays the code.
 */
const elbError = awsErrorsOf({
  TargetGroupNotFound: 'TargetGroupNotFoundException',
  LoadBalancerNotFound: 'LoadBalancerNotFoundException',
  DuplicateTargetGroupName: 'DuplicateTargetGroupNameException',
  DuplicateLoadBalancerName: 'DuplicateLoadBalancerNameException',
  TargetGroupAssociationLimit: 'TargetGroupAssociationLimitException',
  SubnetNotFound: 'SubnetNotFoundException',
});

/** The type's part of a load balancer ARN (loadbalancer/app/..., net/, gwy/). */
const ARN_TYPE: Record<LoadBalancerType, string> = { application: 'app', network: 'net', gateway: 'gwy' };
/** A stable 16-hex-digit id for a name (AWS's ids are random; stable ones keep runs repeatable). */
const idOf = (name: string) => createHash('sha256').update(name).digest('hex').slice(0, 16);
/** ELB names: "a maximum of 32 alphanumeric characters and hyphens, [which] must not begin or end with a hyphen". */
const validName = (name: string) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name) && !name.includes('--');

/**
 * Load balancers, target groups and listeners as the canary sees them. A target group belongs
 * to the load balancer whose listener forwards to it (CreateListener), or to the one seeding
 * gives it. Target health: the targets are the running tasks of the ECS service registered
 * with the group, healthy unless a test says otherwise (`setUnhealthy`).
 */
export class Elbv2Model {
  private unhealthy = new Map<string, { count: number; reason: string }>();
  private loadBalancers = new Map<string, SimLoadBalancer>();
  private targetGroups = new Map<string, SimTargetGroup>();

  constructor(
    private ecs: EcsModel,
    private account = SIM_ACCOUNT,
    private region = SIM_REGION,
  ) {}

  /** Seeding (the operator, no validation): a load balancer named `name`; returns its ARN. */
  addLoadBalancer(options: { name: string; type?: LoadBalancerType; scheme?: 'internet-facing' | 'internal' }): string {
    const type = options.type ?? 'application';
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:loadbalancer/${ARN_TYPE[type]}/${options.name}/${idOf(`${type}/${options.name}`)}`;
    const scheme = options.scheme ?? 'internet-facing';
    if (!this.loadBalancers.has(arn))
      this.loadBalancers.set(arn, {
        arn,
        name: options.name,
        type,
        scheme,
        dnsName: `${scheme === 'internal' ? 'internal-' : ''}${options.name}-${parseInt(idOf(options.name).slice(0, 8), 16) % 1_000_000_000}.${this.region}.elb.amazonaws.com`,
        vpcId: 'vpc-0sim',
        subnets: ['subnet-0sima', 'subnet-0simb'],
        createdAt: new Date(),
      });
    return arn;
  }

  /** Seeding (the operator, no validation): a target group with this ARN, owned by these load balancers. */
  addTargetGroup(options: { arn: string; protocol?: string; port?: number; loadBalancerArns?: string[] }): void {
    const name = options.arn.split(':').at(-1)!.split('/')[1] ?? options.arn;
    this.targetGroups.set(options.arn, {
      arn: options.arn,
      name,
      protocol: options.protocol ?? 'HTTP',
      port: options.port ?? 8080,
      vpcId: 'vpc-0sim',
      targetType: 'ip',
      loadBalancerArns: [...(options.loadBalancerArns ?? [])],
    });
  }

  createLoadBalancer(input: CreateLoadBalancerCommandInput) {
    const name = input.Name ?? '';
    if (!validName(name) || name.startsWith('internal-'))
      elbError('ValidationError', `The load balancer name '${name}' is invalid: at most 32 alphanumeric characters and hyphens, not beginning or ending with a hyphen, not beginning with 'internal-'`);
    const type = (input.Type ?? 'application') as LoadBalancerType;
    if (!ARN_TYPE[type]) elbError('ValidationError', `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network, gateway]`);
    const subnets = [...(input.Subnets ?? []), ...(input.SubnetMappings ?? []).map((m) => m.SubnetId ?? '')];
    if (subnets.length === 0) elbError('SubnetNotFound', 'The specified subnet does not exist.');
    if (type === 'application' && new Set(subnets).size < 2) elbError('ValidationError', 'At least two subnets in two different Availability Zones must be specified');
    const existing = [...this.loadBalancers.values()].find((lb) => lb.name === name);
    // CreateLoadBalancer is idempotent for the same settings; a name in use otherwise is refused.
    if (existing && existing.type !== type) elbError('DuplicateLoadBalancerName', 'A load balancer with the same name already exists');
    const arn = existing?.arn ?? this.addLoadBalancer({ name, type, scheme: input.Scheme === 'internal' ? 'internal' : 'internet-facing' });
    if (!existing) this.loadBalancers.get(arn)!.subnets = subnets;
    return { LoadBalancers: [this.describeLoadBalancer(this.loadBalancers.get(arn)!)] };
  }

  createTargetGroup(input: CreateTargetGroupCommandInput) {
    const name = input.Name ?? '';
    if (!validName(name)) elbError('ValidationError', `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-), at most 32, not beginning or ending with a hyphen`);
    const targetType = input.TargetType ?? 'instance';
    if (['instance', 'ip', 'alb'].includes(targetType))
      for (const [field, label] of [['Protocol', 'protocol'], ['Port', 'port'], ['VpcId', 'VPC ID']] as const)
        if (input[field] === undefined) elbError('ValidationError', `A ${label} must be specified`);
    const existing = [...this.targetGroups.values()].find((g) => g.name === name);
    if (existing) {
      // Idempotent for the same settings (ELB API reference), refused otherwise.
      if (existing.protocol !== input.Protocol || existing.port !== input.Port || existing.vpcId !== input.VpcId || existing.targetType !== targetType)
        elbError('DuplicateTargetGroupName', 'A target group with the same name exists, but with different settings');
      return { TargetGroups: [this.describeTargetGroup(existing)] };
    }
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:targetgroup/${name}/${idOf(`targetgroup/${name}`)}`;
    const group: SimTargetGroup = { arn, name, protocol: input.Protocol, port: input.Port, vpcId: input.VpcId, targetType, loadBalancerArns: [] };
    this.targetGroups.set(arn, group);
    return { TargetGroups: [this.describeTargetGroup(group)] };
  }

  /** A listener: the target groups its default actions forward to now belong to its load balancer. */
  createListener(input: CreateListenerCommandInput) {
    const lb = this.loadBalancers.get(input.LoadBalancerArn ?? '') ?? elbError('LoadBalancerNotFound', 'One or more load balancers not found');
    const forwarded = (input.DefaultActions ?? [])
      .filter((a) => a.Type === 'forward')
      .flatMap((a) => [...(a.TargetGroupArn ? [a.TargetGroupArn] : []), ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn ?? '')]);
    const groups = forwarded.map((arn) => this.targetGroups.get(arn) ?? elbError('TargetGroupNotFound', `Target group '${arn}' not found`));
    // "You can register a target group with only one load balancer" (an ALB's, per ELB's quotas).
    const taken = groups.find((g) => g.loadBalancerArns.some((other) => other !== lb.arn));
    if (taken) elbError('TargetGroupAssociationLimit', `The following target groups cannot be associated with more than one load balancer: ${taken.arn}`);
    for (const g of groups) if (!g.loadBalancerArns.includes(lb.arn)) g.loadBalancerArns.push(lb.arn);
    const listenerArn = `${lb.arn.replace(':loadbalancer/', ':listener/')}/${idOf(`${lb.arn}:${input.Port}`)}`;
    return { Listeners: [{ ListenerArn: listenerArn, LoadBalancerArn: lb.arn, Port: input.Port, Protocol: input.Protocol, DefaultActions: input.DefaultActions }] };
  }

  /**
   * DescribeTargetGroups: by ARNs, by names or by load balancer (one of them; none: every group),
   * in pages of PageSize (1-400) behind a NextMarker. An ARN or name that does not exist fails
   * the whole call with TargetGroupNotFound.
   */
  describeTargetGroups(input: DescribeTargetGroupsCommandInput) {
    const filters = [input.LoadBalancerArn, input.TargetGroupArns?.length, input.Names?.length].filter(Boolean).length;
    if (filters > 1) elbError('ValidationError', 'Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time');
    let groups: SimTargetGroup[];
    if (input.LoadBalancerArn) {
      if (!this.loadBalancers.has(input.LoadBalancerArn)) elbError('LoadBalancerNotFound', 'One or more load balancers not found');
      groups = [...this.targetGroups.values()].filter((g) => g.loadBalancerArns.includes(input.LoadBalancerArn!));
    } else if (input.TargetGroupArns?.length) {
      groups = [...new Set(input.TargetGroupArns)].map((arn) => this.targetGroups.get(arn) ?? elbError('TargetGroupNotFound', 'One or more target groups not found'));
    } else if (input.Names?.length) {
      groups = input.Names.map((name) => [...this.targetGroups.values()].find((g) => g.name === name) ?? elbError('TargetGroupNotFound', 'One or more target groups not found'));
    } else groups = [...this.targetGroups.values()];
    return this.paged(groups.map((g) => this.describeTargetGroup(g)), 'TargetGroups', input.PageSize, input.Marker);
  }

  /** DescribeLoadBalancers: by ARNs or by names (at most 20), or every one; a missing one fails the call. */
  describeLoadBalancers(input: DescribeLoadBalancersCommandInput) {
    if (input.LoadBalancerArns?.length && input.Names?.length) elbError('ValidationError', 'Load balancer names and load balancer ARNs cannot be specified at the same time');
    if ((input.Names?.length ?? 0) > 20)
      elbError('ValidationError', `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 20`);
    const all = [...this.loadBalancers.values()];
    const missing = () => elbError('LoadBalancerNotFound', 'One or more load balancers not found');
    const found = input.LoadBalancerArns?.length
      ? input.LoadBalancerArns.map((arn) => this.loadBalancers.get(arn) ?? missing())
      : input.Names?.length
        ? input.Names.map((name) => all.find((lb) => lb.name === name) ?? missing())
        : all;
    return this.paged(found.map((lb) => this.describeLoadBalancer(lb)), 'LoadBalancers', input.PageSize, input.Marker);
  }

  private paged<K extends string, T>(items: T[], key: K, pageSize = 400, marker?: string) {
    if (pageSize < 1 || pageSize > 400) elbError('ValidationError', `1 validation error detected: Value '${pageSize}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400`);
    const from = marker ? Number(Buffer.from(marker, 'base64').toString()) : 0;
    if (!Number.isInteger(from) || from < 0) elbError('ValidationError', 'Invalid marker');
    const page = items.slice(from, from + pageSize);
    return { [key]: page, ...(from + pageSize < items.length ? { NextMarker: Buffer.from(String(from + pageSize)).toString('base64') } : {}) } as { [k in K]: T[] } & { NextMarker?: string };
  }

  private describeLoadBalancer(lb: SimLoadBalancer) {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: 'Z32O12XQLNTSW2',
      CreatedTime: lb.createdAt,
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: lb.vpcId,
      State: { Code: 'active' as const },
      Type: lb.type,
      AvailabilityZones: lb.subnets.map((SubnetId, i) => ({ ZoneName: `${this.region}${'abc'[i % 3]}`, SubnetId })),
      IpAddressType: 'ipv4' as const,
    };
  }

  private describeTargetGroup(g: SimTargetGroup) {
    return {
      TargetGroupArn: g.arn,
      TargetGroupName: g.name,
      ...(g.protocol ? { Protocol: g.protocol as 'HTTP' } : {}),
      ...(g.port !== undefined ? { Port: g.port } : {}),
      ...(g.vpcId ? { VpcId: g.vpcId } : {}),
      HealthCheckProtocol: (g.protocol ?? 'HTTP') as 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200' },
      LoadBalancerArns: [...g.loadBalancerArns],
      TargetType: g.targetType as 'ip',
      IpAddressType: 'ipv4' as const,
    };
  }

  /** The first `count` targets of the group fail their health checks (0: all healthy again). */
  setUnhealthy(targetGroupArn: string, count: number, reason = 'Target.ResponseCodeMismatch: Health checks failed with these codes: [502]'): void {
    if (count > 0) this.unhealthy.set(targetGroupArn, { count, reason });
    else this.unhealthy.delete(targetGroupArn);
  }

  describeTargetHealth(input: { TargetGroupArn?: string }) {
    const arn = input.TargetGroupArn ?? '';
    const service = this.ecs.serviceWithTargetGroup(arn);
    if (!service) return elbError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    const bad = this.unhealthy.get(arn);
    const index = service.serviceName.length % 200;
    return {
      TargetHealthDescriptions: Array.from({ length: service.runningCount }, (_, k) => {
        const failing = bad !== undefined && k < bad.count;
        const at = failing ? bad.reason.indexOf(': ') : -1;
        const [reason, description] = failing ? (at < 0 ? [bad.reason, undefined] : [bad.reason.slice(0, at), bad.reason.slice(at + 2)]) : [];
        return {
          Target: { Id: `10.0.${index}.${10 + k}`, Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: failing ? { State: 'unhealthy', Reason: reason, Description: description } : { State: 'healthy' },
        };
      }),
    };
  }
}

export type FunctionHandler = (event: unknown) => Promise<unknown> | unknown;

/** Lambda, as far as the canary invokes it: the pairs' hook functions, scripted by tests. */
export class LambdaModel {
  private functions = new Map<string, FunctionHandler>();
  readonly invocations: { functionArn: string; payload: unknown }[] = [];

  define(functionArn: string, handler: FunctionHandler): void {
    this.functions.set(functionArn, handler);
  }

  async invoke(input: { FunctionName?: string; Payload?: Uint8Array }) {
    const arn = input.FunctionName ?? '';
    const handler = this.functions.get(arn);
    if (!handler) return awsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
    const payload = input.Payload ? JSON.parse(new TextDecoder().decode(input.Payload)) : null;
    this.invocations.push({ functionArn: arn, payload });
    const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v ?? null));
    try {
      return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(await handler(payload)) };
    } catch (e) {
      const error = e as Error;
      return { StatusCode: 200, ExecutedVersion: '$LATEST', FunctionError: 'Unhandled', Payload: encode({ errorType: error.name, errorMessage: error.message }) };
    }
  }
}

/** Secrets Manager: named secrets whose ARN ends in a random six-character suffix, as AWS makes them. */
export class SecretsModel {
  private secrets = new Map<string, { arn: string; value: string }>();

  constructor(
    private account: string,
    private region: string,
  ) {}

  put(name: string, value: string): string {
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${Buffer.from(name).toString('base64').replace(/[^A-Za-z]/g, '').padEnd(6, 'x').slice(0, 6)}`;
    this.secrets.set(name, { arn, value });
    return arn;
  }

  /** The ARN of a secret given by name or ARN; undefined if there is none. */
  arnOf(id: string): string | undefined {
    return [...this.secrets.entries()].find(([name, s]) => name === id || s.arn === id)?.[1].arn;
  }

  getSecretValue(input: { SecretId?: string }) {
    const entry = [...this.secrets.entries()].find(([name, s]) => name === input.SecretId || s.arn === input.SecretId);
    if (!entry) return awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return { ARN: entry[1].arn, Name: entry[0], SecretString: entry[1].value, VersionId: 'simulated', VersionStages: ['AWSCURRENT'] };
  }
}

export interface HttpAnswer {
  status: number;
  body?: string;
}

/**
 * The services' own HTTP endpoints (green's load balancer, say), whose answers tests script.
 * While the account is installed, `fetch` to a host it knows is answered here, with no network.
 */
export class HttpModel {
  private endpoints = new Map<string, (request: { url: string; headers: Record<string, string> }) => HttpAnswer>();
  readonly requests: { at: number; url: string; headers: Record<string, string> }[] = [];

  /** Answers GETs of `url` (exactly) with `answer`, a fixed answer or a function of the request. */
  serve(url: string, answer: HttpAnswer | ((request: { url: string; headers: Record<string, string> }) => HttpAnswer)): void {
    this.endpoints.set(url, typeof answer === 'function' ? answer : () => answer);
  }

  knows(url: string): boolean {
    const host = new URL(url).host;
    return [...this.endpoints.keys()].some((u) => new URL(u).host === host);
  }

  fetch(url: string, headers: Record<string, string>): Response {
    this.requests.push({ at: Date.now(), url, headers });
    const endpoint = this.endpoints.get(url);
    const { status, body } = endpoint ? endpoint({ url, headers }) : { status: 404, body: 'Not Found' };
    return new Response(body ?? '', { status });
  }
}
