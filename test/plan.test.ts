import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../cli/main.js';
import { DEFAULT_ASSUMPTIONS, DEFAULT_TRAFFIC_RPS, formatClock, formatDuration, formatPlan, formatRequests, planOf, type CanaryPlan } from '../cli/plan.js';
import { analysisOf, configProblems, parseConfig, type AnalysisConfig, type CanaryConfigInput, type PairConfig } from '../functions/lib/config.js';
import { settingsOf } from '../functions/lib/metrics.js';
import { examplePair } from './helpers.js';

type PairInput = CanaryConfigInput['pairs'][number];

/** The example pair (steps 10,25,50,100; bake 120 s; poll 30 s; minWait 60 s), parsed, with overrides; judged as configured. */
const judgedPairWith = (overrides: Partial<PairInput> = {}): PairConfig => parseConfig({ pairs: [{ ...examplePair(), ...overrides }] }).pairs[0]!;
/** The same on alarms and health alone (`analysis: false`): every bake lasts as configured, so its times are by hand. */
const pairWith = (overrides: Partial<PairInput> = {}): PairConfig => judgedPairWith({ analysis: false, ...overrides });

const EXAMPLE = judgedPairWith();
/** The example pair with overrides, not validated: planOf must not mind an execution timeout. */
const rawPair = (overrides: Partial<PairConfig>): PairConfig => ({ ...EXAMPLE, ...overrides });

const columnsOf = (plan: CanaryPlan) => ({
  starts: plan.steps.map((s) => s.startsAtSeconds),
  judged: plan.steps.map((s) => s.judgedFromSeconds),
  bakeEnds: plan.steps.map((s) => s.bakeEndsAtSeconds),
});

const strictlyIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

