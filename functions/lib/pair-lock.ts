import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { deleteIf, getItem, putIf, scanAll, updateIf, type Item } from './aws/dynamodb.js';
import { describeExecution } from './aws/stepfunctions.js';
import { requiredEnv } from './env.js';
import type { Plan } from './canary-state.js';
import type { Deployment } from './deployment-event.js';
import { fail } from './errors.js';
import { logger } from './log.js';

/**
 * One canary per pair. A DynamoDB item per pair, written with a condition, says which
 * execution moves the pair's traffic: claimed by Preflight before any check of DNS, released
 * by Promote and Roll back (and by the safety net for a run that could not release it), and
 * expiring on its own after the canary's deadline (DynamoDB TTL on `expiresAt`; an expired
 * claim is free to take even before TTL deletes it).
 */
/** Who asked, and when (ISO time). */
export interface OperatorRequest {
  by: string;
  at: string;
}

/** Why the run must stop: the error and cause its rollback reports. */
export interface StopRequest extends OperatorRequest {
  error: string;
  cause: string;
}

export interface Approval extends OperatorRequest {
  step: number;
}

/** Where the run is, for `status`. */
export interface Progress {
  step: number;
  of: number;
  greenPercent: number;
  /** When green got this step's weight (the rollback's DetectionSeconds count from it). */
  shiftedAt?: string;
  verdict?: 'HEALTHY' | 'UNHEALTHY' | 'INCONCLUSIVE';
  reasons?: string[];
  /** Decides nothing, worth seeing: blue's own alarms, alarms with no data. */
  notes?: string[];
  /** Green against blue: the numbers of the latest verdict (analysis.ts summaryLine). */
  analysis?: string;
  /** Observe mode: what would have rolled back. */
  wouldRollBack?: string;
  checkedAt?: string;
  bakeEndsAt?: string;
  gate?: 'NONE' | 'WAITING' | 'APPROVED' | 'TIMED_OUT';
  gateEndsAt?: string;
}

export interface PairClaim {
  pair: string;
  executionArn: string;
  deploymentId: string;
  blue: Plan['blue'];
  green: Plan['green'];
  hostedZoneId: string;
  recordName: string;
  recordType: string;
  /** The plan's: the safety net and the sweep restore the records through the same role. */
  dnsRole?: Plan['dnsRole'];
  steps: number[];
  /**
   * PROMOTING once Promote has started: the safety net then leaves a finished promotion alone.
   * STOPPED once the safety net has taken over a stopped run: no task of that run writes any more.
   */
  phase: 'CANARY' | 'PROMOTING' | 'ROLLING_BACK' | 'STOPPED';
  /** Epoch seconds at which the run was fenced off (phase STOPPED). */
  stoppedAt?: number;
  /** The task token of the run's listener: failing it stops the canary at once. */
  listenToken?: string;
  /** The task token of the gate the run waits at: succeeding it wakes the run. */
  gateToken?: string;
  stopRequested?: StopRequest;
  promoteRequested?: OperatorRequest;
  approved?: Approval;
  progress?: Progress;
  claimedAt: string;
  /** Epoch seconds. */
  expiresAt: number;
}

const key = (pair: string) => ({ pair: { S: pair } });
const nowSeconds = () => Math.floor(Date.now() / 1000);
const json = <T>(v: AttributeValue | undefined): T | undefined => (v?.S ? (JSON.parse(v.S) as T) : undefined);

/** A claim as its DynamoDB item. */
export const claimItem = (c: PairClaim): Item => ({
  pair: { S: c.pair },
  executionArn: { S: c.executionArn },
  expiresAt: { N: String(c.expiresAt) },
  phase: { S: c.phase },
  claim: { S: JSON.stringify(c) },
});

/** The claim document, with the attributes updated in place (phase, tokens, requests, progress). */
export function claimOf(item: Item | undefined): PairClaim | undefined {
  if (!item?.claim?.S) return undefined;
  const doc = JSON.parse(item.claim.S) as PairClaim;
  const extra = {
    stoppedAt: item.stoppedAt?.N ? Number(item.stoppedAt.N) : undefined,
    listenToken: item.listenToken?.S,
    gateToken: item.gateToken?.S,
    stopRequested: json<StopRequest>(item.stopRequested),
    promoteRequested: json<OperatorRequest>(item.promoteRequested),
    approved: json<Approval>(item.approved),
    progress: json<Progress>(item.progress),
  };
  return {
    ...doc,
    phase: (item.phase?.S as PairClaim['phase']) ?? 'CANARY',
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
  };
}

/** The stack's claims table, as the function's grant names it (LOCK_TABLE). The CLI passes its own. */
export const lockTable = (): string => requiredEnv('LOCK_TABLE');

// One function per call (not a class): each bundle holds, and each role is granted, only the calls it makes.

