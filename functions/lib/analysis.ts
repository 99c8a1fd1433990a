/**
 * Green against blue, from each side's own load-balancer minutes: the one judge that Judge
 * green, `ecs-dns-canary analyze` and the benchmark all run. Pure: minutes in, a verdict with
 * its numbers out.
 *
 * - Errors: a sequential, anytime-valid test (an e-value, Lindon & Malek 2020; DESIGN.md 7).
 *   Given the errors of a minute on both sides, green's count is binomial with p = s (green's
 *   measured share of requests) when both sides err alike. Each minute's likelihood ratio for
 *   "green errs r times as often" is multiplied over the minutes and mixed over a grid of r > 1
 *   (one-sided: a better green never fails). Overdispersion (errors in bursts) is met the
 *   quasi-likelihood way: each minute's log ratio is divided by φ, the quasi-binomial
 *   dispersion of green's share of the errors minute by minute, never below 1; and no one
 *   minute carries more than 1/MIN_MINUTES_OF_EVIDENCE of the way to the threshold.
 *   Green is UNHEALTHY once the e-value reaches 1/α and green's rate exceeds blue's by the
 *   configured effect (a ratio and an absolute floor).
 * - A shared incident: a minute in which blue itself fails (its rate at least `incident.ratio`
 *   times its rate before the canary, and at least `incident.floorPercent`) is left out of the
 *   test, and while the newest minute is one, the verdict is held (INCONCLUSIVE).
 * - Latency and other values: green's against blue's, a ratio and a floor, in each of the last
 *   `minutes` settled minutes with enough requests on both sides.
 * - No data is never a pass: a step is HEALTHY only once green served `minRequests` in it and
 *   green's measured share reached `minShareOfWeight` of its weight.
 * - Nor is evidence on its way: while the e-value leans against green (past √(1/α)) with the
 *   effect shown, the step is INCONCLUSIVE and its bake goes on, up to maxBakeSeconds; then
 *   it passes (the test never reached 1/α).
 */

export interface CountPair {
  requests: number;
  errors: number;
}

/** One side's settled minute. */
export interface SideMinute extends CountPair {
  /** TargetResponseTime p99 in ms; null when the side served nothing that minute. */
  p99Ms: number | null;
  /** Custom count metrics (analysis.metrics of kind count), by name. */
  counts?: Record<string, CountPair>;
  /** Custom value metrics (analysis.metrics of kind value), by name. */
  values?: Record<string, number | null>;
}

/** One settled minute of both sides; greenPercent is the weight in effect (0 before the first shift). */
export interface Minute {
  /** The minute's start (ISO); optional in backtest files. */
  at?: string;
  greenPercent: number;
  blue: SideMinute;
  green: SideMinute;
}

export interface ValueCheck {
  /** Green is worse when its value exceeds blue's times this ratio ... */
  ratio: number;
  /** ... and by at least this much (ms for latency). */
  floor: number;
}

export interface AnalysisSettings {
  /** enforce: act on the verdict; observe: record it and send WouldRollBack, act on nothing. */
  mode: 'enforce' | 'observe';
  /** The test's false-rollback bound over a whole canary (one-sided). */
  alpha: number;
  /** The least effect worth a rollback: green's error rate at least this times blue's ... */
  errorRatio: number;
  /** ... and at least this many percentage points above it. */
  errorFloorPercent: number;
  /** A minute counts once it ended at least this long ago (ALB datapoints keep growing until then). */
  settleSeconds: number;
  /** Requests green must serve in a step before the step can pass. */
  minRequests: number;
  /** Settled minutes a step needs before it can pass: its bake, judged on settled data (ceil(bakeSeconds / 60)). */
  minStepMinutes: number;
  /** Green's measured share of requests must reach this fraction of its weight (DNS caches have moved). */
  minShareOfWeight: number;
  /** A step's bake extends while the verdict is INCONCLUSIVE, up to this long; then onInconclusive. */
  maxBakeSeconds: number;
  onInconclusive: 'rollback' | 'promote' | 'approval';
  /** Green's p99 against blue's; false: not judged. */
  latency: false | (ValueCheck & { minutes: number; minRequests: number });
  /** Blue failing this much is a shared incident: held, not blamed on green. */
  incident: { ratio: number; floorPercent: number };
  /** Minutes of blue before the first shift read for its baseline (what a shared incident is measured against). */
  baselineMinutes: number;
  /** Custom metrics per side (names of count pairs and values); their queries live with the config. */
  counts: string[];
  values: (ValueCheck & { name: string })[];
}

