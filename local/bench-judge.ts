// `npm run bench:judge [-- --json] [-- --seed N] [-- --scale X] [-- --bake SECONDS]`: a Monte-Carlo benchmark of the
// judge (functions/lib/analysis.ts), in virtual time. Each run is one canary (steps 10, 25, 50,
// then 100 = the promotion) driven the way the Judge green task drives it: the weight change,
// Route53 INSYNC 20-60 s later, the 60 s DNS wait, then a judge poll every 30 s that calls the
// very `analyze()` of the Lambda on the settled minutes `settledWindow()` gives. The figures are
// printed, never asserted: the goals from the issue are reported as met or not.
//
// The simulated world, per minute and per side (blue, green):
//  - requests: Poisson, total `rps` per second; green's share follows its weight late: 90 % of
//    requests come through resolvers that re-resolve within the 60 s TTL (they see a change
//    uniformly spread over the 60 s after it), 10 % through sticky resolvers that see it 5-10
//    minutes late (uniformly spread); the share of a minute is the average over the minute.
//    Route53 answers change at INSYNC. A side with no requests reports 0 (no datapoint).
//  - errors: Poisson(requests × rate × burst × noise), capped at the requests. The rate is
//    0.1 % on blue and errorRatio × 0.1 % on green (from its first request). noise: a gamma
//    variate of mean 1 per side and minute (shape NOISE_SHAPE: negative-binomial counts).
//    burst: a per-side process; in a minute with no burst running, one starts with
//    probability BURST.probability, multiplies the side's rate by a log-uniform factor in
//    2..20 and lasts 1 (60 %), 2 (25 %) or 3 (15 %) minutes.
//  - a shared incident (some cells): both sides fail 5 % (× noise, no bursts) for two minutes,
//    the minute holding a point drawn uniformly in the first 300 s of a random step and the next.
//  - p99 latency: 120 ms × lognormal noise (σ = 0.05 + 0.5/√requests) on both sides alike.
// Noise, bursts, latency noise and the incident are drawn once per run (the environment) and
// shared by the judged canary and the alarms-only canary it is compared with.
// Besides the cells of the issue, a control row (withoutBursts: 100 rps, Poisson errors) tells
// what the bursts cost from what the timing costs (settleSeconds, the bake, MIN_MINUTES_OF_EVIDENCE).
// medianDetectionSeconds = median, over the runs found UNHEALTHY at step 1, of (the poll time of
// that verdict − Route53 INSYNC of step 1); medianUnhealthySecondsAnyStep: the same over every
// detected run, whatever its step.
import { fileURLToPath } from 'node:url';
import { analyze, DEFAULT_SETTINGS, type Analysis, type AnalysisSettings, type Minute, type Outcome, type SideMinute } from '../functions/lib/analysis.js';
import { settledWindow } from '../functions/lib/metrics.js';

// ---------------------------------------------------------------- random numbers (seeded)

export type Rng = () => number;

/** sfc32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function sfc32(a: number, b: number, c: number, d: number): Rng {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A generator for one (seed, stream...) tuple: runs are independent of the order they are run in. */
export function rngFor(...keys: number[]): Rng {
  // splitmix32-style mixing of the keys into four words
  let h = 0x9e3779b9;
  const mix = (x: number) => {
    h = (h + (x | 0) + 0x9e3779b9) | 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  for (const k of keys) mix(k);
  const rng = sfc32(mix(1), mix(2), mix(3), mix(4));
  for (let i = 0; i < 12; i++) rng();
  return rng;
}

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();

function normal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) by Marsaglia and Tsang. */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * rng() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

const LOG_FACTORIAL = Array.from({ length: 10 }, (_, k) => Array.from({ length: k }, (_, i) => Math.log(i + 1)).reduce((s, x) => s + x, 0));
function logFactorial(k: number): number {
  if (k < 10) return LOG_FACTORIAL[k]!;
  const n = k + 1; // Stirling series for lnΓ(n)
  return (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * n) - 1 / (360 * n ** 3) + 1 / (1260 * n ** 5);
}

