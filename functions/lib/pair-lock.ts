import { deleteIf, getItem, putIf, updateIf } from './aws/dynamodb.js';
import type { Plan } from './canary-state.js';

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
  /** PROMOTING once Promote has started: the safety net then leaves a finished promotion alone. */
  phase: 'CANARY' | 'PROMOTING';
  claimedAt: string;
  /** Epoch seconds. */
  expiresAt: number;
}

const table = () => {
  const name = process.env.LOCK_TABLE;
  if (!name) throw new Error('LOCK_TABLE is not set');
  return name;
};
const key = (pair: string) => ({ pair: { S: pair } });
const names = { '#pair': 'pair', '#owner': 'executionArn', '#expiresAt': 'expiresAt', '#claim': 'claim', '#phase': 'phase' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

const toItem = (c: PairClaim) => ({
  pair: { S: c.pair },
  executionArn: { S: c.executionArn },
  expiresAt: { N: String(c.expiresAt) },
  phase: { S: c.phase },
  claim: { S: JSON.stringify(c) },
});

export async function readClaim(pair: string): Promise<PairClaim | undefined> {
  const item = await getItem(table(), key(pair));
  if (!item?.claim?.S) return undefined;
  return { ...(JSON.parse(item.claim.S) as PairClaim), phase: (item.phase?.S as PairClaim['phase']) ?? 'CANARY' };
}

/**
 * Claims the pair for `claim.executionArn`: succeeds when nobody holds it, the claim has
 * expired, or this execution already holds it (a retried Preflight). Otherwise returns the holder.
 */
export async function claimPair(claim: PairClaim): Promise<{ claimed: true } | { claimed: false; holder: PairClaim | undefined }> {
  const ok = await putIf(table(), toItem(claim), 'attribute_not_exists(#pair) OR #owner = :me OR #expiresAt < :now', { '#pair': names['#pair'], '#owner': names['#owner'], '#expiresAt': names['#expiresAt'] }, {
    ':me': { S: claim.executionArn },
    ':now': { N: String(nowSeconds()) },
  });
  return ok ? { claimed: true } : { claimed: false, holder: await readClaim(claim.pair) };
}

/** Takes the pair over from a holder whose execution is no longer running. */
export function takeOver(claim: PairClaim, staleOwner: string): Promise<boolean> {
  return putIf(table(), toItem(claim), '#owner = :stale', { '#owner': names['#owner'] }, { ':stale': { S: staleOwner } });
}

export function markPromoting(pair: string, executionArn: string): Promise<boolean> {
  return updateIf(table(), key(pair), 'SET #phase = :promoting', '#owner = :me', { '#phase': names['#phase'], '#owner': names['#owner'] }, {
    ':promoting': { S: 'PROMOTING' },
    ':me': { S: executionArn },
  });
}

/** Releases the pair if this execution holds it; false when it did not (already released, or another's). */
export function releasePair(pair: string, executionArn: string): Promise<boolean> {
  return deleteIf(table(), key(pair), '#owner = :me', { '#owner': names['#owner'] }, { ':me': { S: executionArn } });
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
