/** Pure judgements of green's health: what ECS and CloudWatch say, in, a verdict, out. */
import type { Judgement, Plan, Status } from './canary-state.js';
import type { PairClaim } from './pair-lock.js';

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

/** What the comparison of green with blue said at this check (absent: the pair has no analysis). */
export interface AnalysisVerdict {
  outcome: 'HEALTHY' | 'UNHEALTHY' | 'INCONCLUSIVE';
  reasons: string[];
  mode: 'enforce' | 'observe';
  maxBakeSeconds: number;
  onInconclusive: 'rollback' | 'promote' | 'approval';
  /** INCONCLUSIVE only because the evidence leans against green: at maxBakeSeconds the step passes. */
  leaningOnly?: boolean;
}

/**
 * Bake and gate, from one check's reasons: the bake of a step starts at its first check and is
 * complete once a healthy check comes at or after its end. With analysis (enforced), green
 * against blue adds its reasons when UNHEALTHY; while it is INCONCLUSIVE (too little data) the
 * verdict is INCONCLUSIVE and the bake extends, up to maxBakeSeconds from its start; then
 * onInconclusive: `rollback` (the judgement says `giveUp`), `promote` (the bake completes) or
 * `approval` (a gate), except when it was held only because the evidence leaned against green
 * (`leaningOnly`): the test never reached 1/α, so the bake completes. Observe mode changes nothing here. At a gate step (approval.atPercent)
 * a complete bake opens the gate: WAITING until approved (APPROVED), or until the gate's
 * timeout (TIMED_OUT with onTimeout rollback, which rolls back; APPROVED with onTimeout
 * promote). An operator's promote completes the bake and passes any gate; an operator's or an
 * event's stop makes green unhealthy (the listener normally stopped the run already).
 */
export function judgementAfter(
  plan: Plan,
  status: Status,
  previous: Judgement | null,
  reasons: string[],
  claim: PairClaim | undefined,
  now: number,
  analysis?: AnalysisVerdict,
): Judgement & { giveUp?: string } {
  const sameStep = previous?.step === status.step ? previous : null;
  const bakeStartedAt = sameStep ? Date.parse(sameStep.bakeStartedAt) : now;
  const bakeEndsAt = bakeStartedAt + plan.bakeSeconds * 1000;
  const all = [...reasons];
  if (claim?.stopRequested) all.push(`${claim.stopRequested.error}: ${claim.stopRequested.cause}`);
  if (claim && claim.executionArn !== plan.executionArn) all.push(`pair ${plan.pair} is now held by ${claim.executionArn}`);
  const enforced = analysis?.mode === 'enforce' ? analysis : undefined;
  if (enforced?.outcome === 'UNHEALTHY') all.push(...enforced.reasons);
  const promoteRequested = Boolean(claim?.promoteRequested);
  let healthy = all.length === 0;
  const inconclusive = healthy && enforced?.outcome === 'INCONCLUSIVE' && !promoteRequested;
  let bakeComplete = healthy && !inconclusive && (now >= bakeEndsAt || promoteRequested);
  let giveUp: string | undefined;
  let gateForInconclusive = false;
  if (inconclusive && now >= bakeEndsAt && now >= bakeStartedAt + enforced!.maxBakeSeconds * 1000) {
    const why = `no verdict on green after ${Math.round((now - bakeStartedAt) / 1000)} s at ${status.greenPercent} % (maxBakeSeconds ${enforced!.maxBakeSeconds}): ${enforced!.reasons.join('; ')}`;
    if (enforced!.leaningOnly) bakeComplete = true; // the test never reached 1/α in the whole bake: green passes
    else if (enforced!.onInconclusive === 'rollback') giveUp = why;
    else if (enforced!.onInconclusive === 'promote') bakeComplete = true;
    else ((gateForInconclusive = true), (bakeComplete = true));
  }
  let gate: Judgement['gate'] = 'NONE';
  let gateOpenedAt = sameStep?.gateOpenedAt;
  const atGate = (plan.approval?.atPercent.includes(status.greenPercent) && status.step < status.of) || gateForInconclusive;
  if (healthy && bakeComplete && atGate && !promoteRequested) {
    gateOpenedAt ??= new Date(now).toISOString();
    const timedOut = now >= Date.parse(gateOpenedAt) + plan.approval!.timeoutSeconds * 1000;
    if (claim?.approved?.step === status.step) gate = 'APPROVED';
    else if (!timedOut) gate = 'WAITING';
    else if (plan.approval!.onTimeout === 'promote') gate = 'APPROVED';
    else {
      gate = 'TIMED_OUT';
      all.push(`ApprovalTimedOut: no approval within ${plan.approval!.timeoutSeconds} s at green ${status.greenPercent} % (onTimeout: rollback)`);
      healthy = false;
      bakeComplete = false;
    }
  }
  const pending = inconclusive && healthy ? enforced!.reasons : [];
  const shown = [...all, ...pending];
  return {
    step: status.step,
    verdict: !healthy ? 'UNHEALTHY' : inconclusive ? 'INCONCLUSIVE' : 'HEALTHY',
    reasons: shown,
    reason: shown.join('; '),
    checks: (sameStep?.checks ?? 0) + 1,
    checkedAt: new Date(now).toISOString(),
    bakeStartedAt: new Date(bakeStartedAt).toISOString(),
    bakeEndsAt: new Date(bakeEndsAt).toISOString(),
    bakeComplete,
    gate,
    ...(gateOpenedAt ? { gateOpenedAt } : {}),
    ...(promoteRequested ? { promoteRequested } : {}),
    ...(giveUp ? { giveUp } : {}),
  };
}