export const DEFAULT_SETTINGS: AnalysisSettings = {
  mode: 'enforce',
  alpha: 0.01,
  errorRatio: 1.5,
  errorFloorPercent: 0.05,
  settleSeconds: 150,
  minRequests: 300,
  minStepMinutes: 1,
  minShareOfWeight: 0.5,
  maxBakeSeconds: 1_800,
  onInconclusive: 'rollback',
  latency: { ratio: 1.5, floor: 50, minutes: 3, minRequests: 100 },
  incident: { ratio: 5, floorPercent: 1 },
  baselineMinutes: 30,
  counts: [],
  values: [],
};

export type Outcome = 'HEALTHY' | 'UNHEALTHY' | 'INCONCLUSIVE';

export interface SideFigures {
  requests: number;
  errors: number;
  /** Error rate, percent. */
  ratePercent: number | null;
  /** p99 of the newest settled minute with traffic, ms. */
  p99Ms: number | null;
}

export interface ErrorTest {
  name: string;
  eValue: number;
  /** 1/α (α split evenly over the count tests). */
  threshold: number;
  dispersion: number;
  blue: CountPair;
  green: CountPair;
  /** green's rate / blue's; null while either has no requests (Infinity when blue has no errors). */
  ratio: number | null;
  unhealthy: boolean;
  /** The evidence leans against green (e-value at least √threshold, with the effect): a step does not pass on it. */
  leaning: boolean;
}

/** What a verdict rests on: it goes into the state output, the notifications, the claim and `history --verbose`. */
export interface Analysis {
  outcome: Outcome;
  reasons: string[];
  /** Settled minutes read, and of those in the current step. */
  minutes: number;
  stepMinutes: number;
  /** The whole canary so far (the minutes the error test used). */
  blue: SideFigures;
  green: SideFigures;
  /** Green in the current step: requests, and its measured share of requests against its weight. */
  step: { greenPercent: number; greenRequests: number; sharePercent: number | null };
  /** The built-in error test's evidence (1 when nothing was tested). */
  eValue: number;
  tests: ErrorTest[];
  thresholds: {
    alpha: number;
    eValue: number;
    errorRatio: number;
    errorFloorPercent: number;
    minRequests: number;
    minShareOfWeight: number;
    latencyRatio: number | null;
    latencyFloorMs: number | null;
  };
  /** Minutes left out because blue was failing too. */
  incidentMinutes: number;
  /**
   * INCONCLUSIVE only because the evidence leans against green (the data is all there): at
   * maxBakeSeconds the step passes, since the test never reached 1/α (onInconclusive is for
   * missing data and shared incidents).
   */
  leaningOnly: boolean;
}

