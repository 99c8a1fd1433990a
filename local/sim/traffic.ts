import type { CloudWatchModel, MetricId, MinuteData } from './cloudwatch.js';
import type { Route53Model } from './route53.js';

/**
 * Traffic through the simulated account. The clients of each record pair (hosted zone, name,
 * type) resolve the name through DNS resolvers; a resolver asks Route53, which answers with a
 * weighted choice over the pair's records, and caches the answer for the record's TTL (some
 * resolvers much longer). Each request goes to the target group behind the answer's
 * SetIdentifier, fails with a 5xx or not, and takes a response time, as that side's behaviour
 * says at that instant. Each side's load balancer publishes its CloudWatch metrics
 * (AWS/ApplicationELB) per minute, late and partial, as ALBs do.
 *
 * Lazy, and so free in virtual time: the model holds no timer (nothing to keep a run alive or
 * to hide "virtual time is stuck"). Whatever reads it (GetMetricData, the counters below) or
 * changes it (a rate, a behaviour) first brings the simulation up to now, tick by tick; the
 * weights in effect at each instant come from Route53's change batches, recorded as they
 * happen. Deterministic: each pair draws from its own seeded generator, so what one pair
 * serves does not depend on who reads what, or when.
 *
 * Every constant below is an assumption of this model, not an AWS figure, unless it says so.
 * So is this: Route53 answers a change's new weights from the moment it accepts the change (its
 * edge servers take up to the change's INSYNC to agree; the resolvers' caches, minutes, dominate).
 * And requests are spread evenly over the resolvers, each client's resolver picked at random.
 */
export const TRAFFIC_DEFAULTS = {
  /** The simulation's step: arrivals are aggregated per tick, resolvers refresh on tick edges. */
  tickMs: 1_000,
  /** Requests per second of a pair's clients, all sides together, until setRate says otherwise. */
  ratePerSecond: 50,
  /** Resolvers behind a pair's clients, each serving an equal share of them. 500 keeps a 10 % weight's
   *  share within about one point of its mean while the caches turn over. */
  resolvers: 500,
  /** What a resolver caches an alias answer for: Route53 answers an alias to an ELB with a TTL of 60 s. */
  aliasTtlSeconds: 60,
  /** A resolver refreshes when its next client asks after the TTL: up to this long after it (uniform). */
  refreshJitterSeconds: 10,
  /** The share of resolvers that ignore the TTL and keep an answer much longer (clamping resolvers, JVMs
   *  with a long networkaddress.cache.ttl, browsers): green's share follows its weight late. */
  stickyShare: 0.1,
  /** How long a sticky resolver keeps an answer (uniform between the two, seconds). */
  stickyHoldSeconds: [300, 600] as [number, number],
  /** Datapoints of a minute appear between these two offsets after the minute ends (uniform per
   *  slice, seconds): nothing at first, then growing, final about 2 minutes after its end (DESIGN.md 7:
   *  "The newest minutes are partial and keep growing for about 2 minutes"; no AWS figure exists). */
  publishAfterMinuteSeconds: [20, 120] as [number, number],
  /** What one late-published piece of a minute covers. */
  sliceMs: 15_000,
  /** A side's 5xx probability per request, until setBehaviour says otherwise. */
  errorRate: 0.001,
  /** A side's response time (log-normal), until setBehaviour says otherwise. */
  latencyMs: { median: 40, p99: 120 } as Latency,
  /** Response times are kept in log buckets this wide (percentiles within about ±2 %). */
  latencyBucketRatio: 1.04,
  /** At most this many response times are drawn per side and tick; more requests share them. */
  maxLatencyDrawsPerTick: 200,
};

export type TrafficSettings = typeof TRAFFIC_DEFAULTS;

export interface Latency {
  median: number;
  p99: number;
}

/** A value, or a function of virtual time (epoch ms) for scripted bursts and incidents. */
export type OverTime<T> = T | ((atMs: number) => T);

