import { analysisOf, type PairConfig } from '../functions/lib/config.js';
import { settingsOf } from '../functions/lib/metrics.js';
import { expandSteps, weightsFor, type Weights } from '../functions/lib/schedule.js';

/**
 * What the plan cannot know offline. Times are in seconds.
 * - `insyncSeconds`: from a Route53 change batch to Route53 reporting it INSYNC. Route53
 *   changes usually reach INSYNC within 60 s; it is not a promise.
 * - `eventSeconds`: from the alarm changing state to the run hearing of it (an EventBridge rule
 *   on the alarm's state change signals the run's listener).
 */
export interface PlanAssumptions {
  insyncSeconds: number;
  eventSeconds: number;
}

/** Route53 changes usually reach INSYNC within 60 s; alarm events usually reach the run within 5 s. */
export const DEFAULT_ASSUMPTIONS: PlanAssumptions = { insyncSeconds: 60, eventSeconds: 5 };

/**
 * How much of the traffic a bad green serves if it fails right as this step's traffic arrives
 * (at `judgedFromSeconds`, just after the first check of the step), until the rollback is over.
 *
 * Model: constant request rate; a weight change (a shift or the rollback) takes effect for all
 * clients at once when its INSYNC + DNS wait ends, so green's fraction of traffic is g(t) = 0
 * before the first step's `judgedFromSeconds`, pₖ/100 from step k's `judgedFromSeconds`, and 0
 * again once the rollback is over. The failure is noticed at T = J + latency, where J is this
 * step's `judgedFromSeconds` and latency is
 * - poll only: `pollSeconds` (the next check; with no bake, the next step's first check);
 * - event: min(`eventSeconds`, poll-only latency): the polls go on when the event is lost.
 * The rollback (blue 100 / green 0) is then over at E = T + INSYNC + DNS wait, and
 * - `…Seconds` = ∫ g(t) dt from J to E: green's exposure in seconds of full traffic; normally
 *   p/100 × (latency + INSYNC + DNS wait);
 * - `…Share` = ∫ g(t) dt from 0 to E ÷ E: green's requests before the rollback is over (those
 *   of the earlier steps included: they looked healthy, but were the bad version) over all
 *   requests from the first shift to E. Normally
 *   (Σₖ₍ₖ₌₁…ᵢ₋₁₎ pₖ/100 × (Jₖ₊₁ − Jₖ) + pᵢ/100 × (latency + INSYNC + DNS wait)) ÷ E.
 * When the failure would be noticed only after the promotion (the bake is shorter than the
 * latency in the last step), there is no rollback: `…Seconds` is Infinity and `…Share` 1.
 */
export interface BlastRadius {
  eventSeconds: number;
  pollSeconds: number;
  eventShare: number;
  pollShare: number;
}

/** The request rate `plan` assumes when --traffic is not given: the whole record's, both sides together. */
export const DEFAULT_TRAFFIC_RPS = 50;

/**
 * When the judge can first pass a step, at the record's request rate `trafficRps`, and whether
 * that is within the bake. As the judge counts (functions/lib/analysis.ts): a step's minutes are
 * the whole minutes from its shift (taken here to be on a minute boundary: a shift mid-minute
 * adds up to a minute); a minute counts once it is settled, `settleSeconds` after it ends; a step
 * passes on at least `minStepMinutes` of them (metrics.ts settingsOf: the bake's, and no fewer
 * than the error test needs to see a bad green) in which green served
 * `minRequests`; the answer comes at a check (every `pollSeconds` from the first check, J after
 * the shift: INSYNC + DNS wait). Green is taken to serve nothing until J (the DNS caches), then
 * trafficRps × greenPercent / 100 a second (its share of requests, minShareOfWeight, is then met).
 *   minutes = max(minStepMinutes, ⌈(J + minRequests / rate) / 60⌉)
 *   judgedAtSeconds = minutes × 60 + settleSeconds − J, rounded up to whole polls (from the first check)
 * The step `fits` when that is within the bake, `extends` the bake (INCONCLUSIVE until then) when
 * within maxBakeSeconds, and is `over` otherwise: onInconclusive then applies.
 */