const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)} %`;
const rateOf = (c: CountPair) => (c.requests > 0 ? c.errors / c.requests : null);
const add = (a: CountPair, b: CountPair): CountPair => ({ requests: a.requests + b.requests, errors: a.errors + b.errors });
const ZERO: CountPair = { requests: 0, errors: 0 };

/** Rate ratios the e-value mixes over: 8, log-spaced from 1.25 to 40, equal prior weight (few, so little evidence is spent on the prior). */
const RATIOS = Array.from({ length: 8 }, (_, j) => 1.25 * 32 ** (j / 7));

/** The error test alone cannot roll back on fewer minutes than this (a burst is one minute, a bad version is every minute). */
export const MIN_MINUTES_OF_EVIDENCE = 4;

/**
 * A step does not pass while the evidence leans against green: its e-value is past halfway
 * to the threshold on the log scale (√(1/α), 10 at α = 0.01) and green's rate shows the
 * configured effect. The step bakes on (INCONCLUSIVE) until the evidence settles either way,
 * so a bad green is caught at the weight where it began to show, not one step later. It never
 * rolls back by itself: at maxBakeSeconds the step passes (Analysis.leaningOnly), and under
 * equal rates the e-value drifts down; the benchmark measures what it costs a healthy green.
 */
export const leaningEValue = (threshold: number) => Math.sqrt(threshold);

const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m === -Infinity ? -Infinity : m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/**
 * The quasi-binomial dispersion of green's share of each minute's errors: the Pearson χ² of
 * green's counts around the best-fitting constant ratio (so a green that is steadily worse does
 * not inflate it), over its degrees of freedom, with two pseudo-minutes at 1. It is 1 when
 * errors split between the sides as the binomial says, and more when they come in bursts on
 * one side. Variation both sides share (load, a shared dependency) leaves it alone: it does
 * not move green's share.
 */
const K0 = 2;
export function dispersion(minutes: { green: CountPair; blue: CountPair }[]): number {
  const used = minutes.flatMap(({ green, blue }) => {
    const m = green.errors + blue.errors;
    return green.requests > 0 && blue.requests > 0 && m > 0 ? [{ x: green.errors, m, s: green.requests / (green.requests + blue.requests) }] : [];
  });
  if (used.length < 2) return 1;
  const p = (r: number, s: number) => (r * s) / (r * s + 1 - s);
  let best = { r: 1, ll: -Infinity };
  for (let k = -60; k <= 60; k++) {
    const r = Math.exp(k / 15); // e^-4 .. e^4
    const ll = used.reduce((sum, u) => sum + u.x * Math.log(p(r, u.s)) + (u.m - u.x) * Math.log(1 - p(r, u.s)), 0);
    if (ll > best.ll) best = { r, ll };
  }
  const chi2 = used.reduce((sum, u) => {
    const q = p(best.r, u.s);
    return sum + (u.x - u.m * q) ** 2 / (u.m * q * (1 - q));
  }, 0);
  return Math.max(1, (chi2 + K0) / (used.length - 1 + K0));
}

/**
 * The e-value that green errs more than blue, from minutes of (green, blue) counts: the
 * product over minutes of binomial likelihood ratios of green's share of the errors
 * (p(r) = r·s / (r·s + 1 − s) against p(1) = s, s = green's share of requests), each tempered
 * by 1/φ and capped (no one minute, a burst say, weighs more than 1/MIN_MINUTES_OF_EVIDENCE of
 * the way to the threshold), mixed over the ratios r. Each step only shrinks a likelihood
 * ratio (a power 1/φ ≤ 1, by Jensen; a minimum), so it stays an e-value under equal rates.
 */
export function eValue(minutes: { green: CountPair; blue: CountPair }[], phi: number, threshold: number): number {
  const cap = Math.log(threshold) / MIN_MINUTES_OF_EVIDENCE;
  const logs = RATIOS.map(() => 0);
  for (const { green, blue } of minutes) {
    const n = green.requests + blue.requests;
    const m = green.errors + blue.errors;
    if (green.requests <= 0 || blue.requests <= 0 || m === 0) continue;
    const s = green.requests / n;
    RATIOS.forEach((r, j) => {
      const p = (r * s) / (r * s + 1 - s);
      logs[j]! += Math.min(cap, (green.errors * Math.log(p / s) + blue.errors * Math.log((1 - p) / (1 - s))) / phi);
    });
  }
  return Math.exp(logSumExp(logs.map((l) => l - Math.log(RATIOS.length))));
}

/** A minute in which blue fails as green might: a shared incident, not green's fault. */
function incidentOf(settings: AnalysisSettings, baselineRate: number | null) {
  const floor = settings.incident.floorPercent / 100;
  const bar = Math.max(floor, baselineRate === null ? 0 : settings.incident.ratio * baselineRate);
  return (m: Minute) => m.blue.requests > 0 && m.blue.errors >= 5 && m.blue.errors / m.blue.requests >= bar;
}

function countTest(name: string, pairs: { green: CountPair; blue: CountPair }[], settings: AnalysisSettings, threshold: number): ErrorTest {
  const green = pairs.map((p) => p.green).reduce(add, ZERO);
  const blue = pairs.map((p) => p.blue).reduce(add, ZERO);
  const phi = dispersion(pairs);
  const e = eValue(pairs, phi, threshold);
  const g = rateOf(green);
  const b = rateOf(blue);
  const ratio = g === null || b === null ? null : b === 0 ? (g === 0 ? 1 : Infinity) : g / b;
  // MIN_MINUTES_OF_EVIDENCE capped minutes reach the threshold exactly: compare with room for rounding.
  const effect = g !== null && b !== null && g >= settings.errorRatio * b && g - b >= settings.errorFloorPercent / 100;
  const unhealthy = effect && e >= threshold * (1 - 1e-9);
  const leaning = effect && e >= leaningEValue(threshold);
  return { name, eValue: e, threshold, dispersion: phi, blue, green, ratio, unhealthy, leaning };
}

const figures = (c: CountPair, p99: number | null): SideFigures => ({
  requests: c.requests,
  errors: c.errors,
  ratePercent: c.requests > 0 ? Number(((100 * c.errors) / c.requests).toFixed(4)) : null,
  p99Ms: p99 === null ? null : Math.round(p99),
});

/** "42 (0.12 % of 35,000)" */
const countText = (c: CountPair) => `${c.errors} of ${c.requests.toLocaleString('en-US')} (${c.requests ? pct(c.errors / c.requests) : 'no requests'})`;

function valueFailure(
  name: string,
  unit: string,
  check: ValueCheck & { minutes: number },
  minutes: Minute[],
  read: (side: SideMinute) => number | null,
  qualifies: (m: Minute) => boolean,
): string | undefined {
  const usable = minutes.filter((m) => qualifies(m) && read(m.green) !== null && read(m.blue) !== null);
  const last = usable.slice(-check.minutes);
  if (last.length < check.minutes) return undefined;
  const worse = (m: Minute) => read(m.green)! > check.ratio * read(m.blue)! && read(m.green)! - read(m.blue)! >= check.floor;
  if (!last.every(worse)) return undefined;
  const g = last.map((m) => Math.round(read(m.green)!)).join(', ');
  const b = last.map((m) => Math.round(read(m.blue)!)).join(', ');
  return `green's ${name} ${g}${unit} vs blue's ${b}${unit} in the last ${check.minutes} settled minutes (over ${check.ratio}x and +${check.floor}${unit})`;
}

/**
 * The verdict on green after the newest of `minutes` (settled, oldest first). `stepStart` is the
 * index of the current step's first minute (minutes before the first shift, greenPercent 0,
 * are blue's baseline); `greenPercent` the current step's weight (default: the newest minute's,
 * which is the previous step's while the current one has no settled minute yet).
 */
export function analyze(minutes: readonly Minute[], settings: AnalysisSettings, stepStart: number, greenPercent?: number): Analysis {
  const firstCanary = minutes.findIndex((m) => m.greenPercent > 0);
  const baselineMinutes = firstCanary < 0 ? [...minutes] : minutes.slice(0, firstCanary);
  const canary = firstCanary < 0 ? [] : minutes.slice(firstCanary);
  const baselineBlue = baselineMinutes.map((m) => m.blue);
  const baselineRate = rateOf(baselineBlue.reduce(add, ZERO));
  const isIncident = incidentOf(settings, baselineBlue.reduce(add, ZERO).requests >= settings.minRequests ? baselineRate : null);
  const calm = canary.filter((m) => !isIncident(m));
  const incidentMinutes = canary.length - calm.length;

  const tests = [
    { name: 'errors', read: (s: SideMinute): CountPair => ({ requests: s.requests, errors: s.errors }) },
    ...settings.counts.map((name) => ({ name, read: (s: SideMinute): CountPair => s.counts?.[name] ?? ZERO })),
  ];
  const threshold = tests.length / settings.alpha;
  const results = tests.map((t) =>
    countTest(
      t.name,
      calm.map((m) => ({ green: t.read(m.green), blue: t.read(m.blue) })),
      settings,
      threshold,
    ),
  );
  const errors = results[0]!;

  const reasons: string[] = [];
  let outcome: Outcome = 'HEALTHY';
  for (const t of results.filter((r) => r.unhealthy)) {
    outcome = 'UNHEALTHY';
    reasons.push(
      `green's ${t.name === 'errors' ? '5xx' : t.name} ${countText(t.green)} vs blue's ${countText(t.blue)}: ${t.ratio === Infinity ? 'blue had none' : `${t.ratio!.toFixed(1)}x`}, e-value ${formatE(t.eValue)} >= ${formatE(t.threshold)}`,
    );
  }
  const enough = (m: Minute, n: number) => m.green.requests >= n && m.blue.requests >= n;
  if (settings.latency) {
    const latency = settings.latency;
    const bad = valueFailure('p99', ' ms', latency, calm, (s) => s.p99Ms, (m) => enough(m, latency.minRequests));
    if (bad) ((outcome = 'UNHEALTHY'), reasons.push(bad));
  }
  for (const v of settings.values) {
    const bad = valueFailure(v.name, '', { ...v, minutes: settings.latency ? settings.latency.minutes : 3 }, calm, (s) => s.values?.[v.name] ?? null, () => true);
    if (bad) ((outcome = 'UNHEALTHY'), reasons.push(bad));
  }

  const step = minutes.slice(Math.max(stepStart, firstCanary < 0 ? minutes.length : firstCanary));
  const stepGreen = step.map((m) => m.green).reduce(add, ZERO);
  const newest = step.at(-1);
  const share = newest && newest.green.requests + newest.blue.requests > 0 ? newest.green.requests / (newest.green.requests + newest.blue.requests) : null;
  const weight = greenPercent ?? newest?.greenPercent ?? minutes.at(-1)?.greenPercent ?? 0;
  let leaningOnly = false;
  if (outcome !== 'UNHEALTHY') {
    const missing: string[] = [];
    const latest = minutes.at(-1);
    if (latest && canary.length > 0 && isIncident(latest))
      missing.push(
        `blue is failing too (${countText(latest.blue)} in the newest settled minute${baselineRate !== null ? `, ${pct(baselineRate)} before the canary` : ''}): a shared incident, the verdict is held`,
      );
    if (step.length === 0) missing.push(`no settled minute of green at ${weight} % yet (minutes settle ${settings.settleSeconds} s after they end)`);
    else {
      if (step.length < settings.minStepMinutes)
        missing.push(`${step.length} settled minute${step.length === 1 ? '' : 's'} of green at ${weight} % of the ${settings.minStepMinutes} the bake judges (minutes settle ${settings.settleSeconds} s after they end)`);
      if (stepGreen.requests < settings.minRequests)
        missing.push(`green served ${stepGreen.requests} requests in ${step.length * 60} s (needs ${settings.minRequests})`);
      if (weight > 0 && (share ?? 0) < (settings.minShareOfWeight * weight) / 100)
        missing.push(`green's share of requests is ${share === null ? 'nothing' : pct(share, 1)} at weight ${weight} % (needs ${((settings.minShareOfWeight * weight)).toFixed(1)} %: DNS caches have not moved yet)`);
    }
    const leaning = results
      .filter((r) => r.leaning)
      .map(
        (t) =>
          `the evidence leans against green (${t.name === 'errors' ? '5xx' : t.name}: ${t.ratio === Infinity ? 'blue had none' : `${t.ratio!.toFixed(1)}x blue's rate`}, e-value ${formatE(t.eValue)}, rolls back at ${formatE(t.threshold)}): the bake goes on until it settles`,
      );
    leaningOnly = leaning.length > 0 && missing.length === 0;
    if (missing.length || leaning.length) ((outcome = 'INCONCLUSIVE'), reasons.push(...leaning, ...missing));
  }

  const p99 = (side: 'blue' | 'green') => [...calm].reverse().find((m) => m[side].p99Ms !== null)?.[side].p99Ms ?? null;
  return {
    outcome,
    reasons,
    minutes: minutes.length,
    stepMinutes: step.length,
    blue: figures(errors.blue, p99('blue')),
    green: figures(errors.green, p99('green')),
    step: { greenPercent: weight, greenRequests: stepGreen.requests, sharePercent: share === null ? null : Number((100 * share).toFixed(2)) },
    eValue: Number(errors.eValue.toPrecision(4)),
    tests: results,
    thresholds: {
      alpha: settings.alpha,
      eValue: threshold,
      errorRatio: settings.errorRatio,
      errorFloorPercent: settings.errorFloorPercent,
      minRequests: settings.minRequests,
      minShareOfWeight: settings.minShareOfWeight,
      latencyRatio: settings.latency ? settings.latency.ratio : null,
      latencyFloorMs: settings.latency ? settings.latency.floor : null,
    },
    incidentMinutes,
    leaningOnly,
  };
}