/** How a side (a target group) answers. */
export interface Behaviour {
  /** The probability that a request gets a 5xx from the target. */
  errorRate: OverTime<number>;
  /** TargetResponseTime, log-normal with this median and 99th percentile (ms). */
  latencyMs: OverTime<Latency>;
}

/** Where the answers of one SetIdentifier lead: its service's target group, behind its load balancer. */
export interface TrafficRoute {
  targetGroupArn: string;
  loadBalancerArn: string;
  /** Where the load balancer publishes its metrics: the CloudWatch of the side's place (default: the model's own). */
  cloudwatch?: CloudWatchModel;
}

/** `inside` from `fromMs` (inclusive) to `toMs` (exclusive), `outside` otherwise: an incident, scripted. */
export function during<T>(fromMs: number, toMs: number, inside: T, outside: OverTime<T>): (atMs: number) => T {
  return (at) => (at >= fromMs && at < toMs ? inside : typeof outside === 'function' ? (outside as (atMs: number) => T)(at) : outside);
}

/** Deterministic pseudo-random numbers (mulberry32): the same seed, the same run. */
export function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hash = (text: string) => {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
};

const fqdn = (name: string) => {
  const lower = name.toLowerCase().replace(/\\052/g, '*');
  return lower.endsWith('.') ? lower : `${lower}.`;
};
const zoneIdOf = (id: string) => id.replace(/^\/hostedzone\//, '');
const pairKey = (zoneId: string, recordName: string, type: string) => `${zoneIdOf(zoneId)}|${fqdn(recordName)}|${type}`;

/** z such that P(Z <= z) = 0.99 for a standard normal Z. */
const Z99 = 2.3263478740408408;

/** The weights (and TTLs) of a pair's records from `at` on. */
interface WeightsEntry {
  at: number;
  ids: string[];
  /** Cumulative weights over ids: Route53's weighted choice. */
  cumulative: number[];
  ttlSeconds: Record<string, number>;
}

/** One side's requests in one slice of a minute, before the load balancer publishes them. */
interface Slice {
  start: number;
  route: TrafficRoute;
  requests: number;
  errors: number;
  latency: MinuteData & { values: Map<number, number> };
}

interface PairState {
  key: string;
  zoneId: string;
  recordName: string;
  type: string;
  rate: number;
  routes: Map<string, TrafficRoute>;
  timeline: WeightsEntry[];
  entry: number;
  /** Traffic is simulated up to here (tick-aligned, epoch ms). */
  cursor: number;
  random: () => number;
  spare: number | undefined;
  /** Per resolver: the SetIdentifier it answers its clients with (undefined: no answer). */
  answers: (string | undefined)[];
  /** Resolvers per answer. */
  held: Map<string | undefined, number>;
  /** Resolvers whose answer expires at a tick, by tick index. */
  due: Map<number, number[]>;
  slices: Map<string, Slice>;
  /** Requests whose answer named a record with no route (a third record), or that got no answer at all. */
  unrouted: number;
  unresolved: number;
}

interface SideStats {
  tickStarts: number[];
  tickCounts: number[];
  errorTimes: number[];
}

interface Publication {
  at: number;
  slice: Slice;
}

const NAMESPACE = 'AWS/ApplicationELB';

/** `app/<name>/<id>` of a load balancer ARN, `targetgroup/<name>/<id>` of a target group ARN: the dimensions' values. */
export const loadBalancerDimension = (arn: string) => arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
export const targetGroupDimension = (arn: string) => arn.split(':').at(-1)!;

export class TrafficModel {
  readonly settings: TrafficSettings;
  private pairs = new Map<string, PairState>();
  private behaviours = new Map<string, Behaviour>();
  private stats = new Map<string, SideStats>();
  private pending: Publication[] = [];
  /** When traffic stopped. */
  private stopped: number | undefined;
  private seed: number;
  private logRatio: number;

  constructor(
    private route53: Route53Model,
    private cloudwatch: CloudWatchModel,
    options: { seed?: number; settings?: Partial<TrafficSettings> } = {},
  ) {
    this.seed = options.seed ?? 1;
    this.settings = { ...TRAFFIC_DEFAULTS, ...options.settings };
    this.logRatio = Math.log(this.settings.latencyBucketRatio);
    this.follow(route53);
    this.publishInto(cloudwatch);
  }

  /** The CloudWatch models load balancers publish into: a read of any of them first brings traffic up to now. */
  private published = new Set<CloudWatchModel>();

  private publishInto(cloudwatch: CloudWatchModel): void {
    if (this.published.has(cloudwatch)) return;
    this.published.add(cloudwatch);
    cloudwatch.beforeRead(() => this.advance());
  }

  /** Route53 state the clients resolve through: the account's own, and each other account's (a zone in a DNS account). */
  private models: Route53Model[] = [];

  follow(route53: Route53Model): void {
    this.models.push(route53);
    route53.onChange((applied) => {
      const touched = new Set(applied.changes.map((c) => pairKey(applied.hostedZoneId, c.ResourceRecordSet?.Name ?? '', String(c.ResourceRecordSet?.Type ?? ''))));
      for (const pair of this.pairs.values()) if (touched.has(pair.key)) pair.timeline.push(this.readWeights(pair, applied.at));
    });
  }

  /**
   * Sends the answers of `setIdentifier` (a record of the pair) to a target group. The pair's
   * clients start asking now, at the default rate, if they were not already.
   */
  route(zoneId: string, recordName: string, type: string, setIdentifier: string, target: TrafficRoute): void {
    const now = Date.now();
    this.advance(now);
    const key = pairKey(zoneId, recordName, type);
    let pair = this.pairs.get(key);
    if (!pair) {
      pair = {
        key,
        zoneId: zoneIdOf(zoneId),
        recordName,
        type,
        rate: this.settings.ratePerSecond,
        routes: new Map(),
        timeline: [],
        entry: 0,
        cursor: this.tickStart(now),
        random: randomFrom(this.seed ^ hash(key)),
        spare: undefined,
        answers: [],
        held: new Map(),
        due: new Map(),
        slices: new Map(),
        unrouted: 0,
        unresolved: 0,
      };
      pair.timeline.push(this.readWeights(pair, pair.cursor));
      this.pairs.set(key, pair);
      this.startResolvers(pair);
    }
    if (target.cloudwatch) this.publishInto(target.cloudwatch);
    pair.routes.set(setIdentifier, { ...target });
  }

  /** The pair's clients send `rps` requests a second from now on (0: none). */
  setRate(zoneId: string, recordName: string, type: string, rps: number): void {
    if (!(rps >= 0)) throw new Error(`a request rate is a number >= 0 (got ${rps})`);
    this.advance();
    const pair = this.pairs.get(pairKey(zoneId, recordName, type));
    if (!pair) throw new Error(`no traffic is routed for ${recordName} ${type} in ${zoneId}`);
    pair.rate = rps;
  }

  /** Changes how a side answers from now on; a function of time scripts a burst or an incident. */
  setBehaviour(targetGroupArn: string, behaviour: Partial<Behaviour>): void {
    this.advance();
    this.behaviours.set(targetGroupArn, { ...this.behaviourOf(targetGroupArn), ...behaviour });
  }

  behaviourOf(targetGroupArn: string): Behaviour {
    return this.behaviours.get(targetGroupArn) ?? { errorRate: this.settings.errorRate, latencyMs: this.settings.latencyMs };
  }

  /** Requests the target group served in [fromMs, toMs) (to the second), up to now. */
  requests(targetGroupArn: string, fromMs = -Infinity, toMs = Infinity): number {
    this.advance();
    const s = this.stats.get(targetGroupArn);
    let n = 0;
    if (s) for (let i = 0; i < s.tickStarts.length; i++) if (s.tickStarts[i]! >= fromMs && s.tickStarts[i]! < toMs) n += s.tickCounts[i]!;
    return n;
  }

  /** 5xx responses of the target group's targets in [fromMs, toMs), up to now. */
  errors(targetGroupArn: string, fromMs = -Infinity, toMs = Infinity): number {
    this.advance();
    return (this.stats.get(targetGroupArn)?.errorTimes ?? []).filter((t) => t >= fromMs && t < toMs).length;
  }

  /** When the target group's first 5xx at or after `sinceMs` happened (epoch ms), if one did by now. */
  firstErrorSince(targetGroupArn: string, sinceMs: number): number | undefined {
    this.advance();
    let first: number | undefined;
    for (const t of this.stats.get(targetGroupArn)?.errorTimes ?? []) if (t >= sinceMs && (first === undefined || t < first)) first = t;
    return first;
  }

  /** Requests of the pair that found no route (an answer naming a record nobody routed) or no answer. */
  lost(zoneId: string, recordName: string, type: string): { unrouted: number; unresolved: number } {
    this.advance();
    const pair = this.pairs.get(pairKey(zoneId, recordName, type));
    return { unrouted: pair?.unrouted ?? 0, unresolved: pair?.unresolved ?? 0 };
  }

  /** Traffic ends now: nothing flows after this instant (what was served is still published, late). */
  stop(): void {
    const now = Date.now();
    this.advance(now);
    this.stopped ??= this.tickStart(now);
    for (const pair of this.pairs.values()) for (const slice of pair.slices.values()) this.flush(pair, slice);
    for (const pair of this.pairs.values()) pair.slices.clear();
  }

  /** Brings every pair's traffic up to `now` and publishes what the load balancers have published by then. */
  advance(now = Date.now()): void {
    const until = this.stopped === undefined ? this.tickStart(now) : Math.min(this.tickStart(now), this.stopped);
    for (const pair of this.pairs.values()) this.simulate(pair, until);
    this.publish(now);
  }

  private tickStart(t: number): number {
    return Math.floor(t / this.settings.tickMs) * this.settings.tickMs;
  }

  private readWeights(pair: PairState, at: number): WeightsEntry {
    const entry: WeightsEntry = { at, ids: [], cumulative: [], ttlSeconds: {} };
    let sets: ReturnType<Route53Model['recordSets']>;
    try {
      sets = (this.models.find((m) => m.hasZone(pair.zoneId)) ?? this.route53).recordSets(pair.zoneId);
    } catch {
      return entry; // no zone: no answer (NXDOMAIN)
    }
    const records = sets.filter((r) => fqdn(r.Name ?? '') === fqdn(pair.recordName) && r.Type === pair.type && r.SetIdentifier !== undefined);
    // Route53: weight 0 is never answered, unless every record of the name has weight 0 (then all, equally).
    const positive = records.filter((r) => (r.Weight ?? 0) > 0);
    const chosen = positive.length > 0 ? positive : records;
    let sum = 0;
    for (const r of chosen) {
      sum += positive.length > 0 ? r.Weight! : 1;
      entry.ids.push(r.SetIdentifier!);
      entry.cumulative.push(sum);
    }
    for (const r of records) entry.ttlSeconds[r.SetIdentifier!] = r.AliasTarget ? this.settings.aliasTtlSeconds : (r.TTL ?? this.settings.aliasTtlSeconds);
    return entry;
  }

  /** Every resolver holds an answer given at some time before, as in a steady state. */
  private startResolvers(pair: PairState): void {
    const entry = pair.timeline[pair.entry]!;
    pair.answers = [];
    pair.held = new Map();
    pair.due = new Map();
    for (let r = 0; r < this.settings.resolvers; r++) this.resolve(pair, r, pair.cursor, entry, true);
  }

  private resolve(pair: PairState, r: number, t: number, entry: WeightsEntry, steady = false): void {
    const { random } = pair;
    let answer: string | undefined;
    const total = entry.cumulative.at(-1);
    if (total !== undefined) {
      const u = random() * total;
      answer = entry.ids[entry.cumulative.findIndex((c) => u < c)] ?? entry.ids.at(-1);
    }
    const previous = pair.answers[r];
    if (r < pair.answers.length) pair.held.set(previous, pair.held.get(previous)! - 1);
    pair.answers[r] = answer;
    pair.held.set(answer, (pair.held.get(answer) ?? 0) + 1);
    const s = this.settings;
    const sticky = r < Math.round(s.stickyShare * s.resolvers);
    const ttl = answer !== undefined ? (entry.ttlSeconds[answer] ?? s.aliasTtlSeconds) : s.aliasTtlSeconds;
    const hold = (sticky ? s.stickyHoldSeconds[0] + random() * (s.stickyHoldSeconds[1] - s.stickyHoldSeconds[0]) : ttl + random() * s.refreshJitterSeconds) * 1000;
    const expires = t + (steady ? random() : 1) * hold;
    const index = Math.max(Math.ceil(expires / s.tickMs), Math.floor(t / s.tickMs) + 1);
    const list = pair.due.get(index);
    if (list) list.push(r);
    else pair.due.set(index, [r]);
  }

  private gaussian(pair: PairState): number {
    if (pair.spare !== undefined) {
      const z = pair.spare;
      pair.spare = undefined;
      return z;
    }
    const u = 1 - pair.random();
    const v = pair.random();
    const radius = Math.sqrt(-2 * Math.log(u));
    pair.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  private poisson(pair: PairState, mean: number): number {
    if (mean <= 0) return 0;
    if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gaussian(pair)));
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = pair.random(); p > limit; p *= pair.random()) k++;
    return k;
  }

  private simulate(pair: PairState, target: number): void {
    const s = this.settings;
    for (let t = pair.cursor; t < target; t += s.tickMs) {
      while (pair.entry + 1 < pair.timeline.length && pair.timeline[pair.entry + 1]!.at <= t) pair.entry++;
      const entry = pair.timeline[pair.entry]!;
      if (t % s.sliceMs === 0) {
        for (const slice of pair.slices.values()) this.flush(pair, slice);
        pair.slices.clear();
      }
      const index = t / s.tickMs;
      const due = pair.due.get(index);
      if (due) {
        pair.due.delete(index);
        for (const r of due) this.resolve(pair, r, t, entry);
      }
      const n = this.poisson(pair, (pair.rate * s.tickMs) / 1000);
      if (n === 0) continue;
      // Each request comes from a client of a resolver picked at random: the sides' shares are the
      // resolvers' answers.
      const answers = [...pair.held.entries()].filter(([, count]) => count > 0);
      const counts = answers.map(() => 0);
      for (let i = 0; i < n; i++) {
        let u = pair.random() * s.resolvers;
        let k = 0;
        while (k < answers.length - 1 && u >= answers[k]![1]) u -= answers[k++]![1];
        counts[k]!++;
      }
      answers.forEach(([answer], k) => {
        const count = counts[k]!;
        if (count === 0) return;
        const route = answer === undefined ? undefined : pair.routes.get(answer);
        if (answer === undefined) pair.unresolved += count;
        else if (!route) pair.unrouted += count;
        else this.serve(pair, answer, route, count, t);
      });
    }
    if (target > pair.cursor) pair.cursor = target;
  }

  /** `n` requests reach a side during the tick starting at `t`. */
  private serve(pair: PairState, id: string, route: TrafficRoute, n: number, t: number): void {
    const s = this.settings;
    const start = Math.floor(t / s.sliceMs) * s.sliceMs;
    let slice = pair.slices.get(id);
    if (!slice || slice.start !== start) {
      if (slice) this.flush(pair, slice);
      slice = { start, route, requests: 0, errors: 0, latency: { sampleCount: 0, sum: 0, min: Infinity, max: -Infinity, values: new Map() } };
      pair.slices.set(id, slice);
    }
    const behaviour = this.behaviourOf(route.targetGroupArn);
    const errorRate = Math.min(1, Math.max(0, typeof behaviour.errorRate === 'function' ? behaviour.errorRate(t) : behaviour.errorRate));
    const latency = typeof behaviour.latencyMs === 'function' ? behaviour.latencyMs(t) : behaviour.latencyMs;
    const stats = this.statsOf(route.targetGroupArn);
    stats.tickStarts.push(t);
    stats.tickCounts.push(n);
    slice.requests += n;
    // Which of the n requests fail: the gaps between failures are geometric (one draw per failure, not per request).
    const gap = () => (errorRate >= 1 ? 0 : Math.floor(Math.log(1 - pair.random()) / Math.log(1 - errorRate)));
    if (errorRate > 0)
      for (let i = gap(); i < n; i += 1 + gap()) {
        slice.errors++;
        stats.errorTimes.push(t + Math.floor(pair.random() * s.tickMs));
      }
    // TargetResponseTime (seconds), log-normal: ln(median) and a spread that puts p99 where asked.
    const mu = Math.log(Math.max(latency.median, 0.001) / 1000);
    const sigma = latency.p99 > latency.median ? Math.log(latency.p99 / latency.median) / Z99 : 0;
    const draws = Math.min(n, s.maxLatencyDrawsPerTick);
    const weight = n / draws;
    const h = slice.latency;
    for (let i = 0; i < draws; i++) {
      const log = mu + sigma * this.gaussian(pair);
      const seconds = Math.exp(log);
      h.sampleCount += weight;
      h.sum += seconds * weight;
      if (seconds < h.min) h.min = seconds;
      if (seconds > h.max) h.max = seconds;
      const bucket = this.bucketValue(Math.floor(log / this.logRatio));
      h.values.set(bucket, (h.values.get(bucket) ?? 0) + weight);
    }
  }

  private buckets = new Map<number, number>();

  /** The value a latency bucket stands for: its geometric middle. */
  private bucketValue(index: number): number {
    let value = this.buckets.get(index);
    if (value === undefined) this.buckets.set(index, (value = Math.exp((index + 0.5) * this.logRatio)));
    return value;
  }

  private statsOf(targetGroupArn: string): SideStats {
    let stats = this.stats.get(targetGroupArn);
    if (!stats) this.stats.set(targetGroupArn, (stats = { tickStarts: [], tickCounts: [], errorTimes: [] }));
    return stats;
  }

  /** A slice is done: its load balancer publishes it some time after its minute ends. */
  private flush(pair: PairState, slice: Slice): void {
    if (slice.requests === 0) return;
    const [first, last] = this.settings.publishAfterMinuteSeconds;
    const minuteEnd = Math.floor(slice.start / 60_000) * 60_000 + 60_000;
    this.pending.push({ at: minuteEnd + (first + pair.random() * (last - first)) * 1000, slice });
  }

  private publish(now: number): void {
    const later: Publication[] = [];
    for (const p of this.pending) {
      if (p.at > now) {
        later.push(p);
        continue;
      }
      const { slice } = p;
      const lb = { Name: 'LoadBalancer', Value: loadBalancerDimension(slice.route.loadBalancerArn) };
      const side = [lb, { Name: 'TargetGroup', Value: targetGroupDimension(slice.route.targetGroupArn) }];
      const metric = (name: string, dimensions: MetricId['dimensions']): MetricId => ({ namespace: NAMESPACE, name, dimensions });
      const count = (n: number): MinuteData => ({ sampleCount: 1, sum: n, min: n, max: n, values: new Map([[n, 1]]) });
      const cloudwatch = slice.route.cloudwatch ?? this.cloudwatch;
      cloudwatch.record(metric('RequestCount', side), slice.start, count(slice.requests), 'Count');
      cloudwatch.record(metric('RequestCount', [lb]), slice.start, count(slice.requests), 'Count');
      if (slice.errors > 0) cloudwatch.record(metric('HTTPCode_Target_5XX_Count', side), slice.start, count(slice.errors), 'Count');
      cloudwatch.record(metric('TargetResponseTime', side), slice.start, slice.latency, 'Seconds');
    }
    this.pending = later;
  }
}