/** Poisson(λ): multiplication for small λ, Hörmann's PTRS (transformed rejection) otherwise. */
export function poisson(rng: Rng, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng();
    while (p > limit) {
      k++;
      p *= rng();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng() - 0.5;
    const v = rng();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ---------------------------------------------------------------- the world

export const STEPS = [10, 25, 50, 100] as const;
export const POLL_SECONDS = 30;
export const BAKE_SECONDS = 300;
/** The judge as Judge green runs it for a pair with this bake: a step passes on no fewer settled minutes than its bake (metrics.ts settingsOf). */
export const benchSettings = (bakeSeconds: number): AnalysisSettings => ({ ...DEFAULT_SETTINGS, minStepMinutes: Math.ceil(bakeSeconds / 60) });
export const DNS_TTL_SECONDS = 60;
export const INSYNC_SECONDS: readonly [number, number] = [20, 60];
export const BASE_ERROR_RATE = 0.001;
export const LATENCY_MS = 120;
/** 10 % of requests come through resolvers that hold an old answer 5-10 minutes. */
export const STICKY = { share: 0.1, fromSeconds: 300, toSeconds: 600 };
export const INCIDENT = { rate: 0.05, minutes: 2, withinFirstSecondsOfStep: 300 };
/** The pair-wide alarm of the README example: 5xx rate > 2 % over 1 minute, 2 of 2 datapoints. */
export const ALARM = { ratePercent: 2, datapoints: 2 };
/** After an alarms-only canary promotes a failing green, it serves 100 % this long before we stop counting. */
export const AFTER_PROMOTION_SECONDS = 1_800;

export interface BurstModel {
  /** Chance per side and minute (with no burst running) that a burst starts. */
  probability: number;
  /** The burst multiplies the side's error rate by a log-uniform factor in this range ... */
  factor: readonly [number, number];
  /** ... for 1, 2 or 3 minutes with these probabilities. */
  lengths: readonly [number, number, number];
}
export const BURST: BurstModel = { probability: 0.05, factor: [2, 20], lengths: [0.6, 0.25, 0.15] };
/** Gamma shape of the per-minute rate noise (mean 1, CV 1/√shape ≈ 0.35). */
export const NOISE_SHAPE = 8;

export interface Scenario {
  /** Total requests per second (both sides). */
  rps: number;
  /** Green's error rate is this times blue's 0.1 % (1: A/A). */
  errorRatio: number;
  /** false: no bursts. */
  bursts: BurstModel | false;
  /** Gamma shape of the rate noise; null: no noise (Poisson counts). */
  noiseShape: number | null;
  /** A shared incident (both sides at 5 % for two minutes) somewhere in a random step. */
  incident: boolean;
}

interface EnvMinute {
  burst: [number, number]; // blue, green
  noise: [number, number];
  latency: [number, number]; // standard normals
}

/**
 * What is drawn per minute whatever the canary does: bursts, rate noise, latency noise; and
 * where the shared incident falls. Grown lazily, in minute order, from its own stream.
 */
class Environment {
  private readonly minutes: EnvMinute[] = [];
  private readonly left: [number, number] = [0, 0];
  private readonly factor: [number, number] = [1, 1];
  readonly incidentStep: number;
  readonly incidentOffsetSeconds: number;

  constructor(private readonly scenario: Scenario, private readonly rng: Rng) {
    this.incidentStep = Math.floor(rng() * (STEPS.length - 1));
    this.incidentOffsetSeconds = rng() * INCIDENT.withinFirstSecondsOfStep;
  }

  at(m: number): EnvMinute {
    const { rng, scenario } = this;
    while (this.minutes.length <= m) {
      const burst: [number, number] = [1, 1];
      const noise: [number, number] = [1, 1];
      for (const s of [0, 1] as const) {
        const b = scenario.bursts;
        if (b && this.left[s] === 0 && rng() < b.probability) {
          const u = rng();
          this.left[s] = u < b.lengths[0] ? 1 : u < b.lengths[0] + b.lengths[1] ? 2 : 3;
          this.factor[s] = b.factor[0] * (b.factor[1] / b.factor[0]) ** rng();
        }
        if (this.left[s]! > 0) {
          burst[s] = this.factor[s];
          this.left[s]!--;
        }
        if (scenario.noiseShape !== null) noise[s] = gamma(rng, scenario.noiseShape) / scenario.noiseShape;
      }
      this.minutes.push({ burst, noise, latency: [normal(rng), normal(rng)] });
    }
    return this.minutes[m]!;
  }
}

/** The integral over (-∞, x] of a ramp from 0 (at a) to 1 (at a + len). */
function rampIntegral(x: number, a: number, len: number): number {
  if (x <= a) return 0;
  if (x <= a + len) return (x - a) ** 2 / (2 * len);
  return len / 2 + (x - a - len);
}

/**
 * One canary's traffic: the weights it sets, and the minutes both sides serve (grown lazily:
 * a minute is drawn once the weights up to its end are known).
 */
class World {
  /** Weight changes as set (greenPercent of a minute: the weight in effect at its start). */
  private readonly sets: { at: number; percent: number }[] = [{ at: -Infinity, percent: 0 }];
  /** Route53 answer changes (at INSYNC), by how much green's weight moved. */
  private readonly answers: { at: number; delta: number }[] = [];
  readonly minutes: Minute[] = [];
  private incidentMinute = -1;

  constructor(private readonly scenario: Scenario, private readonly env: Environment, private readonly rng: Rng) {}

  /** The weight change of step `step` (0-based) at `at`, INSYNC at `insyncAt`. */
  shift(step: number, percent: number, at: number, insyncAt: number) {
    if (at < this.drawnUntil()) throw new Error(`weight change at ${at} s after minutes already drawn up to ${this.drawnUntil()} s`);
    this.answers.push({ at: insyncAt, delta: percent - this.sets.at(-1)!.percent });
    this.sets.push({ at, percent });
    if (this.scenario.incident && step === this.env.incidentStep) this.incidentMinute = Math.floor((at + this.env.incidentOffsetSeconds) / 60);
  }

  drawnUntil() {
    return this.minutes.length * 60;
  }

  private percentAt(t: number) {
    let p = 0;
    for (const s of this.sets) if (s.at <= t) p = s.percent;
    return p;
  }

  /** Green's share of requests averaged over [t0, t1) (percent / 100). */
  private shareOver(t0: number, t1: number) {
    let share = 0;
    const groups = [
      { weight: 1 - STICKY.share, delay: 0, len: DNS_TTL_SECONDS },
      { weight: STICKY.share, delay: STICKY.fromSeconds, len: STICKY.toSeconds - STICKY.fromSeconds },
    ];
    for (const { at, delta } of this.answers)
      for (const g of groups) share += g.weight * delta * (rampIntegral(t1, at + g.delay, g.len) - rampIntegral(t0, at + g.delay, g.len));
    return Math.min(1, Math.max(0, share / 100 / (t1 - t0)));
  }

  /** Draws minutes up to (not including) minute `m`. */
  drawTo(m: number) {
    const { rng, scenario } = this;
    while (this.minutes.length < m) {
      const i = this.minutes.length;
      const env = this.env.at(i);
      const share = this.shareOver(i * 60, i * 60 + 60);
      const incident = this.incidentMinute >= 0 && i >= this.incidentMinute && i < this.incidentMinute + INCIDENT.minutes;
      const side = (s: 0 | 1, fraction: number, baseRate: number): SideMinute => {
        const requests = poisson(rng, scenario.rps * 60 * fraction);
        const rate = incident ? INCIDENT.rate * env.noise[s] : Math.min(1, baseRate * env.burst[s] * env.noise[s]);
        const errors = Math.min(requests, poisson(rng, requests * rate));
        const p99Ms = requests > 0 ? LATENCY_MS * Math.exp((0.05 + 0.5 / Math.sqrt(requests)) * env.latency[s]) : null;
        return { requests, errors, p99Ms };
      };
      this.minutes.push({
        at: new Date(i * 60_000).toISOString(),
        greenPercent: this.percentAt(i * 60),
        blue: side(0, 1 - share, BASE_ERROR_RATE),
        green: side(1, share, BASE_ERROR_RATE * scenario.errorRatio),
      });
    }
  }

  /** Green's failed requests in [from, to) (seconds): whole minutes, and the last one pro rata. */
  greenErrors(from: number, to: number): number {
    this.drawTo(Math.ceil(to / 60));
    let n = 0;
    for (let i = Math.floor(from / 60); i * 60 < to; i++) {
      const overlap = (Math.min(to, i * 60 + 60) - Math.max(from, i * 60)) / 60;
      n += this.minutes[i]!.green.errors * overlap;
    }
    return n;
  }
}

// ---------------------------------------------------------------- one canary

export type RunOutcome = 'PROMOTED' | 'UNHEALTHY' | 'INCONCLUSIVE';

export interface CanaryRun {
  outcome: RunOutcome;
  /** The step (1-based: 10, 25, 50 %) the canary ended in; STEPS.length when promoted. */
  step: number;
  /** Poll time of the UNHEALTHY verdict − Route53 INSYNC of step 1 (seconds); null unless UNHEALTHY at step 1. */
  detectionSecondsAfterStep1Insync: number | null;
  /** The same at whatever step green was found UNHEALTHY; null unless UNHEALTHY. */
  unhealthySecondsAfterStep1Insync: number | null;
  /** Green's failed requests from the first shift until the rollback poll + the DNS TTL (or the promotion + 30 min at 100 %). */
  greenFailedRequests: number;
  /** The same for an alarms-only canary (pair-wide 5xx rate > 2 %, 2 of 2 minutes); null when not computed. */
  alarmsOnlyGreenFailedRequests: number | null;
  /** When that alarm fired, seconds after the first shift; null if never during the canary. */
  alarmFiredAfterSeconds: number | null;
  /** Calls to analyze() and polls. */
  analyses: number;
  polls: number;
  /** Simulated seconds from the first shift to the end (rollback or promotion). */
  canarySeconds: number;
}

export interface RunOptions {
  settings?: AnalysisSettings;
  /** The pair's bakeSeconds (default BAKE_SECONDS); settings should be benchSettings(bakeSeconds). */
  bakeSeconds?: number;
  /** Also simulate the alarms-only canary on the same environment. */
  alarms?: boolean;
  /** Called after each judge poll (for tracing a run). */
  onPoll?: (poll: { step: number; now: number; insyncAt: number; bakeStartedAt: number; analysis: Analysis | null; outcome: Outcome }) => void;
}

/** One canary on `scenario`, from the seed tuple `seed` (deterministic). */
export function simulateCanary(scenario: Scenario, seed: readonly number[], options: RunOptions = {}): CanaryRun {
  const bakeSeconds = options.bakeSeconds ?? BAKE_SECONDS;
  const settings = options.settings ?? benchSettings(bakeSeconds);
  const env = new Environment(scenario, rngFor(...seed, 1));
  const timing = rngFor(...seed, 2);
  const world = new World(scenario, env, rngFor(...seed, 3));
  // t = 0 at the start of minute 0: the baseline's 30 minutes come before the first shift
  const firstShiftAt = settings.baselineMinutes * 60 + uniform(timing, 0, 60);
  const from = settledWindow(firstShiftAt * 1000, firstShiftAt * 1000, settings).from / 60_000;
  let analyses = 0;
  let polls = 0;
  let insync1 = 0;
  let changeAt = firstShiftAt;

  const end = (outcome: RunOutcome, step: number, now: number): CanaryRun => {
    const stopCountingAt = outcome === 'PROMOTED' ? now + AFTER_PROMOTION_SECONDS : now + DNS_TTL_SECONDS;
    if (outcome === 'PROMOTED') world.shift(STEPS.length - 1, STEPS.at(-1)!, now, now + uniform(timing, ...INSYNC_SECONDS));
    const alarms = options.alarms ? alarmsOnly(scenario, env, seed, firstShiftAt, bakeSeconds) : null;
    return {
      outcome,
      step,
      detectionSecondsAfterStep1Insync: outcome === 'UNHEALTHY' && step === 1 ? now - insync1 : null,
      unhealthySecondsAfterStep1Insync: outcome === 'UNHEALTHY' ? now - insync1 : null,
      greenFailedRequests: world.greenErrors(firstShiftAt, stopCountingAt),
      alarmsOnlyGreenFailedRequests: alarms?.greenFailedRequests ?? null,
      alarmFiredAfterSeconds: alarms?.firedAfterSeconds ?? null,
      analyses,
      polls,
      canarySeconds: now - firstShiftAt,
    };
  };

  for (let k = 0; k < STEPS.length - 1; k++) {
    const insyncAt = changeAt + uniform(timing, ...INSYNC_SECONDS);
    if (k === 0) insync1 = insyncAt;
    world.shift(k, STEPS[k]!, changeAt, insyncAt);
    const stepStartMinute = Math.ceil(changeAt / 60); // the first minute starting at/after the change
    const bakeStartedAt = insyncAt + DNS_TTL_SECONDS; // the first Judge green
    let key = '';
    let outcome: Outcome = 'INCONCLUSIVE';
    let leaningOnly = false;
    for (let now = bakeStartedAt; ; now += POLL_SECONDS) {
      polls++;
      const to = settledWindow(firstShiftAt * 1000, now * 1000, settings).to / 60_000;
      // the verdict can change only when a minute settles or the step changes
      let analysis: Analysis | null = null;
      if (`${to}/${stepStartMinute}` !== key) {
        key = `${to}/${stepStartMinute}`;
        world.drawTo(to);
        analysis = analyze(world.minutes.slice(from, to), settings, stepStartMinute - from);
        outcome = analysis.outcome;
        leaningOnly = analysis.leaningOnly;
        analyses++;
      }
      options.onPoll?.({ step: k + 1, now, insyncAt, bakeStartedAt, analysis, outcome });
      if (outcome === 'UNHEALTHY') return end('UNHEALTHY', k + 1, now);
      if (outcome === 'HEALTHY' && now >= bakeStartedAt + bakeSeconds) {
        changeAt = now;
        break;
      }
      if (outcome === 'INCONCLUSIVE' && now >= bakeStartedAt + settings.maxBakeSeconds) {
        // held only by evidence leaning against green: the step passes (judge.ts judgementAfter); else onInconclusive
        if (!leaningOnly && settings.onInconclusive !== 'promote') return end('INCONCLUSIVE', k + 1, now); // 'approval' would wait: counted as not promoted
        changeAt = now;
        break;
      }
    }
  }
  return end('PROMOTED', STEPS.length, changeAt);
}

/**
 * The same canary with no judge but the pair-wide alarm (5xx rate of both sides pooled > 2 %
 * over 1 minute, 2 of 2 datapoints): every step bakes exactly 300 s after its first poll. The
 * alarm fires at the end of its second breaching minute (no publication delay: kind to the
 * alarm); green's failed requests count until then + the DNS TTL, or, when it never fires
 * during the canary, until the promotion + 30 minutes at 100 %.
 */
function alarmsOnly(scenario: Scenario, env: Environment, seed: readonly number[], firstShiftAt: number, bakeSeconds: number) {
  const timing = rngFor(...seed, 4);
  const world = new World(scenario, env, rngFor(...seed, 5));
  let changeAt = firstShiftAt;
  let firedAt: number | null = null;
  let checkedMinute = Math.floor(firstShiftAt / 60);
  let breaching = 0;
  const check = (until: number) => {
    world.drawTo(Math.floor(until / 60));
    for (; firedAt === null && checkedMinute < Math.floor(until / 60); checkedMinute++) {
      const m = world.minutes[checkedMinute]!;
      const requests = m.blue.requests + m.green.requests;
      breaching = requests > 0 && (100 * (m.blue.errors + m.green.errors)) / requests > ALARM.ratePercent ? breaching + 1 : 0;
      if (breaching >= ALARM.datapoints) firedAt = checkedMinute * 60 + 60;
    }
  };
  for (let k = 0; k < STEPS.length; k++) {
    world.shift(k, STEPS[k]!, changeAt, changeAt + uniform(timing, ...INSYNC_SECONDS));
    if (k === STEPS.length - 1) break;
    // INSYNC, the DNS wait, then the bake: the next change comes at the first poll at or after its end
    const next = changeAt + uniform(timing, ...INSYNC_SECONDS) + DNS_TTL_SECONDS + bakeSeconds;
    check(next);
    if (firedAt !== null) break;
    changeAt = next;
  }
  const fired = firedAt as number | null;
  const stopAt = fired !== null ? fired + DNS_TTL_SECONDS : changeAt + AFTER_PROMOTION_SECONDS;
  return { greenFailedRequests: world.greenErrors(firstShiftAt, stopAt), firedAfterSeconds: fired === null ? null : fired - firstShiftAt };
}

// ---------------------------------------------------------------- cells and the benchmark

export interface CellResult {
  scenario: Scenario;
  runs: number;
  promotedRate: number;
  /** Rolled back, for any reason (1 − promotedRate, exactly). */
  rollbackRate: number;
  unhealthyRate: number;
  inconclusiveRate: number;
  detectedAtStep1Rate: number;
  detectedByStep2Rate: number;
  medianDetectionSecondsAfterStep1Insync: number | null;
  medianUnhealthySecondsAfterStep1Insync: number | null;
  medianGreenFailedRequests: number | null;
  alarmsOnlyMedianGreenFailedRequests: number | null;
  analyses: number;
  polls: number;
}

export function runCell(scenario: Scenario, runs: number, seed: readonly number[], options: RunOptions = {}): CellResult {
  const results: CanaryRun[] = [];
  for (let i = 0; i < runs; i++) results.push(simulateCanary(scenario, [...seed, i], options));
  const rate = (f: (r: CanaryRun) => boolean) => results.filter(f).length / runs;
  const alarms = results.map((r) => r.alarmsOnlyGreenFailedRequests).filter((x): x is number => x !== null);
  return {
    scenario,
    runs,
    promotedRate: rate((r) => r.outcome === 'PROMOTED'),
    rollbackRate: rate((r) => r.outcome !== 'PROMOTED'),
    unhealthyRate: rate((r) => r.outcome === 'UNHEALTHY'),
    inconclusiveRate: rate((r) => r.outcome === 'INCONCLUSIVE'),
    detectedAtStep1Rate: rate((r) => r.outcome === 'UNHEALTHY' && r.step === 1),
    detectedByStep2Rate: rate((r) => r.outcome === 'UNHEALTHY' && r.step <= 2),
    medianDetectionSecondsAfterStep1Insync: median(results.flatMap((r) => (r.detectionSecondsAfterStep1Insync === null ? [] : [r.detectionSecondsAfterStep1Insync]))),
    medianUnhealthySecondsAfterStep1Insync: median(results.flatMap((r) => (r.unhealthySecondsAfterStep1Insync === null ? [] : [r.unhealthySecondsAfterStep1Insync]))),
    medianGreenFailedRequests: median(results.map((r) => r.greenFailedRequests)),
    alarmsOnlyMedianGreenFailedRequests: median(alarms),
    analyses: results.reduce((n, r) => n + r.analyses, 0),
    polls: results.reduce((n, r) => n + r.polls, 0),
  };
}

export interface BenchOptions {
  seed: number;
  /** Multiplies every run count (1: the full benchmark). */
  scale?: number;
  /** The pairs' bakeSeconds (default BAKE_SECONDS). */
  bakeSeconds?: number;
}

export const RUNS = { detection: 200, aa: 1_000, incident: 500, lowTraffic: 200 };
export const DETECTION_RATIOS = [2, 5, 10];
export const DETECTION_RPS = [20, 100, 1_000];
export const AA_RPS = [20, 100, 1_000];
export const LOW_TRAFFIC_RPS = 0.2;
export const CONTROL_RPS = 100;
const bursty = (rps: number, errorRatio: number, incident = false): Scenario => ({ rps, errorRatio, bursts: BURST, noiseShape: NOISE_SHAPE, incident });

export interface BenchResult {
  seed: number;
  bakeSeconds: number;
  aaRuns: number;
  falseRollbackRate: number;
  aaUnhealthyRate: number;
  aaByRps: { rps: number; runs: number; rollbackRate: number }[];
  /** A/A canaries that promoted: seconds from the first shift to the promotion (median, p90). */
  aaPromotedSeconds: { median: number | null; p90: number | null };
  sharedIncidentRuns: number;
  sharedIncidentRollbackRate: number;
  detection: {
    errorRatio: number;
    rps: number;
    runs: number;
    detectedRate: number;
    detectedAtStep1Rate: number;
    detectedByStep2Rate: number;
    medianDetectionSeconds: number | null;
    medianGreenFailedRequests: number | null;
    alarmsOnlyMedianGreenFailedRequests: number | null;
    /** Over every detected run, at whatever step: poll of the UNHEALTHY verdict − INSYNC of step 1. */
    medianUnhealthySecondsAnyStep: number | null;
  }[];
  /** Control: the detection cells at CONTROL_RPS with Poisson errors (no bursts, no noise). */
  withoutBursts: { errorRatio: number; rps: number; runs: number; detectedRate: number; detectedAtStep1Rate: number; detectedByStep2Rate: number; medianUnhealthySecondsAnyStep: number | null }[];
  lowTraffic: { rps: number; runs: number; promotedRate: number; inconclusiveRate: number };
  goals: Record<string, boolean>;
  analyses: number;
  wallSeconds: number;
}

export function runBenchmark(options: BenchOptions): BenchResult {
  const t0 = performance.now();
  const scale = options.scale ?? 1;
  const n = (runs: number) => Math.max(1, Math.round(runs * scale));
  const bakeSeconds = options.bakeSeconds ?? BAKE_SECONDS;
  const run = { bakeSeconds };
  let analyses = 0;
  const count = <T extends CellResult>(c: T) => ((analyses += c.analyses), c);

  // A/A: the rps of each canary drawn from AA_RPS (a fixed draw per run index)
  const aaRuns = n(RUNS.aa);
  const pick = rngFor(options.seed, 100);
  const aaRpsOf = Array.from({ length: aaRuns }, () => AA_RPS[Math.floor(pick() * AA_RPS.length)]!);
  const aaByRps = AA_RPS.map((rps) => {
    const indices = aaRpsOf.flatMap((r, i) => (r === rps ? [i] : []));
    const runs = indices.map((i) => simulateCanary(bursty(rps, 1), [options.seed, 101, i], run));
    analyses += runs.reduce((s, r) => s + r.analyses, 0);
    return {
      rps,
      runs: runs.length,
      rollbacks: runs.filter((r) => r.outcome !== 'PROMOTED').length,
      unhealthy: runs.filter((r) => r.outcome === 'UNHEALTHY').length,
      seconds: runs.filter((r) => r.outcome === 'PROMOTED').map((r) => r.canarySeconds),
    };
  });
  const aaRollbacks = aaByRps.reduce((s, c) => s + c.rollbacks, 0);
  const aaUnhealthy = aaByRps.reduce((s, c) => s + c.unhealthy, 0);
  const aaSeconds = aaByRps.flatMap((c) => c.seconds).sort((a, b) => a - b);

  const incident = count(runCell(bursty(100, 1, true), n(RUNS.incident), [options.seed, 102], run));

  const detection = DETECTION_RATIOS.flatMap((errorRatio, i) =>
    DETECTION_RPS.map((rps, j) => {
      const c = count(runCell(bursty(rps, errorRatio), n(RUNS.detection), [options.seed, 103, i, j], { ...run, alarms: true }));
      return {
        errorRatio,
        rps,
        runs: c.runs,
        detectedRate: c.unhealthyRate,
        detectedAtStep1Rate: c.detectedAtStep1Rate,
        detectedByStep2Rate: c.detectedByStep2Rate,
        medianDetectionSeconds: c.medianDetectionSecondsAfterStep1Insync,
        medianGreenFailedRequests: c.medianGreenFailedRequests === null ? null : Math.round(c.medianGreenFailedRequests),
        alarmsOnlyMedianGreenFailedRequests: c.alarmsOnlyMedianGreenFailedRequests === null ? null : Math.round(c.alarmsOnlyMedianGreenFailedRequests),
        medianUnhealthySecondsAnyStep: c.medianUnhealthySecondsAfterStep1Insync === null ? null : Math.round(c.medianUnhealthySecondsAfterStep1Insync),
      };
    }),
  );

  const low = count(runCell(bursty(LOW_TRAFFIC_RPS, 1), n(RUNS.lowTraffic), [options.seed, 104], run));

  const withoutBursts = DETECTION_RATIOS.map((errorRatio, i) => {
    const c = count(runCell({ rps: CONTROL_RPS, errorRatio, bursts: false, noiseShape: null, incident: false }, n(RUNS.detection), [options.seed, 105, i], run));
    return {
      errorRatio,
      rps: CONTROL_RPS,
      runs: c.runs,
      detectedRate: c.unhealthyRate,
      detectedAtStep1Rate: c.detectedAtStep1Rate,
      detectedByStep2Rate: c.detectedByStep2Rate,
      medianUnhealthySecondsAnyStep: c.medianUnhealthySecondsAfterStep1Insync === null ? null : Math.round(c.medianUnhealthySecondsAfterStep1Insync),
    };
  });

  const falseRollbackRate = aaRollbacks / aaRuns;
  const cell = (errorRatio: number, rps: number) => detection.find((d) => d.errorRatio === errorRatio && d.rps === rps)!;
  const goals = {
    falseRollbackRateAtMost1Percent: falseRollbackRate <= 0.01,
    sharedIncidentRollbackRateAtMost1Percent: incident.rollbackRate <= 0.01,
    at100Rps5xCaughtAtStep1In95Percent: cell(5, 100).detectedAtStep1Rate >= 0.95,
    at100Rps5xMedianDetectionAtMost240s: (cell(5, 100).medianDetectionSeconds ?? Infinity) <= 240,
    at100Rps2xCaughtByStep2In80Percent: cell(2, 100).detectedByStep2Rate >= 0.8,
    // "2x caught by end of step 2 in >= 80 %", at every traffic level benchmarked
    every2xCaughtByStep2In80Percent: DETECTION_RPS.every((rps) => cell(2, rps).detectedByStep2Rate >= 0.8),
    lowTrafficNothingPromoted: low.promotedRate === 0,
  };
  return {
    seed: options.seed,
    bakeSeconds,
    aaRuns,
    falseRollbackRate,
    aaUnhealthyRate: aaUnhealthy / aaRuns,
    aaByRps: aaByRps.map((c) => ({ rps: c.rps, runs: c.runs, rollbackRate: c.runs ? c.rollbacks / c.runs : 0 })),
    aaPromotedSeconds: {
      median: aaSeconds.length ? Math.round(median(aaSeconds)!) : null,
      p90: aaSeconds.length ? Math.round(aaSeconds[Math.min(aaSeconds.length - 1, Math.floor(0.9 * aaSeconds.length))]!) : null,
    },
    sharedIncidentRuns: incident.runs,
    sharedIncidentRollbackRate: incident.rollbackRate,
    detection,
    withoutBursts,
    lowTraffic: { rps: LOW_TRAFFIC_RPS, runs: low.runs, promotedRate: low.promotedRate, inconclusiveRate: low.inconclusiveRate },
    goals,
    analyses,
    wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
}

/** The final line: one JSON object. */
export function resultLine(r: BenchResult): string {
  return JSON.stringify({
    aaRuns: r.aaRuns,
    falseRollbackRate: r.falseRollbackRate,
    sharedIncidentRollbackRate: r.sharedIncidentRollbackRate,
    detection: r.detection,
    lowTraffic: r.lowTraffic,
    // medianDetectionSeconds: poll time of the UNHEALTHY verdict − Route53 INSYNC of step 1, over runs detected at step 1
    detectionSecondsAre: 'unhealthyPollAt - step1InsyncAt, median over runs detected at step 1',
    falseRollbackRateIs: 'A/A canaries rolled back for any reason (UNHEALTHY or INCONCLUSIVE at maxBakeSeconds)',
    aaUnhealthyRate: r.aaUnhealthyRate,
    aaByRps: r.aaByRps,
    aaPromotedSeconds: r.aaPromotedSeconds,
    withoutBursts: r.withoutBursts,
    sharedIncidentRuns: r.sharedIncidentRuns,
    goals: r.goals,
    model: { bursts: BURST, noiseShape: NOISE_SHAPE, sticky: STICKY, incident: INCIDENT, baseErrorRate: BASE_ERROR_RATE },
    seed: r.seed,
    bakeSeconds: r.bakeSeconds,
    analyses: r.analyses,
    wallSeconds: r.wallSeconds,
  });
}

export function table(r: BenchResult): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`.padStart(7);
  const lines = [
    `A/A: ${r.aaRuns} canaries (bursty), rolled back ${pct(r.falseRollbackRate)} (UNHEALTHY ${pct(r.aaUnhealthyRate)}); ` +
      r.aaByRps.map((c) => `${c.rps} rps: ${c.runs} runs, ${pct(c.rollbackRate).trim()}`).join('; '),
    `A/A promoted after ${r.aaPromotedSeconds.median} s (median), ${r.aaPromotedSeconds.p90} s (p90), from the first shift (3 steps of ${r.bakeSeconds} s bake)`,
    `shared incident at 100 rps: ${r.sharedIncidentRuns} canaries, rolled back ${pct(r.sharedIncidentRollbackRate)}`,
    `low traffic ${r.lowTraffic.rps} rps: ${r.lowTraffic.runs} canaries, promoted ${pct(r.lowTraffic.promotedRate)}, INCONCLUSIVE ${pct(r.lowTraffic.inconclusiveRate)}`,
    '',
    'bursty errors. s: median seconds from INSYNC of step 1 to the UNHEALTHY poll (step 1 detections / any step)',
    'ratio    rps  detected  at step 1  by step 2   s (step 1)  s (any)  green failed (median)  alarms only',
  ];
  const dash = (x: number | null) => (x === null ? '-' : String(Math.round(x)));
  for (const d of r.detection)
    lines.push(
      `${`${d.errorRatio}x`.padStart(5)} ${String(d.rps).padStart(6)}  ${pct(d.detectedRate)}  ${pct(d.detectedAtStep1Rate).padStart(9)}  ${pct(d.detectedByStep2Rate).padStart(9)}  ${dash(d.medianDetectionSeconds).padStart(11)}  ${dash(d.medianUnhealthySecondsAnyStep).padStart(7)}  ${dash(d.medianGreenFailedRequests).padStart(21)}  ${dash(d.alarmsOnlyMedianGreenFailedRequests).padStart(11)}`,
    );
  lines.push('', 'control: Poisson errors (no bursts, no noise)');
  for (const d of r.withoutBursts)
    lines.push(
      `${`${d.errorRatio}x`.padStart(5)} ${String(d.rps).padStart(6)}  ${pct(d.detectedRate)}  ${pct(d.detectedAtStep1Rate).padStart(9)}  ${pct(d.detectedByStep2Rate).padStart(9)}  ${'-'.padStart(11)}  ${dash(d.medianUnhealthySecondsAnyStep).padStart(7)}`,
    );
  lines.push('', 'goals:');
  for (const [goal, met] of Object.entries(r.goals)) lines.push(`  ${met ? 'met    ' : 'NOT met'}  ${goal}`);
  lines.push(`${r.analyses} analyze() calls, ${r.wallSeconds} s wall`);
  return lines;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function main() {
  const json = process.argv.includes('--json');
  const seed = Number(argValue('--seed') ?? 1);
  const scale = Number(argValue('--scale') ?? 1);
  const bakeSeconds = Number(argValue('--bake') ?? BAKE_SECONDS);
  if (!Number.isInteger(seed) || !(scale > 0) || !(Number.isInteger(bakeSeconds) && bakeSeconds >= 0)) throw new Error('usage: bench-judge [--json] [--seed N] [--scale X] [--bake SECONDS]');
  const result = runBenchmark({ seed, scale, bakeSeconds });
  if (!json) for (const line of table(result)) console.log(line);
  console.log(resultLine(result));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