export const formatE = (e: number) => (e >= 1e4 || (e > 0 && e < 1e-3) ? e.toExponential(1) : Number(e.toPrecision(3)).toString());

/** One line for a verdict's numbers: what a notification, `status` and `history --verbose` print. */
export function summaryLine(a: Omit<Analysis, 'tests'>): string {
  const side = (name: string, f: SideFigures) =>
    `${name} ${f.errors}/${f.requests.toLocaleString('en-US')}${f.ratePercent === null ? '' : ` (${f.ratePercent.toFixed(2)} %)`}${f.p99Ms === null ? '' : ` p99 ${f.p99Ms} ms`}`;
  const share = a.step.sharePercent === null ? 'no share yet' : `share ${a.step.sharePercent.toFixed(1)} % of weight ${a.step.greenPercent} %`;
  return `${side('green', a.green)}; ${side('blue', a.blue)}; ${share}; e-value ${formatE(a.eValue)} (rolls back at ${formatE(a.thresholds.eValue)})`;
}

export interface Backtest {
  outcome: Outcome;
  /** Index of the first minute after which green was UNHEALTHY; null if never. */
  unhealthyAtMinute: number | null;
  eValue: number;
  reasons: string[];
  /** The verdict after each minute, using only the minutes up to it. */
  verdicts: Analysis[];
}

