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
export interface PairClaim {
  pair: string;
  executionArn: string;
  deploymentId: string;
  blue: Plan['blue'];
  green: Plan['green'];
  hostedZoneId: string;
  recordName: string;
  recordType: string;
  steps: number[];
  /**
   * PROMOTING once Promote has started: the safety net then leaves a finished promotion alone.
   * STOPPED once the safety net has taken over a stopped run: no task of that run writes any more.
   */
  phase: 'CANARY' | 'PROMOTING' | 'STOPPED';
  /** Epoch seconds at which the run was fenced off (phase STOPPED). */
  stoppedAt?: number;
  claimedAt: string;
  /** Epoch seconds. */
  expiresAt: number;
}

const table = () => requiredEnv('LOCK_TABLE');
const key = (pair: string) => ({ pair: { S: pair } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A claim as its DynamoDB item. */
export const claimItem = (c: PairClaim): Item => ({
  pair: { S: c.pair },
  executionArn: { S: c.executionArn },
  expiresAt: { N: String(c.expiresAt) },
  phase: { S: c.phase },
  claim: { S: JSON.stringify(c) },
});

/** The claim document, with the attributes updated in place (phase, stoppedAt). */
export function claimOf(item: Item | undefined): PairClaim | undefined {
  if (!item?.claim?.S) return undefined;
  return {
    ...(JSON.parse(item.claim.S) as PairClaim),
    phase: (item.phase?.S as PairClaim['phase']) ?? 'CANARY',
    ...(item.stoppedAt?.N ? { stoppedAt: Number(item.stoppedAt.N) } : {}),
  };
}

export async function readClaim(pair: string): Promise<PairClaim | undefined> {
  return claimOf(await getItem(table(), key(pair)));
}

/** Every claim held now (one per pair with a canary, or with a run left to restore). */
export async function listClaims(): Promise<PairClaim[]> {
  return (await scanAll(table())).map(claimOf).filter((c): c is PairClaim => c !== undefined);
}

/**
 * Claims the pair for `claim.executionArn`: succeeds when nobody holds it, the claim has
 * expired, or this execution already holds it (a retried Preflight). Otherwise returns the holder.
 */
export async function claimPair(claim: PairClaim): Promise<{ claimed: true } | { claimed: false; holder: PairClaim | undefined }> {
  const ok = await putIf(table(), claimItem(claim), 'attribute_not_exists(#pair) OR #owner = :me OR #expiresAt < :now', { '#pair': 'pair', '#owner': 'executionArn', '#expiresAt': 'expiresAt' }, {
    ':me': { S: claim.executionArn },
    ':now': { N: String(nowSeconds()) },
  });
  return ok ? { claimed: true } : { claimed: false, holder: await readClaim(claim.pair) };
}

/** Takes the pair over from a holder whose execution is no longer running. */
export function takeOver(claim: PairClaim, staleOwner: string): Promise<boolean> {
  return putIf(table(), claimItem(claim), '#owner = :stale', { '#owner': 'executionArn' }, { ':stale': { S: staleOwner } });
}

/**
 * Promote may go ahead only while the run still holds the pair and the safety net has not
 * stopped it. Idempotent: a retried Promote finds PROMOTING and goes ahead too.
 */
export const markPromoting = (pair: string, executionArn: string) =>
  updateIf(table(), key(pair), 'SET #phase = :phase', '#owner = :me AND #phase <> :stopped', { '#phase': 'phase', '#owner': 'executionArn' }, {
    ':phase': { S: 'PROMOTING' },
    ':me': { S: executionArn },
    ':stopped': { S: 'STOPPED' },
  });

/** The safety net fences a stopped run off: its in-flight tasks find STOPPED and do not write. */
export const markStopped = (pair: string, executionArn: string) =>
  updateIf(table(), key(pair), 'SET #phase = :phase, #stoppedAt = :now', '#owner = :me', { '#phase': 'phase', '#owner': 'executionArn', '#stoppedAt': 'stoppedAt' }, {
    ':phase': { S: 'STOPPED' },
    ':me': { S: executionArn },
    ':now': { N: String(nowSeconds()) },
  });

/** Whether this run may still write the pair's records. */
export async function holdsPair(pair: string, executionArn: string): Promise<boolean> {
  const claim = await readClaim(pair);
  return claim?.executionArn === executionArn && claim.phase === 'CANARY';
}

/** Releases the pair if this execution holds it; false when it did not (already released, or another's). */
export function releasePair(pair: string, executionArn: string): Promise<boolean> {
  return deleteIf(table(), key(pair), '#owner = :me', { '#owner': 'executionArn' }, { ':me': { S: executionArn } });
}

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