describe('planOf: the example pair, by hand', () => {
  // INSYNC 60 s, DNS wait 60 s (minWaitSeconds), bake 120 s (4 polls of 30 s).
  // Step k shifts at 240(k-1), is judged from 240(k-1) + 120, bakes until 240k.
  const plan = planOf(pairWith());

  it('times every step from the first shift', () => {
    expect(plan.pair).toBe('shop-web');
    expect(plan.dnsWaitSeconds).toBe(60);
    expect(plan.pollSeconds).toBe(30);
    expect(plan.bakeSeconds).toBe(120);
    expect(plan.assumptions).toEqual({ insyncSeconds: 60, eventSeconds: 5 });
    expect(plan.steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(plan.steps.map((s) => s.greenPercent)).toEqual([10, 25, 50, 100]);
    expect(plan.steps.map((s) => s.weights)).toEqual([
      { blue: 90, green: 10 },
      { blue: 75, green: 25 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ]);
    expect(columnsOf(plan)).toEqual({ starts: [0, 240, 480, 720], judged: [120, 360, 600, 840], bakeEnds: [240, 480, 720, 960] });
    expect(plan.toFullSeconds).toBe(840);
    expect(plan.promotedAtSeconds).toBe(960);
  });

  it('first step: 10 % of (5 + 60 + 60) s by event, of (30 + 60 + 60) s by poll', () => {
    const b = plan.steps[0]!.blastRadius;
    expect(b.eventSeconds).toBeCloseTo(12.5, 10);
    expect(b.pollSeconds).toBeCloseTo(15, 10);
    // Nothing before: green's 12.5 s over the 120 + 125 s since the first shift.
    expect(b.eventShare).toBeCloseTo(12.5 / 245, 12);
    expect(b.pollShare).toBeCloseTo(15 / 270, 12);
  });

  it('last step: 100 % of the exposure, plus what green served in the three earlier steps', () => {
    const b = plan.steps[3]!.blastRadius;
    expect(b.eventSeconds).toBeCloseTo(125, 10);
    expect(b.pollSeconds).toBeCloseTo(150, 10);
    // Earlier: 10 %, 25 %, 50 % for 240 s each (judged-from to judged-from) = 24 + 60 + 120 = 204 s.
    expect(b.eventShare).toBeCloseTo((204 + 125) / (840 + 125), 12);
    expect(b.pollShare).toBeCloseTo((204 + 150) / (840 + 150), 12);
  });

  it('middle steps follow the same formula', () => {
    const [, second, third] = plan.steps;
    expect(second!.blastRadius.eventSeconds).toBeCloseTo(31.25, 10);
    expect(second!.blastRadius.eventShare).toBeCloseTo((24 + 31.25) / (360 + 125), 12);
    expect(third!.blastRadius.pollSeconds).toBeCloseTo(75, 10);
    expect(third!.blastRadius.pollShare).toBeCloseTo((24 + 60 + 75) / (600 + 150), 12);
  });

  it('is pure: same answer twice, the pair untouched', () => {
    const pair = pairWith();
    const before = structuredClone(pair);
    expect(planOf(pair)).toEqual(planOf(pair));
    expect(pair).toEqual(before);
  });
});

describe('planOf: other shapes and settings', () => {
  it('{ canary: 10 }: 10 %, then 100 %', () => {
    const plan = planOf(pairWith({ steps: { canary: 10 } }));
    expect(plan.steps.map((s) => s.greenPercent)).toEqual([10, 100]);
    expect(plan.steps.map((s) => s.weights)).toEqual([{ blue: 90, green: 10 }, { blue: 0, green: 100 }]);
    expect(columnsOf(plan)).toEqual({ starts: [0, 240], judged: [120, 360], bakeEnds: [240, 480] });
    expect(plan.toFullSeconds).toBe(360);
    expect(plan.promotedAtSeconds).toBe(480);
    const last = plan.steps[1]!.blastRadius;
    expect(last.eventSeconds).toBeCloseTo(125, 10);
    expect(last.eventShare).toBeCloseTo((24 + 125) / (360 + 125), 12);
    expect(last.pollShare).toBeCloseTo((24 + 150) / (360 + 150), 12);
  });

  it('{ linear: 25 }: 25, 50, 75, 100 %', () => {
    const plan = planOf(pairWith({ steps: { linear: 25 } }));
    expect(plan.steps.map((s) => s.greenPercent)).toEqual([25, 50, 75, 100]);
    expect(plan.steps.map((s) => s.weights.blue)).toEqual([75, 50, 25, 0]);
    expect(columnsOf(plan).starts).toEqual([0, 240, 480, 720]);
    expect(plan.toFullSeconds).toBe(840);
    expect(plan.steps[0]!.blastRadius.eventSeconds).toBeCloseTo(31.25, 10);
    expect(plan.steps[0]!.blastRadius.pollShare).toBeCloseTo(37.5 / 270, 12);
    // Earlier: 25 %, 50 %, 75 % for 240 s each = 60 + 120 + 180 = 360 s.
    expect(plan.steps[3]!.blastRadius.eventShare).toBeCloseTo((360 + 125) / 965, 12);
  });

  it('a bake lasts whole polls: 100 s judged every 30 s ends at the fourth poll, 120 s in', () => {
    const plan = planOf(pairWith({ bakeSeconds: 100 }));
    expect(plan.bakeSeconds).toBe(100);
    expect(columnsOf(plan)).toEqual({ starts: [0, 240, 480, 720], judged: [120, 360, 600, 840], bakeEnds: [240, 480, 720, 960] });
    expect(formatPlan(plan).join('\n')).toContain('100 s bake (120 s: whole polls)');
  });

  it('the DNS wait is minWaitSeconds, and the assumptions are the ones given', () => {
    const plan = planOf(pairWith({ minWaitSeconds: 90 }), { insyncSeconds: 30, eventSeconds: 10 });
    expect(plan.dnsWaitSeconds).toBe(90);
    expect(plan.assumptions).toEqual({ insyncSeconds: 30, eventSeconds: 10 });
    expect(columnsOf(plan)).toEqual({ starts: [0, 240, 480, 720], judged: [120, 360, 600, 840], bakeEnds: [240, 480, 720, 960] });
    // 10 % of (10 + 30 + 90) s.
    expect(plan.steps[0]!.blastRadius.eventSeconds).toBeCloseTo(13, 10);
    expect(plan.steps[0]!.blastRadius.pollSeconds).toBeCloseTo(15, 10);
  });

  it('without a bake, a failure is noticed by poll only at the next step, which has shifted meanwhile', () => {
    const plan = planOf(pairWith({ bakeSeconds: 0 }));
    expect(columnsOf(plan)).toEqual({ starts: [0, 120, 240, 360], judged: [120, 240, 360, 480], bakeEnds: [120, 240, 360, 480] });
    const first = plan.steps[0]!.blastRadius;
    // Noticed at 240 (step 2's first check), over at 360: 10 % from 120 to 240, then 25 % to 360.
    expect(first.pollSeconds).toBeCloseTo(12 + 30, 10);
    expect(first.pollShare).toBeCloseTo(42 / 360, 12);
    // The event at 125; over at 245, but step 2's 25 % took over at 240.
    expect(first.eventSeconds).toBeCloseTo(12 + 1.25, 10);
    expect(first.eventShare).toBeCloseTo(13.25 / 245, 12);
    // The last step promotes at its first check: nothing notices green failing after it.
    const last = plan.steps[3]!.blastRadius;
    expect(last).toEqual({ eventSeconds: Infinity, pollSeconds: Infinity, eventShare: 1, pollShare: 1 });
    expect(formatPlan(plan).find((l) => /^ +4 +100 +0\/100 /.test(l))).toMatch(/no rollback +no rollback$/);
  });

  it('the defaults are 60 s to INSYNC and 5 s for an event', () => {
    expect(DEFAULT_ASSUMPTIONS).toEqual({ insyncSeconds: 60, eventSeconds: 5 });
    expect(planOf(pairWith())).toEqual(planOf(pairWith(), { insyncSeconds: 60, eventSeconds: 5 }));
  });

  it.each([
    { insyncSeconds: -1, eventSeconds: 5 },
    { insyncSeconds: 60, eventSeconds: Number.NaN },
    { insyncSeconds: Infinity, eventSeconds: 5 },
  ])('refuses assumptions %j', (assumptions) => {
    expect(() => planOf(pairWith(), assumptions)).toThrow(RangeError);
  });
});

describe('blast radius', () => {
  it('grows with pollSeconds (poll only), and the event path does not care while events are faster', () => {
    const plans = [10, 20, 30, 60].map((pollSeconds) => planOf(pairWith({ pollSeconds })));
    for (let i = 0; i < 4; i++) {
      const radii = plans.map((p) => p.steps[i]!.blastRadius);
      expect(strictlyIncreasing(radii.map((b) => b.pollSeconds))).toBe(true);
      expect(strictlyIncreasing(radii.map((b) => b.pollShare))).toBe(true);
      expect(new Set(radii.map((b) => b.eventSeconds)).size).toBe(1);
    }
  });

  it("grows with the step's percentage", () => {
    const { steps } = planOf(pairWith());
    for (const key of ['eventSeconds', 'pollSeconds', 'eventShare', 'pollShare'] as const) {
      expect(strictlyIncreasing(steps.map((s) => s.blastRadius[key]))).toBe(true);
    }
    const small = planOf(pairWith({ steps: { canary: 10 } })).steps[0]!.blastRadius;
    const big = planOf(pairWith({ steps: { canary: 20 } })).steps[0]!.blastRadius;
    expect(big.eventSeconds).toBeCloseTo(2 * small.eventSeconds, 10);
    expect(big.pollShare).toBeGreaterThan(small.pollShare);
  });

  it('by event it is the poll when polls are faster than events', () => {
    const plan = planOf(pairWith({ pollSeconds: 1 }), { insyncSeconds: 60, eventSeconds: 5 });
    const first = plan.steps[0]!.blastRadius;
    expect(first.eventSeconds).toBeCloseTo(0.1 * (1 + 60 + 60), 10);
    expect(first.eventSeconds).toBe(first.pollSeconds);
    expect(first.eventShare).toBe(first.pollShare);
  });

  const anyPair = fc.record({
    steps: fc.oneof(
      fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 12 }).map((a) => [...a.sort((x, y) => x - y), 100]),
      fc.integer({ min: 1, max: 99 }).map((canary) => ({ canary })),
      fc.integer({ min: 1, max: 100 }).map((linear) => ({ linear })),
    ),
    bakeSeconds: fc.integer({ min: 0, max: 86_400 }),
    pollSeconds: fc.integer({ min: 1, max: 3_600 }),
    minWaitSeconds: fc.integer({ min: 0, max: 3_600 }),
  });
  const anyAssumptions = fc.record({ insyncSeconds: fc.integer({ min: 0, max: 600 }), eventSeconds: fc.integer({ min: 0, max: 600 }) });
  /** The overrides, if they make a valid pair (with the longest executionTimeoutSeconds). */
  const valid = (overrides: Partial<PairInput>): PairConfig | undefined => {
    const config = { pairs: [{ ...examplePair(), ...overrides, executionTimeoutSeconds: 86_400 }] };
    return configProblems(config).length === 0 ? parseConfig(config).pairs[0] : undefined;
  };

  it('property: event-driven is never worse than poll only', () => {
    fc.assert(
      fc.property(anyPair, anyAssumptions, (overrides, assumptions) => {
        for (const { blastRadius: b } of planOf(rawPair(overrides), assumptions).steps) {
          expect(b.eventSeconds).toBeLessThanOrEqual(b.pollSeconds);
          expect(b.eventShare).toBeLessThanOrEqual(b.pollShare);
          expect(b.eventShare).toBeGreaterThanOrEqual(0);
          expect(b.pollShare).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('property: the timeline is the steps end to end, each shift + INSYNC + DNS wait + whole polls', () => {
    fc.assert(
      fc.property(anyPair, anyAssumptions, (overrides, assumptions) => {
        const pair = rawPair(overrides);
        const plan = planOf(pair, assumptions);
        const polls = (seconds: number) => Math.ceil(seconds / pair.pollSeconds) * pair.pollSeconds;
        const bake = polls(pair.bakeSeconds);
        // the judge's bake: the configured one, or longer until green can pass, never past maxBakeSeconds
        const judgedBake = (s: (typeof plan.steps)[number]) =>
          plan.traffic && s.requests ? Math.max(bake, Math.min(s.requests.judgedAtSeconds, polls(plan.traffic.maxBakeSeconds))) : bake;
        plan.steps.forEach((s, i) => {
          expect(s.startsAtSeconds).toBe(i === 0 ? 0 : plan.steps[i - 1]!.bakeEndsAtSeconds);
          expect(s.judgedFromSeconds).toBe(s.startsAtSeconds + assumptions.insyncSeconds + pair.minWaitSeconds);
          expect(s.bakeEndsAtSeconds).toBe(s.judgedFromSeconds + judgedBake(s));
          expect(s.bakeEndsAtSeconds - s.judgedFromSeconds).toBeGreaterThanOrEqual(bake);
        });
        expect(plan.toFullSeconds).toBe(plan.steps.at(-1)!.judgedFromSeconds);
        expect(plan.promotedAtSeconds).toBe(plan.toFullSeconds + judgedBake(plan.steps.at(-1)!));
      }),
      { numRuns: 100 },
    );
  });

  const anyTraffic = fc.oneof(fc.constant(0), fc.constant(DEFAULT_TRAFFIC_RPS), fc.double({ min: 1e-6, max: 1e7, noNaN: true }));
  const anyAnalysis = fc.oneof(
    fc.constant(undefined),
    fc.constant(false as const),
    fc.record({ minRequests: fc.integer({ min: 1, max: 10_000_000 }), settleSeconds: fc.integer({ min: 60, max: 900 }), maxBakeSeconds: fc.constant(86_400) }),
  );

  it('property: every formatted line of a valid pair fits in 80 columns, at any traffic', () => {
    fc.assert(
      fc.property(anyPair, anyAssumptions, anyTraffic, anyAnalysis, (overrides, assumptions, trafficRps, analysis) => {
        const pair = valid({ ...overrides, ...(analysis === undefined ? {} : { analysis }) });
        fc.pre(pair !== undefined);
        for (const line of formatPlan(planOf(pair!, assumptions, { trafficRps }))) expect(line.length).toBeLessThanOrEqual(80);
      }),
      { numRuns: 300 },
    );
  });
});

describe('formatPlan', () => {
  const lines = formatPlan(planOf(pairWith()));

  it('fits in 80 columns', () => {
    expect(lines.length).toBeGreaterThan(8);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('names the pair and the assumptions', () => {
    const text = lines.join('\n');
    expect(lines[0]).toContain('shop-web');
    expect(text).toContain('INSYNC in ~60 s');
    expect(text).toContain("DNS wait 60 s = minWaitSeconds, unless the record's TTL is longer");
    expect(text).toContain('every 30 s for a 120 s bake');
    expect(text).toContain('alarm events reach the run within 5 s');
    expect(text).not.toContain('whole polls');
  });

  it('has one row per step: weights, m:ss times, blast radius by event and by poll only', () => {
    const rows = lines.filter((l) => /^ +\d+ +\d+ +\d+\/\d+ /.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[0]!.trim().split(/ {2,}/)).toEqual(['1', '10', '90/10', '0:00', '2:00', '4:00', '12.5 s · 5.1 %', '15.0 s · 5.6 %']);
    expect(rows[3]!.trim().split(/ {2,}/)).toEqual(['4', '100', '0/100', '12:00', '14:00', '16:00', '125 s · 34.1 %', '150 s · 35.8 %']);
  });

  it('ends the table with 100 % and the promotion, then the requests each step needs', () => {
    const at = lines.indexOf('100 % at 14:00, promoted at 16:00');
    expect(lines[at - 1]).toBe('');
    expect(lines[at - 2]).toMatch(/^ +4 +100 /);
    expect(lines[at + 1]).toBe('');
    expect(lines[at + 2]).toMatch(/^Requests: /);
    expect(lines.slice(at + 2)).toEqual(formatRequests(planOf(pairWith())));
  });

  it('m:ss goes past an hour in minutes', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(65)).toBe('1:05');
    expect(formatClock(4500)).toBe('75:00');
    expect(formatClock(359_999)).toBe('5999:59');
    expect(formatClock(100 * 86_400)).toBe('2400 h');
  });
});

/** Wrapped lines as one text: each line break (and a continuation's indent) becomes one space. */
const unwrapped = (lines: string[]) => lines.join('\n').replace(/\n */g, ' ');

describe('plan --traffic: how long each step needs to serve minRequests', () => {
  // The example pair: INSYNC 60 s + DNS wait 60 s = J 120 s from shift to first check, bake 120 s
  // (2 settled minutes), poll 30 s; analysis defaults: minRequests 300, settleSeconds 150,
  // maxBakeSeconds 1800, onInconclusive rollback.
  /** The judge's least settled minutes for a step of the example pair (its bake, and the error test's own minimum). */
  const MIN_STEP = settingsOf(analysisOf(EXAMPLE) as AnalysisConfig, EXAMPLE.bakeSeconds).minStepMinutes;
  /** From the first check (120 s after the shift) to the check after `minutes` from the shift, settled 150 s later. */
  const judgedAfter = (minutes: number) => Math.ceil((minutes * 60 + 150 - 120) / 30) * 30;

  it('defaults to 50 req/s and the analysis defaults; at 10 % green serves 5 req/s', () => {
    const plan = planOf(judgedPairWith());
    expect(DEFAULT_TRAFFIC_RPS).toBe(50);
    expect(MIN_STEP).toBeGreaterThanOrEqual(2); // the bake's 120 s at least
    expect(plan.traffic).toEqual({ rps: 50, minRequests: 300, minStepMinutes: MIN_STEP, settleSeconds: 150, maxBakeSeconds: 1_800, onInconclusive: 'rollback' });
    // 10 %: 120 s without green, then 60 s of 5 req/s: 3 minutes from the shift would do, or the judge's least.
    const minutes = Math.max(3, MIN_STEP);
    expect(plan.steps.map((s) => s.requests)).toEqual([
      { greenRps: 5, serveSeconds: 60, minutes, judgedAtSeconds: judgedAfter(minutes), verdict: 'extends' },
      { greenRps: 12.5, serveSeconds: 24, minutes, judgedAtSeconds: judgedAfter(minutes), verdict: 'extends' },
      { greenRps: 25, serveSeconds: 12, minutes, judgedAtSeconds: judgedAfter(minutes), verdict: 'extends' },
      { greenRps: 50, serveSeconds: 6, minutes, judgedAtSeconds: judgedAfter(minutes), verdict: 'extends' },
    ]);
    // The timeline is the judge's: each bake lasts until green can pass (not the 120 s configured).
    const step = 120 + judgedAfter(minutes);
    expect(columnsOf(plan)).toEqual({
      starts: [0, 1, 2, 3].map((k) => k * step),
      judged: [0, 1, 2, 3].map((k) => k * step + 120),
      bakeEnds: [1, 2, 3, 4].map((k) => k * step),
    });
    expect(plan.promotedAtSeconds).toBe(4 * step);
    const text = formatPlan(plan).join('\n');
    expect(text).toContain('every 30 s for a 120 s bake, longer where the judge needs it;');
    expect(text).toContain(`promoted at ${formatClock(4 * step)}`);
  });

  it("fits in the bake when the DNS wait covers the settling; never fewer minutes than the bake's", () => {
    // J = 60 + 300 = 360 s; bake 600 s: at least 10 minutes.
    const plan = planOf(judgedPairWith({ bakeSeconds: 600, minWaitSeconds: 300 }), undefined, { trafficRps: 7 });
    // 10 %: 0.7 req/s, 428.6 s of serving from 360 s: 14 minutes, settled at 990 s, 630 s after the first check.
    expect(plan.steps[0]!.requests).toEqual({ greenRps: expect.closeTo(0.7, 12), serveSeconds: expect.closeTo(300 / 0.7, 9), minutes: 14, judgedAtSeconds: 630, verdict: 'extends' });
    // 25 %: 1.75 req/s, 171.4 s: 9 minutes would do, the bake's 10 it is: settled at 750 s, 390 s after the first check.
    expect(plan.steps[1]!.requests).toMatchObject({ minutes: 10, judgedAtSeconds: 390, verdict: 'fits' });
    expect(plan.steps[3]!.requests).toMatchObject({ minutes: 10, judgedAtSeconds: 390, verdict: 'fits' });
    expect(formatPlan(plan)).toContain('    judged at 6 min 30 s (10 settled minutes): fits in the 10 min bake');
  });

  it('too little traffic: over maxBakeSeconds, and onInconclusive says what then', () => {
    const plan = planOf(judgedPairWith(), undefined, { trafficRps: 0.2 });
    // 10 % of 0.2 req/s = 0.02 req/s: 15,000 s for 300 requests; 252 minutes from the shift.
    expect(plan.steps[0]!.requests).toEqual({ greenRps: expect.closeTo(0.02, 12), serveSeconds: expect.closeTo(15_000, 6), minutes: 252, judgedAtSeconds: 15_150, verdict: 'over' });
    expect(plan.steps.map((s) => s.requests!.verdict)).toEqual(['over', 'over', 'over', 'extends']);
    // 100 %: 0.2 req/s, 1,500 s: 27 minutes, settled 1,650 s after the first check <= 1,800 s.
    expect(plan.steps[3]!.requests).toMatchObject({ minutes: 27, judgedAtSeconds: 1_650 });
    expect(judgedAfter(27)).toBe(1_650);
    const text = formatPlan(plan);
    const at = text.indexOf('step 1: green 10 % of 0.2 req/s = 0.02 req/s -> 300 requests take 4 h 10 min');
    expect(at).toBeGreaterThan(0);
    expect(text[at + 1]).toBe('    never in time: over maxBakeSeconds 30 min, onInconclusive: rollback');
    expect(text).toContain('    judged at 27 min 30 s (27 settled minutes): extends the 2 min bake');
    expect(unwrapped(text)).toContain('of 0.2 req/s to the record (--traffic) from its first check');
    // step 1 ends at its maxBakeSeconds: 120 s + 1,800 s, and the canary with it
    expect(plan.steps[0]!.bakeEndsAtSeconds).toBe(1_920);
    expect(text).toContain('not promoted at this traffic: step 1 is INCONCLUSIVE at 32:00, then rollback');
    expect(text.join('\n')).not.toContain('promoted at 1');
  });

  it('no traffic at all: never, and JSON says Infinity as null', () => {
    const plan = planOf(judgedPairWith(), undefined, { trafficRps: 0 });
    expect(plan.steps[0]!.requests).toEqual({ greenRps: 0, serveSeconds: Infinity, minutes: Infinity, judgedAtSeconds: Infinity, verdict: 'over' });
    expect(unwrapped(formatPlan(plan))).toContain('step 1: green 10 % of 0 req/s = 0 req/s -> 300 requests take forever (no traffic) never in time: over maxBakeSeconds 30 min');
    expect(JSON.parse(JSON.stringify(plan)).steps[0].requests).toEqual({ greenRps: 0, serveSeconds: null, minutes: null, judgedAtSeconds: null, verdict: 'over' });
  });

  it("uses the pair's own analysis: minRequests, settleSeconds, maxBakeSeconds, onInconclusive", () => {
    const pair = judgedPairWith({ analysis: { minRequests: 3_000, settleSeconds: 60, maxBakeSeconds: 600, onInconclusive: 'promote' } });
    const plan = planOf(pair);
    expect(plan.traffic).toEqual({ rps: 50, minRequests: 3_000, minStepMinutes: MIN_STEP, settleSeconds: 60, maxBakeSeconds: 600, onInconclusive: 'promote' });
    // 10 %: 5 req/s, 600 s from 120 s: 12 minutes, + 60 s - 120 s = 660 s > 600 s; 25 %: 240 s: 6 minutes, 300 s.
    expect(plan.steps.map((s) => [s.requests!.minutes, s.requests!.judgedAtSeconds, s.requests!.verdict])).toEqual([
      [12, 660, 'over'],
      [6, 300, 'extends'],
      [Math.max(4, MIN_STEP), Math.max(4, MIN_STEP) * 60 - 60, 'extends'],
      [Math.max(3, MIN_STEP), Math.max(3, MIN_STEP) * 60 - 60, 'extends'],
    ]);
    expect(formatPlan(plan)).toContain('    never in time: over maxBakeSeconds 10 min, onInconclusive: promote');
  });

  it('analysis: false: no request count, and the plan says so', () => {
    const plan = planOf(judgedPairWith({ analysis: false }));
    expect(plan.traffic).toBeNull();
    expect(plan.steps.map((s) => s.requests)).toEqual([null, null, null, null]);
    expect(unwrapped(formatPlan(plan))).toContain('Requests: analysis is off (analysis: false): no request count is needed to pass a step');
  });

  it.each([-1, Number.NaN, Infinity])('refuses trafficRps %s', (trafficRps) => {
    expect(() => planOf(judgedPairWith(), undefined, { trafficRps })).toThrow(RangeError);
  });

  it('durations read as an operator says them', () => {
    expect([0, 6, 59.2, 60, 210, 3_600, 15_000, 90_061, 86_400 * 2_000, Infinity].map(formatDuration)).toEqual([
      '0 s',
      '6 s',
      '1 min',
      '1 min',
      '3 min 30 s',
      '1 h',
      '4 h 10 min',
      '1 d 1 h',
      'over 999 d',
      'forever',
    ]);
  });
});

describe('npx ecs-dns-canary plan --traffic', () => {
  const config = parseConfig({ pairs: [examplePair()] });
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await run(argv, { out: { write: (s: string) => ((out += s), true) }, err: { write: (s: string) => ((err += s), true) } }, { config });
    return { code, out, err };
  };

  it('--traffic RPS changes the requests, and --json has them', async () => {
    const { code, out } = await cli('plan', 'shop-web', '--traffic', '0.2', '--json');
    expect(code).toBe(0);
    const plan = JSON.parse(out);
    expect(plan.traffic).toMatchObject({ rps: 0.2, minRequests: 300 });
    expect(plan.steps.map((s: { requests: { verdict: string } }) => s.requests.verdict)).toEqual(['over', 'over', 'over', 'extends']);
    // The fields that were there keep their names and values.
    // Steps 1-3 bake the 1,800 s maxBakeSeconds, step 4 until 1,650 s: a timeline never reached, since step 1 is INCONCLUSIVE.
    expect(plan).toMatchObject({ pair: 'shop-web', toFullSeconds: 3 * 1_920 + 120, promotedAtSeconds: 3 * 1_920 + 120 + 1_650, inconclusiveAtStep: 1 });
    expect(plan.steps[0]).toMatchObject({ step: 1, greenPercent: 10, startsAtSeconds: 0, judgedFromSeconds: 120, bakeEndsAtSeconds: 1_920 });
  });

  it('without --traffic: 50 req/s, and the text says it is the default', async () => {
    const { code, out } = await cli('plan', 'shop-web');
    expect(code).toBe(0);
    expect(unwrapped(out.split('\n'))).toContain('of 50 req/s to the record (--traffic, default 50)');
    const minutes = settingsOf(analysisOf(config.pairs[0]!) as AnalysisConfig, 120).minStepMinutes;
    expect(out).toContain(`step 1: green 10 % of 50 req/s = 5 req/s -> 300 requests take 1 min\n    judged at ${formatDuration(minutes * 60 + 30)} (${minutes} settled minutes): extends the 2 min bake\n`);
  });

  it.each(['abc', '-3', ''])('--traffic %j is refused (exit 2, UsageError)', async (value) => {
    const { code, err } = await cli('plan', 'shop-web', `--traffic=${value}`);
    expect(code).toBe(2);
    expect(err).toContain(`UsageError: --traffic must be a number of requests a second, at least 0, got ${value}`);
  });
});