export interface StepRequests {
  /** Green's requests a second at this step's weight. */
  greenRps: number;
  /** Seconds of serving to reach minRequests; Infinity when green serves nothing. */
  serveSeconds: number;
  /** Settled minutes of the step the judge needs (enough requests, and at least the bake's); Infinity if never. */
  minutes: number;
  /** From the step's first check to the check that can pass it; Infinity if never. */
  judgedAtSeconds: number;
  verdict: 'fits' | 'extends' | 'over';
}

export interface TrafficPlan {
  /** Requests a second to the record (both sides). */
  rps: number;
  minRequests: number;
  /** Settled minutes a step needs at least (the judge's settings). */
  minStepMinutes: number;
  settleSeconds: number;
  maxBakeSeconds: number;
  onInconclusive: 'rollback' | 'promote' | 'approval';
}

export interface PlanOptions {
  /** --traffic: requests a second to the record; default DEFAULT_TRAFFIC_RPS. */
  trafficRps?: number;
}

export interface PlannedStep {
  /** 1-based. */
  step: number;
  greenPercent: number;
  weights: Weights;
  /** Earliest time of this step's shift (its Route53 change batch), from the start of the first shift. */
  startsAtSeconds: number;
  /** Shift + INSYNC + DNS wait: every client has this step's weights; the first check of green. */
  judgedFromSeconds: number;
  /** The check that finds the bake over: `bakeSeconds` rounded up to whole polls. */
  bakeEndsAtSeconds: number;
  blastRadius: BlastRadius;
  /** Whether green serves analysis.minRequests in time at the plan's traffic; null with `analysis: false`. */
  requests: StepRequests | null;
}

export interface CanaryPlan {
  pair: string;
  /** minWaitSeconds: the record's TTL, read at preflight, is not known offline (the wait is the longer of the two). */
  dnsWaitSeconds: number;
  steps: PlannedStep[];
  /** The last step's shift INSYNC + DNS wait: green serves 100 % from here. */
  toFullSeconds: number;
  /** toFullSeconds + the last bake: the canary promotes green. */
  promotedAtSeconds: number;
  /**
   * The first step whose green cannot serve minRequests before maxBakeSeconds at the plan's
   * traffic: the canary ends there INCONCLUSIVE and onInconclusive (rollback, approval) applies,
   * so the times after it are never reached. null when every step can pass (or onInconclusive: promote).
   */
  inconclusiveAtStep: number | null;
  assumptions: PlanAssumptions;
  pollSeconds: number;
  bakeSeconds: number;
  /** The traffic the `requests` of each step assume, and the analysis settings they use; null with `analysis: false`. */
  traffic: TrafficPlan | null;
}

/** How long a bake really lasts: the check at or after `bakeSeconds` ends it, and checks come every `pollSeconds`. */
const bakeLasts = (bakeSeconds: number, pollSeconds: number): number => Math.ceil(bakeSeconds / pollSeconds) * pollSeconds;

