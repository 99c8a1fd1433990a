import type { DescribeServicesCommandInput } from '@aws-sdk/client-ecs';
import { awsError } from './errors.js';

export interface SimDeployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  failedTasks: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SimService {
  cluster: string;
  serviceName: string;
  serviceArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  runningCount: number;
  taskDefinition: string;
  deployments: SimDeployment[];
  /** The target groups its tasks register with. */
  loadBalancers: { targetGroupArn: string; containerName: string; containerPort: number }[];
}

/** `ECS Deployment State Change` as EventBridge delivers it. */
export interface EcsDeploymentEvent {
  version: '0';
  id: string;
  'detail-type': 'ECS Deployment State Change';
  source: 'aws.ecs';
  account: string;
  time: string;
  region: string;
  resources: [string];
  detail: { eventType: 'INFO' | 'ERROR'; eventName: string; deploymentId: string; updatedAt: string; reason: string };
}

/**
 * ECS services with deployments that roll out over (virtual) time. A deployment is PRIMARY
 * and IN_PROGRESS for `rolloutMs`, then COMPLETED with every desired task running; ECS then
 * emits SERVICE_DEPLOYMENT_COMPLETED, which the simulated account passes to its listeners.
 */
export class EcsModel {
  rolloutMs = 90_000;
  /** How long a change of desired count takes to be running. */
  scaleMs = 30_000;
  private services = new Map<string, SimService>();
  private counter = 0;
  private listeners: ((e: EcsDeploymentEvent) => void)[] = [];

  constructor(
    private account: string,
    private region: string,
  ) {}

  onDeploymentEvent(listener: (e: EcsDeploymentEvent) => void): void {
    this.listeners.push(listener);
  }

  private key = (cluster: string, service: string) => `${cluster.replace(/^.*cluster\//, '')}/${service.replace(/^.*service\/[^/]+\//, '')}`;

  service(cluster: string, service: string): SimService {
    const found = this.services.get(this.key(cluster, service));
    if (!found) throw new Error(`simulated ECS has no service ${cluster}/${service}`);
    return found;
  }

  private newDeployment(taskDefinition: string, desiredCount: number, rolloutState: SimDeployment['rolloutState']): SimDeployment {
    const now = new Date();
    const id = `ecs-svc/${String(4_000_000_000_000_000_000n + BigInt(++this.counter))}`;
    const running = rolloutState === 'COMPLETED' ? desiredCount : 0;
    return { id, status: 'PRIMARY', taskDefinition, desiredCount, runningCount: running, pendingCount: desiredCount - running, failedTasks: 0, rolloutState, rolloutStateReason: rolloutState === 'COMPLETED' ? 'ECS deployment completed.' : 'ECS deployment in progress.', createdAt: now, updatedAt: now };
  }

  createService(input: { cluster: string; service: string; taskDefinition: string; desiredCount: number; targetGroupArn?: string }): SimService {
    const s: SimService = {
      cluster: input.cluster,
      serviceName: input.service,
      serviceArn: `arn:aws:ecs:${this.region}:${this.account}:service/${input.cluster}/${input.service}`,
      status: 'ACTIVE',
      desiredCount: input.desiredCount,
      runningCount: input.desiredCount,
      taskDefinition: input.taskDefinition,
      deployments: [this.newDeployment(input.taskDefinition, input.desiredCount, 'COMPLETED')],
      loadBalancers: input.targetGroupArn ? [{ targetGroupArn: input.targetGroupArn, containerName: input.service, containerPort: 8080 }] : [],
    };
    this.clusters.add(this.clusterName(input.cluster));
    this.services.set(this.key(input.cluster, input.service), s);
    return s;
  }

  /** The service whose tasks register with this target group. */
  serviceWithTargetGroup(targetGroupArn: string): SimService | undefined {
    return [...this.services.values()].find((s) => s.loadBalancers.some((lb) => lb.targetGroupArn === targetGroupArn));
  }

  deleteService(cluster: string, service: string): void {
    this.services.delete(this.key(cluster, service));
  }

