import { MAX_INSYNC_WAIT_SECONDS, waitForInsync } from '../../aws/route53.js';
import { fail } from '../../errors.js';
import { dnsWaitSeconds, readPair, writePair, type PairRef } from '../../record-pair.js';
import { formatWeights, sameWeights } from '../../schedule.js';
import type { TrafficReader, TrafficRouter } from '../router.js';

/** The pair's weights, read only. */
export const route53Reader = (ref: PairRef): TrafficReader => ({ read: async () => (await readPair(ref)).weights });

/**
 * Two Route53 weighted records of one name (a pair's blue and green), read and written together;
 * through the pair's DNS role when its zone is in another account (`ref.access`), the change's
 * INSYNC wait too.
 */
export function route53Router(ref: PairRef): TrafficRouter {
  return {
    async read() {
      return (await readPair(ref)).weights;
    },
    async set(target, expected, why) {
      const records = await readPair(ref);
      const from = records.weights;
      if (sameWeights(from, target)) return { from, changeId: null };
      if (expected !== 'any' && !expected.some((w) => sameWeights(w, from)))
        fail('WeightsChangedOutside', `DNS has ${formatWeights(from)} but the canary last wrote ${formatWeights(expected[0]!)}: someone else changed the records`);
      return { from, changeId: await writePair(ref, records, target, why) };
    },
    waitApplied: (changeId) => waitForInsync(changeId, MAX_INSYNC_WAIT_SECONDS, ref.access),
    async cacheSeconds(minimum) {
      return dnsWaitSeconds(await readPair(ref), minimum);
    },
  };
}