/**
 * The judge replayed over consecutive settled minutes, one verdict after each (using only the
 * minutes up to it); a step is a run of minutes at one greenPercent. UNHEALTHY at the first
 * unhealthy verdict; HEALTHY when every step of green was HEALTHY at some minute; else
 * INCONCLUSIVE (green never had the evidence to pass).
 */
export function backtest(minutes: readonly Minute[], settings: AnalysisSettings): Backtest {
  const verdicts: Analysis[] = [];
  /** Each step of green (by its first minute): whether it passed, and its latest verdict. */
  const steps = new Map<number, { greenPercent: number; passed: boolean; latest: Analysis }>();
  let stepStart = 0;
  for (let i = 0; i < minutes.length; i++) {
    if (i > 0 && minutes[i]!.greenPercent !== minutes[i - 1]!.greenPercent) stepStart = i;
    const a = analyze(minutes.slice(0, i + 1), settings, stepStart);
    verdicts.push(a);
    const greenPercent = minutes[i]!.greenPercent;
    if (greenPercent > 0) steps.set(stepStart, { greenPercent, passed: (steps.get(stepStart)?.passed ?? false) || a.outcome === 'HEALTHY', latest: a });
    if (a.outcome === 'UNHEALTHY') return { outcome: 'UNHEALTHY', unhealthyAtMinute: i, eValue: a.eValue, reasons: a.reasons, verdicts };
  }
  const last = verdicts.at(-1);
  const failed = [...steps.values()].filter((s) => !s.passed);
  const healthy = steps.size > 0 && failed.length === 0;
  // The newest verdict's reasons; when it passed, those of the steps that never did.
  const reasons = healthy
    ? []
    : last?.reasons.length
      ? last.reasons
      : steps.size === 0
        ? ['green never served traffic in these minutes']
        : failed.map((s) => `the step at ${s.greenPercent} % never passed: ${s.latest.reasons.join('; ')}`);
  return { outcome: healthy ? 'HEALTHY' : 'INCONCLUSIVE', unhealthyAtMinute: null, eValue: last?.eValue ?? 1, reasons, verdicts };
}
