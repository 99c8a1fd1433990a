import { DEFAULT_TRAFFIC_RPS, planOf } from '../cli/plan.js';
import { taskDefinitionArn } from './local-canary.js';
import { meanOf } from './sim/latency.js';
import type { ExecutionResult } from './step-functions.js';
import { createWorld, weightsOf } from './world.js';

/**
 * Many canaries at once in one simulated account (Route53's, ECS's and CloudWatch's own
 * throttling on): `n` pairs, each getting a new task definition at a random moment within
 * `spreadSeconds`, every canary run to its end. Measures each canary against its floor: the
 * earliest promotion `plan` gives at the account's INSYNC delay and request rate (per step,
 * INSYNC + the DNS wait + the bake, or longer where the judge needs settled minutes).
 */
export interface ConcurrencyRun {
  n: number;
  promoted: number;
  /** Canaries that rolled back because of throttling (any cause naming it). */
  throttledRollbacks: number;
  /** Pairs that ended with traffic split (never acceptable). */
  leftSplit: number;
  floorSeconds: number;
  /** Each canary's time from its execution's start to its end, in virtual seconds. */
  canarySeconds: number[];
  medianOverheadRatio: number;
  worstOverheadRatio: number;
  route53PeakRps: number;
  route53MeanRps: number;
  route53Throttled: number;
  /** The most GetMetricData calls in one second, all pairs' judges together. */
  getMetricDataPeakRps: number;
  /** Metrics requested by every GetMetricData call (the billed unit). */
  metricsRequested: number;
  /** The canaries' results (the first one's is used for the cost figures). */
  results: ExecutionResult[];
  /** Function invocations and their virtual durations, by function. */
  invocations: { fn: string; memoryMb: number; ms: number }[];
  /** Successful AWS calls by function and `service:Command`. */
  calls: Record<string, Record<string, number>>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Deterministic spread of the deployments (mulberry32), so runs compare. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runConcurrent(n: number, { spreadSeconds = 60, seed = 42 } = {}): Promise<ConcurrencyRun> {
  const w = createWorld({ pairs: n });
  try {
    const next = random(seed);
    for (const [k, pair] of w.pairs.entries()) {
      const green = pair.services[1];
      setTimeout(() => w.sim.ecs.deploy(green.cluster, green.service, taskDefinitionArn(green.service, 2)), Math.floor(next() * spreadSeconds * 1000) + k);
    }
    // every deployment has rolled out and started its canary; then every canary runs to its end
    await w.clock.run(new Promise((resolve) => setTimeout(resolve, spreadSeconds * 1000 + w.sim.ecs.rolloutMs + 1_000)));
    const results = await w.clock.run(w.canary.settled());

    // The floor: `plan`'s earliest promotion at the account's INSYNC delay and traffic (each bake as long as the judge needs).
    // With AWS's latencies on, INSYNC is a distribution: the floor takes its mean, so that the
    // overhead is what the canary adds (polling, Lambda, Step Functions), not INSYNC's skew.
    const insyncMs = w.latency ? meanOf(w.latency.figures.route53Insync) : w.sim.route53.insyncDelayMs;
    const floorSeconds = Math.round(planOf(w.pairs[0]!, { insyncSeconds: insyncMs / 1000, eventSeconds: 0 }, { trafficRps: DEFAULT_TRAFFIC_RPS }).promotedAtSeconds);
    const canarySeconds = results.map((r) => (r.events.at(-1)!.timestamp - r.events[0]!.timestamp) / 1000);
    const overheads = canarySeconds.map((s) => s / floorSeconds - 1);

    const route53 = w.sim.calls.filter((c) => c.service === 'route53');
    const perSecond = new Map<number, number>();
    for (const c of route53) perSecond.set(Math.floor(c.at / 1000), (perSecond.get(Math.floor(c.at / 1000)) ?? 0) + 1);
    const span = route53.length ? (route53.at(-1)!.at - route53[0]!.at) / 1000 + 1 : 1;
    // GetMetricData: about 50 calls a second per Region (CloudWatch quotas): the judges of every pair share it.
    const metricReads = new Map<number, number>();
    for (const c of w.sim.calls.filter((x) => x.service === 'cloudwatch' && x.command === 'GetMetricData'))
      metricReads.set(Math.floor(c.at / 1000), (metricReads.get(Math.floor(c.at / 1000)) ?? 0) + 1);
    const calls: Record<string, Record<string, number>> = {};
    for (const c of w.sim.calls.filter((x) => x.caller && !x.error)) {
      const of = (calls[c.caller!] ??= {});
      of[`${c.service}:${c.command}`] = (of[`${c.service}:${c.command}`] ?? 0) + 1;
    }

    return {
      n,
      promoted: results.filter((r) => r.status === 'SUCCEEDED').length,
      throttledRollbacks: results.filter((r) => r.status !== 'SUCCEEDED' && /Throttl|Rate exceeded/.test(`${r.error} ${r.cause}`)).length,
      leftSplit: w.pairs.filter((p) => {
        const { blue, green } = weightsOf(w.sim, p);
        return blue > 0 && green > 0;
      }).length,
      floorSeconds,
      canarySeconds,
      medianOverheadRatio: round(median(overheads)),
      worstOverheadRatio: round(Math.max(...overheads)),
      route53PeakRps: Math.max(0, ...perSecond.values()),
      route53MeanRps: round(route53.length / span, 2),
      route53Throttled: route53.filter((c) => c.error === 'Throttling').length,
      getMetricDataPeakRps: Math.max(0, ...metricReads.values()),
      metricsRequested: w.sim.cloudwatch.metricsRequested,
      results,
      invocations: w.canary.invocations.map((i) => ({ fn: i.fn, memoryMb: w.stack[i.fn]!.memorySize, ms: i.ms })),
      calls,
    };
  } finally {
    w.dispose();
  }
}