/** The earliest timeline of a canary of this pair, and what a bad green could do at each step. Pure. */
export function planOf(pair: PairConfig, assumptions: PlanAssumptions = DEFAULT_ASSUMPTIONS, options: PlanOptions = {}): CanaryPlan {
  for (const [name, value] of Object.entries(assumptions)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number of seconds, at least 0, got ${value}`);
  }
  const rps = options.trafficRps ?? DEFAULT_TRAFFIC_RPS;
  if (!Number.isFinite(rps) || rps < 0) throw new RangeError(`trafficRps must be a finite number of requests a second, at least 0, got ${rps}`);
  const { insyncSeconds, eventSeconds } = assumptions;
  const { pollSeconds, bakeSeconds } = pair;
  const dnsWaitSeconds = pair.minWaitSeconds;
  const bake = bakeLasts(bakeSeconds, pollSeconds);
  const percents = expandSteps(pair.steps);

  const analysis = analysisOf(pair);
  const traffic: TrafficPlan | null = analysis
    ? { rps, minRequests: analysis.minRequests, minStepMinutes: settingsOf(analysis, bakeSeconds).minStepMinutes, settleSeconds: analysis.settleSeconds, maxBakeSeconds: analysis.maxBakeSeconds, onInconclusive: analysis.onInconclusive }
    : null;
  // The judge's own rule (at least the bake's minutes, and the error test's).
  const minStepMinutes = traffic?.minStepMinutes ?? 0;
  const requestsAt = (greenPercent: number, toFirstCheck: number): StepRequests | null => {
    if (!traffic) return null;
    const greenRps = (traffic.rps * greenPercent) / 100;
    const serveSeconds = greenRps > 0 ? traffic.minRequests / greenRps : Infinity;
    // Whole minutes (of whole seconds: no float dust adds a minute), and never fewer than the bake's.
    const minutes = Number.isFinite(serveSeconds) ? Math.max(minStepMinutes, Math.ceil(Math.ceil(toFirstCheck + serveSeconds - 1e-9) / 60)) : Infinity;
    const judgedAtSeconds = Number.isFinite(minutes) ? Math.max(0, Math.ceil((minutes * 60 + traffic.settleSeconds - toFirstCheck) / pollSeconds) * pollSeconds) : Infinity;
    const verdict = judgedAtSeconds <= bake ? 'fits' : judgedAtSeconds <= traffic.maxBakeSeconds ? 'extends' : 'over';
    return { greenRps, serveSeconds, minutes, judgedAtSeconds, verdict };
  };

  const timeline: Omit<PlannedStep, 'blastRadius'>[] = [];
  let startsAt = 0;
  percents.forEach((greenPercent, i) => {
    const judgedFrom = startsAt + insyncSeconds + dnsWaitSeconds;
    const requests = requestsAt(greenPercent, insyncSeconds + dnsWaitSeconds);
    // The judge's bake: the configured one, extended until green can pass (never past maxBakeSeconds, where onInconclusive applies).
    const lasts = requests && traffic ? Math.max(bake, Math.min(requests.judgedAtSeconds, bakeLasts(traffic.maxBakeSeconds, pollSeconds))) : bake;
    timeline.push({
      step: i + 1,
      greenPercent,
      weights: weightsFor(greenPercent),
      startsAtSeconds: startsAt,
      judgedFromSeconds: judgedFrom,
      bakeEndsAtSeconds: judgedFrom + lasts,
      requests,
    });
    startsAt = judgedFrom + lasts;
  });
  const last = timeline[timeline.length - 1]!;
  const promotedAt = last.bakeEndsAtSeconds;

  /** ∫ g(t) dt over [from, to]: seconds of full traffic green serves, rollback aside. */
  const greenSeconds = (from: number, to: number): number =>
    timeline.reduce((sum, s, i) => {
      const start = Math.max(from, s.judgedFromSeconds);
      const end = Math.min(to, timeline[i + 1]?.judgedFromSeconds ?? Infinity);
      return end > start ? sum + (s.greenPercent / 100) * (end - start) : sum;
    }, 0);

  const exposure = (judgedFrom: number, noticedAt: number): { seconds: number; share: number } => {
    if (!Number.isFinite(noticedAt)) return { seconds: Infinity, share: 1 };
    const over = noticedAt + insyncSeconds + dnsWaitSeconds;
    return { seconds: greenSeconds(judgedFrom, over), share: over > 0 ? greenSeconds(0, over) / over : 0 };
  };

  const steps: PlannedStep[] = timeline.map((s, i) => {
    const J = s.judgedFromSeconds;
    const byPoll = bake > 0 ? J + pollSeconds : (timeline[i + 1]?.judgedFromSeconds ?? Infinity);
    const eventArrives = J + eventSeconds;
    // The listener stops with the promotion: an event after it rolls nothing back.
    const byEvent = Math.min(eventArrives <= promotedAt ? eventArrives : Infinity, byPoll);
    const event = exposure(J, byEvent);
    const poll = exposure(J, byPoll);
    return {
      ...s,
      blastRadius: { eventSeconds: event.seconds, pollSeconds: poll.seconds, eventShare: event.share, pollShare: poll.share },
    };
  });

  return {
    pair: pair.name,
    dnsWaitSeconds,
    steps,
    toFullSeconds: last.judgedFromSeconds,
    promotedAtSeconds: promotedAt,
    inconclusiveAtStep: (traffic && traffic.onInconclusive !== 'promote' && steps.find((s) => s.requests?.verdict === 'over')?.step) || null,
    assumptions: { insyncSeconds, eventSeconds },
    pollSeconds,
    bakeSeconds,
    traffic,
  };
}

/** m:ss; minutes go past 59 (75:00 is an hour and a quarter); from 100 hours, whole hours (`2400 h`). */
export function formatClock(seconds: number): string {
  const s = Math.round(seconds);
  // past 100 hours (a canary that waits out maxBakeSeconds at every step), whole hours keep the table in 80 columns
  if (s >= 360_000) return `${Math.round(s / 3_600)} h`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const num = (n: number): string => (Number.isInteger(n) ? String(n) : n < 1000 ? n.toFixed(1) : String(Math.round(n)));

/** `12.5 s · 5.1 %` (`125 s · 34.1 %` from 100 s): green's exposure in seconds of full traffic · its share of requests. */
function formatBlast(seconds: number, share: number): string {
  if (!Number.isFinite(seconds)) return 'no rollback';
  const secs = seconds < 100 ? seconds.toFixed(1) : String(Math.round(seconds));
  return `${secs} s · ${(share * 100).toFixed(1)} %`;
}

const WIDTH = 80;

/** The plan as lines of at most 80 columns: heading, assumptions, one row per step, the end. */
export function formatPlan(plan: CanaryPlan): string[] {
  const { insyncSeconds, eventSeconds } = plan.assumptions;
  const bake = bakeLasts(plan.bakeSeconds, plan.pollSeconds);
  const lines = [
    `Canary plan for ${plan.pair}: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}, times from the first shift`,
    `Assumes Route53 changes INSYNC in ~${num(insyncSeconds)} s (usual, not promised);`,
    `DNS wait ${num(plan.dnsWaitSeconds)} s = minWaitSeconds, unless the record's TTL is longer;`,
    ...wrap(
      `green judged every ${plan.pollSeconds} s for a ${plan.bakeSeconds} s bake` +
        (bake !== plan.bakeSeconds ? ` (${bake} s: whole polls)` : '') +
        (plan.steps.some((s) => s.bakeEndsAtSeconds - s.judgedFromSeconds > bake) ? ', longer where the judge needs it;' : ';'),
      '',
    ),
    `alarm events reach the run within ${num(eventSeconds)} s (else the next poll notices).`,
    'Blast radius: green fails as its step\'s traffic arrives, is noticed (by event,',
    'or by the next poll only), rolled back, INSYNC, DNS wait. "s": seconds of full',
    'traffic green serves meanwhile; "%": its share of all requests since the start.',
    '',
  ];

  const header: [string[], string[]] = [
    ['', 'green', 'weights', 'starts', 'judged', 'bake', 'blast radius', 'blast radius'],
    ['step', '%', 'blue/green', 'at', 'from', 'ends', '(event)', '(poll only)'],
  ];
  const rows = plan.steps.map((s) => [
    String(s.step),
    String(s.greenPercent),
    `${String(s.weights.blue).padStart(4)}/${s.weights.green}`, // the slash under the heading's
    formatClock(s.startsAtSeconds),
    formatClock(s.judgedFromSeconds),
    formatClock(s.bakeEndsAtSeconds),
    formatBlast(s.blastRadius.eventSeconds, s.blastRadius.eventShare),
    formatBlast(s.blastRadius.pollSeconds, s.blastRadius.pollShare),
  ]);
  const table = [...header, ...rows];
  const widths = header[0].map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const render = (gap: string) =>
    table.map((row) => row.map((cell, c) => (c < 2 || c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(gap).trimEnd());
  const wide = render('  ');
  lines.push(...(wide.every((l) => l.length <= WIDTH) ? wide : render(' ')));

  const stuck = plan.steps.find((s) => s.step === plan.inconclusiveAtStep);
  lines.push(
    '',
    ...(stuck
      ? wrap(`not promoted at this traffic: step ${stuck.step} is INCONCLUSIVE at ${formatClock(stuck.bakeEndsAtSeconds)}, then ${plan.traffic!.onInconclusive}`, '    ')
      : [`100 % at ${formatClock(plan.toFullSeconds)}, promoted at ${formatClock(plan.promotedAtSeconds)}`]),
  );
  lines.push('', ...formatRequests(plan));
  return lines;
}

/** `4 h 10 min`, `3 min 30 s`, `45 s`, `2 d 3 h`: a duration as an operator reads it. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const s = Math.ceil(seconds - 1e-9);
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => `${big} ${bigUnit}${small ? ` ${small} ${smallUnit}` : ''}`;
  if (s < 60) return `${s} s`;
  if (s < 3_600) return two(Math.floor(s / 60), 'min', s % 60, 's');
  if (s < 86_400) return two(Math.floor(s / 3_600), 'h', Math.floor((s % 3_600) / 60), 'min');
  if (s < 1_000 * 86_400) return two(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3_600), 'h');
  return 'over 999 d';
}

/** A request rate: three significant digits (0.02, 12.5, 1250). */
const rate = (n: number): string => (n >= 1_000 ? String(Math.round(n)) : String(Number(n.toPrecision(3))));

const NBSP = '\u00a0';
/** Keeps a phrase (`3 min 30 s`) on one line when wrapped. */
const whole = (phrase: string): string => phrase.replaceAll(' ', NBSP);

/** Words to lines of at most `width` columns, the first starting with `first`, the others with `indent`. `whole` phrases are not broken. */
function wrap(text: string, indent: string, first = '', width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : `${lines.length ? indent : first}${word}`;
    if (next.length > width && line.trim()) (lines.push(line), (line = `${indent}${word}`));
    else line = next;
  }
  return [...lines, line].map((l) => l.replaceAll(NBSP, ' '));
}