export async function readClaim(pair: string, table = lockTable()): Promise<PairClaim | undefined> {
  return claimOf(await getItem(table, key(pair)));
}

/** Every claim held now (one per pair with a canary, or with a run left to restore). */
export async function listClaims(table = lockTable()): Promise<PairClaim[]> {
  return (await scanAll(table)).map(claimOf).filter((c): c is PairClaim => c !== undefined);
}

/**
 * Claims the pair for `claim.executionArn`: succeeds when nobody holds it, the claim has
 * expired, or this execution already holds it (a retried Preflight). Otherwise returns the holder.
 */
export async function claimPair(claim: PairClaim, table = lockTable()): Promise<{ claimed: true } | { claimed: false; holder: PairClaim | undefined }> {
  const ok = await putIf(table, claimItem(claim), 'attribute_not_exists(#pair) OR #owner = :me OR #expiresAt < :now', { '#pair': 'pair', '#owner': 'executionArn', '#expiresAt': 'expiresAt' }, {
    ':me': { S: claim.executionArn },
    ':now': { N: String(nowSeconds()) },
  });
  return ok ? { claimed: true } : { claimed: false, holder: await readClaim(claim.pair, table) };
}

/** Takes the pair over from a holder whose execution is no longer running. */
export function takeOver(claim: PairClaim, staleOwner: string, table = lockTable()): Promise<boolean> {
  return putIf(table, claimItem(claim), '#owner = :stale', { '#owner': 'executionArn' }, { ':stale': { S: staleOwner } });
}

/** Releases the pair if this execution holds it; false when it did not (already released, or another's). */
export function releasePair(pair: string, executionArn: string, table = lockTable()): Promise<boolean> {
  return deleteIf(table, key(pair), '#owner = :me', { '#owner': 'executionArn' }, { ':me': { S: executionArn } });
}

/** While the run is still a canary (not promoting, not stopping, no stop asked for). */
const LIVE = '#phase = :canary AND attribute_not_exists(#stop)';

/** SET `assignments` while `executionArn` holds the pair and `condition` holds too; the claim after, or undefined. */
async function updateClaim(table: string, pair: string, executionArn: string, assignments: Record<string, AttributeValue>, condition = 'attribute_exists(#pair)'): Promise<PairClaim | undefined> {
  const names: Record<string, string> = { '#owner': 'executionArn', '#pair': 'pair', '#phase': 'phase', '#stop': 'stopRequested' };
  const values: Item = { ':me': { S: executionArn }, ':canary': { S: 'CANARY' }, ':promoting': { S: 'PROMOTING' } };
  const sets = Object.entries(assignments).map(([attr, value], i) => {
    names[`#a${i}`] = attr;
    values[`:v${i}`] = value;
    return `#a${i} = :v${i}`;
  });
  const update = `SET ${sets.join(', ')}`;
  const where = `#owner = :me AND (${condition})`;
  // DynamoDB refuses names and values an expression does not use.
  const used = <T>(all: Record<string, T>) => Object.fromEntries(Object.entries(all).filter(([k]) => new RegExp(`${k}\\b`).test(`${update} ${where}`)));
  const item = await updateIf(table, key(pair), update, where, used(names), used(values));
  return item && claimOf(item);
}

/**
 * Promote may go ahead only while the run still holds the pair as a canary and nobody asked it
 * to stop. Idempotent: a retried Promote finds PROMOTING and goes ahead too. Returns the claim
 * (its listenToken: the listener to end), or undefined.
 */
export const markPromoting = (pair: string, executionArn: string, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { phase: { S: 'PROMOTING' } }, `${LIVE} OR #phase = :promoting`);

/** The rollback path fences the run off first: a shift still in flight finds it and puts blue back. */
export const markRollingBack = (pair: string, executionArn: string, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { phase: { S: 'ROLLING_BACK' } });

/** The safety net fences a stopped run off: its in-flight tasks find STOPPED and do not write. */
export const markStopped = async (pair: string, executionArn: string, table = lockTable()): Promise<boolean> =>
  (await updateClaim(table, pair, executionArn, { phase: { S: 'STOPPED' }, stoppedAt: { N: String(nowSeconds()) } })) !== undefined;

/** Keeps a task token of the run with its claim (the listener's, or the gate's), while it is a live canary. */
export const parkToken = (pair: string, executionArn: string, slot: 'listen' | 'gate', token: string, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { [`${slot}Token`]: { S: token } }, LIVE);

/** Asks the run to stop (an alarm, an ECS event, an operator's abort or reject). Only the first ask counts. */
export const requestStop = (pair: string, executionArn: string, stop: StopRequest, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { stopRequested: { S: JSON.stringify(stop) } }, LIVE);

/** An operator's promote: the remaining bakes are skipped after the next healthy judgement. */
export const requestPromotion = (pair: string, executionArn: string, request: OperatorRequest, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { promoteRequested: { S: JSON.stringify(request) } }, LIVE);