  private clusters = new Set<string>();
  private clusterName = (cluster: string) => cluster.replace(/^.*cluster\//, '');
  private taskDefinitions = new Map<string, number>();

  createCluster(input: { clusterName?: string }) {
    const name = input.clusterName ?? 'default';
    this.clusters.add(name);
    return { cluster: { clusterName: name, clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${name}`, status: 'ACTIVE' } };
  }

  registerTaskDefinition(input: { family?: string }) {
    const family = input.family!;
    const revision = (this.taskDefinitions.get(family) ?? 0) + 1;
    this.taskDefinitions.set(family, revision);
    return { taskDefinition: { family, revision, taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`, status: 'ACTIVE' } };
  }

  /**
   * CreateService as ECS answers it: the first deployment is PRIMARY and IN_PROGRESS with no
   * task running yet; it completes after `rolloutMs` (createService() above seeds a steady one).
   */
  createServiceCommand(input: { cluster?: string; serviceName?: string; taskDefinition?: string; desiredCount?: number; loadBalancers?: { targetGroupArn?: string }[] }) {
    const cluster = this.clusterName(input.cluster ?? 'default');
    if (!this.clusters.has(cluster)) return awsError('ClusterNotFoundException', 'Cluster not found.');
    const family = input.taskDefinition!.replace(/^.*task-definition\//, '').split(':')[0]!;
    const revision = Number(input.taskDefinition!.split(':').at(-1)) || this.taskDefinitions.get(family);
    if (!revision) return awsError('ClientException', `Unable to describe task definition ${input.taskDefinition}.`);
    const taskDefinition = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`;
    const s = this.createService({ cluster, service: input.serviceName!, taskDefinition, desiredCount: input.desiredCount ?? 0, targetGroupArn: input.loadBalancers?.[0]?.targetGroupArn });
    const d = s.deployments[0]!;
    Object.assign(d, { rolloutState: 'IN_PROGRESS', rolloutStateReason: 'ECS deployment in progress.', runningCount: 0, pendingCount: d.desiredCount });
    s.runningCount = 0;
    this.completeLater(s, d);
    return this.describeServices({ cluster, services: [input.serviceName!] }).services.map((service) => ({ service }))[0]!;
  }

  private completeLater(s: SimService, d: SimDeployment): void {
    const timer = setTimeout(() => {
      if (d.rolloutState !== 'IN_PROGRESS') return;
      d.rolloutState = 'COMPLETED';
      d.rolloutStateReason = 'ECS deployment completed.';
      d.runningCount = d.desiredCount;
      d.pendingCount = 0;
      d.updatedAt = new Date();
      s.deployments = s.deployments.filter((x) => x === d);
      s.runningCount = d.runningCount;
      this.emit(s, d, 'SERVICE_DEPLOYMENT_COMPLETED');
    }, this.rolloutMs);
    (timer as { unref?: () => void }).unref?.();
  }

  /** `aws ecs update-service --task-definition`: starts a rolling deployment; resolves with its id. */
  deploy(cluster: string, service: string, taskDefinition: string): string {
    const s = this.service(cluster, service);
    const previous = s.deployments.find((d) => d.status === 'PRIMARY')!;
    previous.status = 'ACTIVE';
    const d = this.newDeployment(taskDefinition, s.desiredCount, 'IN_PROGRESS');
    s.deployments.unshift(d);
    s.taskDefinition = taskDefinition;
    this.emit(s, d, 'SERVICE_DEPLOYMENT_IN_PROGRESS');
    this.completeLater(s, d);
    return d.id;
  }

  /**
   * UpdateService with a desired count only: no new deployment, the current one scales; its
   * tasks start (or stop) over `scaleMs`. (Also what `aws ecs update-service --desired-count` does.)
   */
  updateService(input: { cluster?: string; service?: string; desiredCount?: number; taskDefinition?: string }) {
    const cluster = input.cluster ?? 'default';
    if (!this.clusters.has(this.clusterName(cluster))) return awsError('ClusterNotFoundException', 'Cluster not found.');
    const s = this.services.get(this.key(cluster, input.service ?? ''));
    if (!s) return awsError('ServiceNotFoundException', 'Service not found.');
    if (input.taskDefinition) return awsError('InvalidParameterException', 'the simulated UpdateService changes desiredCount only; use deploy()');
    if (input.desiredCount !== undefined) {
      const desired = input.desiredCount;
      s.desiredCount = desired;
      const primary = s.deployments.find((d) => d.status === 'PRIMARY')!;
      primary.desiredCount = desired;
      primary.pendingCount = Math.max(0, desired - primary.runningCount);
      const timer = setTimeout(() => {
        if (s.desiredCount !== desired) return;
        primary.runningCount = desired;
        primary.pendingCount = 0;
        s.runningCount = desired;
      }, this.scaleMs);
      (timer as { unref?: () => void }).unref?.();
    }
    return { service: this.describeServices({ cluster, services: [input.service!] }).services[0] };
  }

  /** Tasks stop (or come back): running count of the service and its primary deployment. */
  setRunningCount(cluster: string, service: string, running: number): void {
    const s = this.service(cluster, service);
    s.runningCount = running;
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    if (primary) primary.runningCount = running;
  }

  /** The circuit breaker gives up on the primary deployment. */
  failDeployment(cluster: string, service: string, reason: string): void {
    const s = this.service(cluster, service);
    const d = s.deployments.find((x) => x.status === 'PRIMARY')!;
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = reason;
    this.emit(s, d, 'SERVICE_DEPLOYMENT_FAILED');
  }

  deploymentEvent(s: SimService, d: SimDeployment, eventName: string): EcsDeploymentEvent {
    const now = new Date().toISOString();
    return {
      version: '0',
      id: `sim-${++this.counter}`,
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      account: this.account,
      time: now,
      region: this.region,
      resources: [s.serviceArn],
      detail: {
        eventType: eventName.endsWith('FAILED') ? 'ERROR' : 'INFO',
        eventName,
        deploymentId: d.id,
        updatedAt: now,
        reason: d.rolloutStateReason,
      },
    };
  }

  private emit(s: SimService, d: SimDeployment, eventName: string): void {
    const event = this.deploymentEvent(s, d, eventName);
    for (const listener of this.listeners) listener(event);
  }

  describeServices(input: DescribeServicesCommandInput) {
    const cluster = input.cluster ?? 'default';
    // As ECS: a cluster that does not exist fails the whole call (a missing service is a failure entry).
    if (!this.clusters.has(this.clusterName(cluster))) return awsError('ClusterNotFoundException', 'Cluster not found.');
    const services = [];
    const failures = [];
    for (const name of input.services ?? []) {
      const s = this.services.get(this.key(cluster, name));
      if (!s) failures.push({ arn: `arn:aws:ecs:${this.region}:${this.account}:service/${name}`, reason: 'MISSING' });
      else
        services.push({
          serviceArn: s.serviceArn,
          serviceName: s.serviceName,
          clusterArn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${s.cluster}`,
          status: s.status,
          desiredCount: s.desiredCount,
          runningCount: s.runningCount,
          pendingCount: Math.max(0, s.desiredCount - s.runningCount),
          taskDefinition: s.taskDefinition,
          loadBalancers: structuredClone(s.loadBalancers),
          deployments: structuredClone(s.deployments),
        });
    }
    return { services, failures };
  }
}