/** Whether green serves minRequests in each step at the plan's traffic: one sentence a step. */
export function formatRequests(plan: CanaryPlan): string[] {
  const t = plan.traffic;
  if (!t) return wrap('Requests: analysis is off (analysis: false): no request count is needed to pass a step; green is judged by its alarms and health only.', '');
  const bake = bakeLasts(plan.bakeSeconds, plan.pollSeconds);
  const minStep = t.minStepMinutes;
  const lines = wrap(
    `Requests: the judge passes a step once green served minRequests ${t.minRequests} in it, in at least` +
      ` ${minStep} whole minute${minStep === 1 ? '' : 's'} from its shift, each settled ${t.settleSeconds} s after it ends;` +
      ` green serving its weight of ${whole(`${rate(t.rps)} req/s`)} to the record (--traffic${t.rps === DEFAULT_TRAFFIC_RPS ? `, default ${DEFAULT_TRAFFIC_RPS}` : ''})` +
      ` from its first check. Times are from the step's first check. Until then the bake extends, up to maxBakeSeconds ${whole(formatDuration(t.maxBakeSeconds))}, then onInconclusive: ${t.onInconclusive}.`,
    '',
  );
  for (const s of plan.steps) {
    const r = s.requests!;
    const d = (seconds: number) => whole(formatDuration(seconds));
    lines.push(
      ...wrap(
        `step ${s.step}: green ${whole(`${s.greenPercent} %`)} of ${whole(`${rate(t.rps)} req/s`)} = ${whole(`${rate(r.greenRps)} req/s`)} -> ${t.minRequests} requests take ${Number.isFinite(r.serveSeconds) ? d(r.serveSeconds) : whole('forever (no traffic)')}`,
        '    ',
      ),
      ...wrap(
        r.verdict === 'over'
          ? `never in time: over maxBakeSeconds ${d(t.maxBakeSeconds)}, onInconclusive: ${t.onInconclusive}`
          : `judged at ${d(r.judgedAtSeconds)} (${r.minutes} settled minute${r.minutes === 1 ? '' : 's'}): ${r.verdict === 'fits' ? 'fits in' : 'extends'} the ${d(bake)} bake`,
        '    ',
        '    ',
      ),
    );
  }
  return lines;
}