/** An operator's approval of the gate at `approval.step`. */
export const approveGate = (pair: string, executionArn: string, approval: Approval, table = lockTable()) =>
  updateClaim(table, pair, executionArn, { approved: { S: JSON.stringify(approval) } }, LIVE);

/** Where the run is (for `status`): written by Shift traffic and Judge green. */
export const recordProgress = async (pair: string, executionArn: string, progress: Progress, table = lockTable()): Promise<void> =>
  void (await updateClaim(table, pair, executionArn, { progress: { S: JSON.stringify(progress) } }));

/** What the canary domain reads and writes of a claim: GetItem and conditional UpdateItem only. */
export interface CanaryClaims {
  read(pair: string): Promise<PairClaim | undefined>;
  markPromoting(pair: string, executionArn: string): Promise<PairClaim | undefined>;
  markRollingBack(pair: string, executionArn: string): Promise<PairClaim | undefined>;
  parkToken(pair: string, executionArn: string, slot: 'listen' | 'gate', token: string): Promise<PairClaim | undefined>;
  requestStop(pair: string, executionArn: string, stop: StopRequest): Promise<PairClaim | undefined>;
  requestPromotion(pair: string, executionArn: string, request: OperatorRequest): Promise<PairClaim | undefined>;
  approve(pair: string, executionArn: string, approval: Approval): Promise<PairClaim | undefined>;
}

/** The claims of `table`, as the canary domain uses them. */
export const canaryClaims = (table: string): CanaryClaims => ({
  read: (pair) => readClaim(pair, table),
  markPromoting: (pair, arn) => markPromoting(pair, arn, table),
  markRollingBack: (pair, arn) => markRollingBack(pair, arn, table),
  parkToken: (pair, arn, slot, token) => parkToken(pair, arn, slot, token, table),
  requestStop: (pair, arn, stop) => requestStop(pair, arn, stop, table),
  requestPromotion: (pair, arn, request) => requestPromotion(pair, arn, request, table),
  approve: (pair, arn, approval) => approveGate(pair, arn, approval, table),
});

export function claimFor(plan: Plan, executionTimeoutSeconds: number): PairClaim {
  return {
    pair: plan.pair,
    executionArn: plan.executionArn,
    deploymentId: plan.deploymentId,
    blue: plan.blue,
    green: plan.green,
    hostedZoneId: plan.hostedZoneId,
    recordName: plan.recordName,
    recordType: plan.recordType,
    ...(plan.dnsRole ? { dnsRole: plan.dnsRole } : {}),
    steps: plan.steps,
    phase: 'CANARY',
    claimedAt: new Date().toISOString(),
    // an hour past the deadline: time enough for the rollback path and the safety net
    expiresAt: nowSeconds() + executionTimeoutSeconds + 3600,
  };
}

/**
 * One canary per pair. A held pair is taken over when its holder's execution is no longer
 * running; a newer deployment of the same green waits (PairBusy, retried by the state
 * machine) while the running canary, whose judge sees its deployment replaced, rolls back;
 * a deployment of the side the running canary treats as live is refused.
 */
export async function claimForCanary(plan: Plan, executionTimeoutSeconds: number, deployment: Pick<Deployment, 'cluster' | 'service' | 'deploymentId'>): Promise<void> {
  const wanted = claimFor(plan, executionTimeoutSeconds);
  const result = await claimPair(wanted);
  if (result.claimed) return;
  const holder = result.holder;
  if (!holder) {
    // released between the write and the read: try once more
    if ((await claimPair(wanted)).claimed) return;
    fail('PairBusy', `pair ${plan.pair} is being claimed by another canary; retrying`);
  }
  // Only a definite answer frees the pair: an execution that ended, or one Step Functions does not know.
  const { status } = await describeExecution(holder!.executionArn).catch((e: Error) => {
    if (e.name === 'ExecutionDoesNotExist') return { status: 'DOES_NOT_EXIST' };
    throw e;
  });
  if (status !== 'RUNNING' && (await takeOver(wanted, holder!.executionArn))) {
    logger.warn('took over the pair from an execution that is no longer running', { previous: holder!.executionArn, previousStatus: status });
    return;
  }
  const side = `${deployment.cluster}/${deployment.service}`;
  if (holder!.blue.service === deployment.service && holder!.blue.cluster === deployment.cluster)
    fail('CanaryInProgress', `canary ${holder!.executionArn} is moving traffic from ${side} (live) to ${holder!.green.cluster}/${holder!.green.service}; a deployment to the live side is refused while it runs`);
  fail('PairBusy', `canary ${holder!.executionArn} of ${holder!.deploymentId} still holds pair ${plan.pair}; it rolls back once it sees ${side} on ${deployment.deploymentId}, then this canary starts`);
}
