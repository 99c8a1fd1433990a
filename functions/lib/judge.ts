/** Pure judgements of green's health: what ECS and CloudWatch say, in, a verdict, out. */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmStatus {
  name: string;
  kind: 'metric' | 'composite';
  state: AlarmStateValue;
  reason: string;
}

export interface DeploymentStatus {
  id: string;
  status: string; // PRIMARY | ACTIVE | INACTIVE
  rolloutState: string; // IN_PROGRESS | COMPLETED | FAILED
  rolloutStateReason?: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  failedTasks: number;
}

export interface ServiceStatus {
  cluster: string;
  service: string;
  status: string; // ACTIVE | DRAINING | INACTIVE
  desiredCount: number;
  runningCount: number;
  taskDefinition: string;
  /** ARNs of the target groups the service registers its tasks with. */
  targetGroups: string[];
  deployments: DeploymentStatus[];
}

export interface TargetStatus {
  targetGroupArn: string;
  /** `id:port` */
  target: string;
  state: string; // initial | healthy | unhealthy | unused | draining | unavailable
  reason: string;
}

export interface Verdict {
  healthy: boolean;
  reasons: string[];
}

const verdict = (reasons: string[]): Verdict => ({ healthy: reasons.length === 0, reasons });

/** The service's PRIMARY deployment: the one ECS is rolling out or has rolled out. */
export const primaryOf = (s: ServiceStatus) => s.deployments.find((d) => d.status === 'PRIMARY');

/** Alarms that say green is failing. INSUFFICIENT_DATA is not a failure: a quiet canary has no data yet. */
export function alarmReasons(alarms: readonly AlarmStatus[]): string[] {
  return alarms.filter((a) => a.state === 'ALARM').map((a) => `${a.kind} alarm ${a.name} is in ALARM: ${a.reason}`);
}

/**
 * Green during the canary: the service must still run every desired task of the deployment
 * the canary started with, and no other deployment may have failed or replaced it (a
 * circuit-breaker rollback shows up as a new PRIMARY with another task definition).
 */
export function serviceReasons(s: ServiceStatus, expected: { deploymentId: string; taskDefinition: string }): string[] {
  const name = `${s.cluster}/${s.service}`;
  const reasons: string[] = [];
  if (s.status !== 'ACTIVE') reasons.push(`service ${name} is ${s.status}`);
  if (s.desiredCount === 0) reasons.push(`service ${name} has no desired tasks`);
  else if (s.runningCount < s.desiredCount) reasons.push(`service ${name} runs ${s.runningCount} of ${s.desiredCount} desired tasks`);
  const primary = primaryOf(s);
  if (!primary) reasons.push(`service ${name} has no primary deployment`);
  else {
    if (primary.id !== expected.deploymentId)
      reasons.push(`service ${name} is now on deployment ${primary.id} (${primary.rolloutState}), not ${expected.deploymentId}`);
    if (primary.taskDefinition !== expected.taskDefinition)
      reasons.push(`service ${name} runs task definition ${primary.taskDefinition}, not ${expected.taskDefinition}`);
  }
  for (const d of s.deployments) {
    if (d.rolloutState === 'FAILED') reasons.push(`deployment ${d.id} of ${name} FAILED${d.rolloutStateReason ? `: ${d.rolloutStateReason}` : ''}`);
  }
  return reasons;
}

/** Every registered target of green's target groups must be healthy; the others are named. */
export function targetReasons(targets: readonly TargetStatus[]): string[] {
  return targets
    .filter((t) => t.state !== 'healthy')
    .map((t) => `target ${t.target} of ${t.targetGroupArn.split(':').at(-1)} is ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
}

export function judgeGreen(input: {
  alarms: readonly AlarmStatus[];
  service: ServiceStatus;
  targets?: readonly TargetStatus[];
  expected: { deploymentId: string; taskDefinition: string };
}): Verdict {
  return verdict([...alarmReasons(input.alarms), ...serviceReasons(input.service, input.expected), ...targetReasons(input.targets ?? [])]);
}

/**
 * Green before the first shift must be steady on exactly the deployment the event names:
 * one deployment, PRIMARY, COMPLETED, every desired task running.
 */
export function steadyReasons(s: ServiceStatus, deploymentId: string, { scalingUp = false } = {}): string[] {
  const name = `${s.cluster}/${s.service}`;
  const primary = primaryOf(s);
  if (!primary) return [`service ${name} has no primary deployment`];
  const reasons: string[] = [];
  if (primary.id !== deploymentId) reasons.push(`primary deployment of ${name} is ${primary.id}, not ${deploymentId}`);
  if (primary.rolloutState !== 'COMPLETED') reasons.push(`deployment ${primary.id} of ${name} is ${primary.rolloutState}, not COMPLETED`);
  if (s.deployments.length > 1) reasons.push(`service ${name} has ${s.deployments.length} deployments; wait until only the new one remains`);
  if (s.status !== 'ACTIVE') reasons.push(`service ${name} is ${s.status}`);
  // a side about to be scaled up may run fewer tasks (even none) until then
  if (scalingUp) return reasons;
  if (s.desiredCount === 0) reasons.push(`service ${name} has no desired tasks`);
  else if (s.runningCount !== s.desiredCount) reasons.push(`service ${name} runs ${s.runningCount} of ${s.desiredCount} desired tasks`);
  return reasons;
}
