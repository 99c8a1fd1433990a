import { fail } from './errors.js';
import { readRecordSets, upsertRecordSets, type RecordRef, type ResourceRecordSet } from './aws/route53.js';
import { formatWeights, type Weights } from './schedule.js';

/**
 * The traffic router: one DNS name served by two weighted record sets, told apart by their
 * SetIdentifiers. Reading returns both records exactly as Route53 has them; writing changes
 * only their Weight, in one atomic change batch.
 */
export interface PairRef extends RecordRef {
  blueSetIdentifier: string;
  greenSetIdentifier: string;
}

export interface RecordPair {
  blue: ResourceRecordSet;
  green: ResourceRecordSet;
  weights: Weights;
}

const describe = (ref: RecordRef) => `${ref.recordType} ${ref.recordName} in zone ${ref.hostedZoneId}`;

export async function readPair(ref: PairRef): Promise<RecordPair> {
  const sets = await readRecordSets(ref);
  if (sets.length === 0) fail('RecordNotFound', `no ${describe(ref)}; create the two weighted records first`);
  const unweighted = sets.filter((s) => s.Weight === undefined || s.SetIdentifier === undefined);
  if (unweighted.length > 0)
    fail('RecordNotWeighted', `${describe(ref)} is not a weighted record set (found a record without Weight/SetIdentifier); make both records weighted`);
  const expected = [ref.blueSetIdentifier, ref.greenSetIdentifier];
  const others = sets.map((s) => s.SetIdentifier!).filter((id) => !expected.includes(id));
  if (others.length > 0)
    fail('UnexpectedRecordSet', `${describe(ref)} has SetIdentifiers ${others.join(', ')} besides ${expected.join(' and ')}; the canary only manages a pair`);
  const blue = sets.find((s) => s.SetIdentifier === ref.blueSetIdentifier);
  const green = sets.find((s) => s.SetIdentifier === ref.greenSetIdentifier);
  if (!blue || !green)
    fail('RecordNotFound', `${describe(ref)} has no weighted record with SetIdentifier ${!blue ? ref.blueSetIdentifier : ref.greenSetIdentifier}`);
  return { blue: blue!, green: green!, weights: { blue: blue!.Weight!, green: green!.Weight! } };
}

/** The two record sets as read, with new weights and every other field untouched. */
export const withWeights = (pair: RecordPair, weights: Weights): ResourceRecordSet[] => [
  { ...pair.blue, Weight: weights.blue },
  { ...pair.green, Weight: weights.green },
];

export function writePair(ref: PairRef, pair: RecordPair, weights: Weights, why: string): Promise<string> {
  return upsertRecordSets(ref, withWeights(pair, weights), `ecs-dns-canary: ${formatWeights(weights)} (${why})`);
}

/** How long clients may keep the old answer: the records' TTL, or the floor for alias records. */
export function dnsWaitSeconds(pair: RecordPair, minWaitSeconds: number): number {
  return Math.max(minWaitSeconds, pair.blue.TTL ?? 0, pair.green.TTL ?? 0);
}
