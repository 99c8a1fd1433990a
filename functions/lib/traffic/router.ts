import type { Weights } from '../schedule.js';

/**
 * How the canary moves traffic, whatever carries it (as Argo Rollouts' TrafficRoutingReconciler
 * and Flagger's router Interface): the canary and the operator's CLI only ever talk to this.
 * Route53 weighted records are the one provider today (./route53/). Whoever only looks (Promote,
 * `ecs-dns-canary status`) takes a reader: its bundle and its role hold no write.
 */
export interface TrafficReader {
  /** The weights now. */
  read(): Promise<Weights>;
}

export interface TrafficRouter extends TrafficReader {
  /**
   * Sets `target` in one atomic change, keeping everything else about the routes. The drift
   * guard is inside: unless the weights now are one of `expected` ('any' for the rollback), it
   * fails with WeightsChangedOutside and writes nothing. `changeId` is null when the weights
   * already were `target` (nothing written).
   */
  set(target: Weights, expected: Weights[] | 'any', why: string): Promise<{ from: Weights; changeId: string | null }>;
  /** Until the change is applied where the provider can tell (Route53: INSYNC). */
  waitApplied(changeId: string): Promise<void>;
  /** How long clients may go on using the previous weights after that (DNS: the TTL, at least `minimum`). */
  cacheSeconds(minimum: number): Promise<number>;
}
