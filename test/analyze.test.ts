import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { inferGreenPercent, SHARE_NOISE, type LiveReads } from '../cli/analyze.js';
import { run } from '../cli/main.js';
import { backtest, MIN_MINUTES_OF_EVIDENCE, type AnalysisSettings, type Minute } from '../functions/lib/analysis.js';
import { analysisOf, parseConfig, type AnalysisConfig, type CanaryConfigInput } from '../functions/lib/config.js';
import { settingsOf } from '../functions/lib/metrics.js';
import { targetGroupArn } from '../local/local-canary.js';
import { examplePair, world } from './helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'analyze-cases.json');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { name: string; settings?: Record<string, unknown>; minutes: Minute[] }[];

type PairInput = CanaryConfigInput['pairs'][number];
const configWith = (overrides: Partial<PairInput> = {}) => parseConfig({ pairs: [{ ...examplePair(), ...overrides }] });

/** `npx ecs-dns-canary <argv>` against the example pair (with overrides): exit code, stdout, stderr, and stdout's JSON lines. */
async function cli(argv: string[], options: { pair?: Partial<PairInput>; reads?: LiveReads; now?: number } = {}) {
  let out = '';
  let err = '';
  const io = { out: { write: (s: string) => ((out += s), true), columns: 80 }, err: { write: (s: string) => ((err += s), true) } };
  const code = await run(argv, io, { config: configWith(options.pair), now: () => options.now ?? Date.now(), ...(options.reads ? { reads: options.reads } : {}) });
  const lines = argv.includes('--json') ? out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  return { code, out, err, lines };
}

const tmp = mkdtempSync(join(tmpdir(), 'analyze-test-'));
/** A file holding `content` (JSON unless it is a string), for --input. */
function inputFile(content: unknown): string {
  const file = join(tmp, `input-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const outcomesOf = (line: { verdicts: { outcome: string }[] }) => line.verdicts.map((v) => v.outcome[0]).join('');

/** The bad green's first two minutes are blue's baseline; the error test needs MIN_MINUTES_OF_EVIDENCE minutes of a clearly bad green. */
const BAD_AT = 2 + MIN_MINUTES_OF_EVIDENCE - 1;

describe('analyze --input: the judge replayed over the fixture, one JSON line per case', () => {
  it('prints each case in order with exactly the named keys first, and exits 0 whatever the outcomes', async () => {
    const { code, lines, err } = await cli(['analyze', 'shop-web', '--input', FIXTURE, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(lines.map((l) => l.name)).toEqual(fixture.map((c) => c.name));
    for (const line of lines) expect(Object.keys(line).slice(0, 5)).toEqual(['name', 'outcome', 'unhealthyAtMinute', 'eValue', 'reasons']);
    expect(lines.map((l) => ({ name: l.name, outcome: l.outcome, unhealthyAtMinute: l.unhealthyAtMinute }))).toEqual([
      { name: 'a-a healthy', outcome: 'HEALTHY', unhealthyAtMinute: null },
      { name: 'green fails 10x', outcome: 'UNHEALTHY', unhealthyAtMinute: BAD_AT },
      { name: 'no traffic to green', outcome: 'INCONCLUSIVE', unhealthyAtMinute: null },
      { name: 'shared incident', outcome: 'HEALTHY', unhealthyAtMinute: null },
      { name: 'slow green', outcome: 'UNHEALTHY', unhealthyAtMinute: 3 },
      { name: 'slow green, latency not judged', outcome: 'HEALTHY', unhealthyAtMinute: null },
      { name: 'a-a, 6000 requests a step', outcome: 'INCONCLUSIVE', unhealthyAtMinute: null },
    ]);
  });

  it('each case, line by line: the outcome, the minute, the evidence and the reasons', async () => {
    const { lines } = await cli(['analyze', 'shop-web', '--input', FIXTURE, '--json']);
    const [aa, bad, none, incident, slow, slowOff, strict] = lines;
    // A/A: both sides err alike; every step passes once it has its settled minutes, none is ever UNHEALTHY.
    expect(aa).toMatchObject({ reasons: [], minutes: 26 });
    expect(aa.eValue).toBeLessThan(1);
    expect(outcomesOf(aa)).not.toContain('U');
    expect(outcomesOf(aa).at(-1)).toBe('H');
    for (const percent of [10, 50, 100]) expect(aa.verdicts.some((v: { greenPercent: number; outcome: string }) => v.greenPercent === percent && v.outcome === 'HEALTHY')).toBe(true);
    // Green errs ten times as often: rolled back once the e-value reaches 1/alpha = 100, not a minute before.
    expect(bad.eValue).toBeGreaterThanOrEqual(100);
    expect(bad.reasons).toEqual([expect.stringMatching(/^green's 5xx \d+ of 24,000 \(1\.0\d %\) vs blue's \d+ of 216,000 \(0\.10 %\): (9|10)\.\dx, e-value [\d.]+ >= 100$/)]);
    expect(bad.verdicts).toHaveLength(BAD_AT + 1);
    expect(bad.verdicts.slice(0, BAD_AT).map((v: { eValue: number; outcome: string }) => v.outcome === 'UNHEALTHY' || v.eValue >= 100)).toEqual(Array(BAD_AT).fill(false));
    // No traffic to green is never a pass.
    expect(none.eValue).toBe(1);
    expect(none.reasons).toEqual([
      'green served 0 requests in 480 s (needs 300)',
      "green's share of requests is 0.0 % at weight 10 % (needs 5.0 %: DNS caches have not moved yet)",
    ]);
    expect(outcomesOf(none)).toBe('IIIIIIIII');
    // A shared incident (blue fails as much as green, minutes 3 to 5) holds the verdict while it lasts; green is not blamed.
    expect(outcomesOf(incident)).not.toContain('U');
    expect(outcomesOf(incident).slice(3, 6)).toBe('III');
    expect(outcomesOf(incident).at(-1)).toBe('H');
    // Latency: green's p99 over three times blue's for 3 minutes; with latency: false it is not judged.
    expect(slow.reasons).toEqual(["green's p99 400, 410, 420 ms vs blue's 120, 120, 120 ms in the last 3 settled minutes (over 1.5x and +50 ms)"]);
    expect(outcomesOf(slowOff)).not.toContain('U');
    // minRequests 6000: the 10 % step's 8 minutes (4,800 requests) are not enough.
    expect(strict.reasons).toEqual(['green served 4800 requests in 480 s (needs 6000)']);
  });

  it('is backtest() itself: the same outcome, minute, e-value and reasons as the judge on the same minutes', async () => {
    const { lines } = await cli(['analyze', 'shop-web', '--input', FIXTURE, '--json']);
    const pair = configWith().pairs[0]!;
    const base = settingsOf(analysisOf(pair) as AnalysisConfig, pair.bakeSeconds);
    fixture.forEach((c, i) => {
      const b = backtest(c.minutes.map((m) => ({ ...m })), { ...base, ...(c.settings as Partial<AnalysisSettings>) });
      expect(lines[i]).toMatchObject({ name: c.name, outcome: b.outcome, unhealthyAtMinute: b.unhealthyAtMinute, eValue: b.eValue, reasons: b.reasons });
      expect(lines[i].verdicts.map((v: { outcome: string }) => v.outcome)).toEqual(b.verdicts.map((v) => v.outcome));
    });
  });

  it("starts from the pair's own analysis configuration; the case's settings go on top", async () => {
    // The pair asks for 6,000 requests a step: the A/A case's 10 % step never gets them.
    const stricter = await cli(['analyze', 'shop-web', '--input', FIXTURE, '--json'], { pair: { analysis: { minRequests: 6_000 } } });
    expect(stricter.lines[0]).toMatchObject({ outcome: 'INCONCLUSIVE', unhealthyAtMinute: null });
    const passedAt = (percent: number) => stricter.lines[0].verdicts.some((v: { greenPercent: number; outcome: string }) => v.greenPercent === percent && v.outcome === 'HEALTHY');
    expect([10, 50, 100].map(passedAt)).toEqual([false, true, true]);
    // The pair turns latency off: slow green passes; the case may turn it back on.
    const file = inputFile([
      { ...fixture[4], name: 'as the pair says' },
      { ...fixture[4], name: 'latency back on', settings: { latency: { ratio: 1.5, floorMs: 50, minutes: 3, minRequests: 100 } } },
    ]);
    const off = await cli(['analyze', 'shop-web', '--input', file, '--json'], { pair: { analysis: { latency: false } } });
    expect(off.lines.map((l) => [l.outcome, l.unhealthyAtMinute])).toEqual([
      ['HEALTHY', null],
      ['UNHEALTHY', 3],
    ]);
    // A latency override merges with the pair's latency, field by field: the pair's 2 minutes stay.
    const pair = { analysis: { latency: { minutes: 2 } } };
    const lenient = await cli(['analyze', 'shop-web', '--input', inputFile([{ ...fixture[4], settings: { latency: { ratio: 4 } } }]), '--json'], { pair });
    expect(lenient.lines[0]).toMatchObject({ outcome: 'HEALTHY' });
    const two = await cli(['analyze', 'shop-web', '--input', inputFile([{ ...fixture[4], settings: { latency: { ratio: 3 } } }]), '--json'], { pair });
    expect(two.lines[0]).toMatchObject({ outcome: 'UNHEALTHY', unhealthyAtMinute: 2 });
    // analysis: false on the pair: the defaults.
    const defaults = await cli(['analyze', 'shop-web', '--input', FIXTURE, '--json'], { pair: { analysis: false } });
    expect(defaults.lines.map((l) => l.outcome)).toEqual(['HEALTHY', 'UNHEALTHY', 'INCONCLUSIVE', 'HEALTHY', 'UNHEALTHY', 'HEALTHY', 'INCONCLUSIVE']);
  });

  it('takes one case as well as an array', async () => {
    const { code, lines } = await cli(['analyze', 'shop-web', '--input', inputFile(fixture[1]), '--json']);
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'green fails 10x', outcome: 'UNHEALTHY', unhealthyAtMinute: BAD_AT });
  });
});

describe('analyze --input: the text output', () => {
  it('a verdict after each minute, the reasons when they change, the outcome with its reasons', async () => {
    const { code, out } = await cli(['analyze', 'shop-web', '--input', FIXTURE]);
    expect(code).toBe(0);
    const blocks = out.trimEnd().split('\n\n');
    expect(blocks).toHaveLength(fixture.length);
    const rowsOf = (block: string) => block.split('\n').filter((l) => /^ +\d+ +\d+ % +[A-Z]+ /.test(l));
    blocks.forEach((block, i) => {
      expect(block.split('\n')[0]).toBe(`${fixture[i]!.name}: ${fixture[i]!.minutes.length} settled minutes`);
      expect(rowsOf(block).length).toBeLessThanOrEqual(fixture[i]!.minutes.length);
    });
    const [aa, bad, none, incident] = blocks as [string, string, string, string];
    expect(rowsOf(aa)).toHaveLength(26);
    expect(rowsOf(aa)[3]!.trim().split(/ {2,}/)).toEqual(['3', '10 %', 'INCONCLUSIVE', '1/1,200 0.08 %', '9/10,800 0.08 %', expect.stringMatching(/^[\d.]+$/)]);
    expect(rowsOf(aa).at(-1)).toMatch(/^ +25 +100 % +HEALTHY +\d+\/76,800 0\.\d\d % +\d+\/67,200 0\.\d\d % +[\d.]+$/);
    expect(aa).toContain("before the first shift: blue's baseline");
    expect(aa).toContain('  => HEALTHY: every step of green passed');
    // Stops at the first UNHEALTHY minute, and says why.
    expect(rowsOf(bad)).toHaveLength(BAD_AT + 1);
    expect(rowsOf(bad)[BAD_AT]!.trim().split(/ {2,}/)).toEqual([String(BAD_AT), '10 %', 'UNHEALTHY', expect.stringMatching(/^\d+\/24,000 1\.0\d %$/), expect.stringMatching(/^\d+\/216,000 0\.10 %$/), expect.stringMatching(/^[\d.]+$/)]);
    expect(bad).toMatch(new RegExp(`\\n  => UNHEALTHY at minute ${BAD_AT}: green's 5xx \\d+ of 24,000 \\(1\\.0\\d %\\) vs blue's`));
    expect(bad).toMatch(/^ {5}green \d+\/24,000 \(1\.0\d %\) p99 121 ms; blue \d+\/216,000 \(0\.10 %\) p99 120 ms; share 10\.0 % of weight 10 %; e-value [\d.]+ \(rolls back at 100\)$/m);
    expect(none).toContain('  => INCONCLUSIVE: green served 0 requests in 480 s (needs 300)');
    // The shared incident's minutes say so under them.
    const lines = incident.split('\n');
    const row3 = lines.findIndex((l) => /^ +3 +10 % +INCONCLUSIVE /.test(l));
    expect(lines[row3 + 1]).toMatch(/^ +blue is failing too \(300 of 5,400 \(5\.56 %\) in the newest settled minute, 0\.09 % before the canary\): a shared incident, the verdict is held$/);
    expect(incident).toContain('settings: alpha 0.01 (rolls back at e-value 100)');
  });
});

describe('analyze: bad usage and bad files (exit 2, named)', () => {
  it('a bad file: every problem named by case and field, exit 2, no usage text', async () => {
    const file = inputFile([
      { ...fixture[0], name: 'bad counts', minutes: [fixture[0]!.minutes[0], { ...fixture[0]!.minutes[2], green: { requests: 10, errors: 11 } }] },
      { name: 'bad settings', settings: { alpha: 5, latency: { ratio: 0.5 }, frobnicate: 1 }, minutes: fixture[0]!.minutes },
      { minutes: [] },
      { name: 'typo', minute: [] },
    ]);
    const { code, out, err } = await cli(['analyze', 'shop-web', '--input', file]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n').slice(0, 10)).toEqual([
      `ecs-dns-canary: UsageError: ${file} is not a valid analyze input:`,
      '  case "bad counts" (cases[0]): minutes[1].green.errors: errors must not exceed requests',
      '  case "bad settings" (cases[1]): settings.frobnicate: unknown setting (one of mode, alpha, errorRatio, errorFloorPercent, settleSeconds, minRequests, minShareOfWeight, maxBakeSeconds, onInconclusive, latency, incident, baselineMinutes)',
      '  case "bad settings" (cases[1]): settings.alpha: Too big: expected number to be <=0.1',
      '  case "bad settings" (cases[1]): settings.latency.ratio: Too small: expected number to be >=1',
      '  case 3 (cases[2]): name: Invalid input: expected string, received undefined',
      '  case 3 (cases[2]): minutes: list at least one minute',
      '  case "typo" (cases[3]): minutes: Invalid input: expected array, received undefined',
      '  case "typo" (cases[3]): (case): Unrecognized key: "minute"',
      '',
    ]);
    expect(err).not.toContain('usage:');
  });

  it("settings the pair's configuration would refuse are refused the same way", async () => {
    // onInconclusive 'approval' needs the pair's approval gate.
    const { code, err } = await cli(['analyze', 'shop-web', '--input', inputFile([{ ...fixture[0], settings: { onInconclusive: 'approval' } }])]);
    expect(code).toBe(2);
    expect(err).toContain("case \"a-a healthy\" (cases[0]): settings: onInconclusive 'approval' needs approval");
  });

  it('--json: the error as one JSON line', async () => {
    const { code, lines } = await cli(['analyze', 'shop-web', '--input', inputFile({ name: 'x', minutes: [{ greenPercent: 120, blue: { requests: 1, errors: 0 }, green: { requests: 1, errors: 0 } }] }), '--json']);
    expect(code).toBe(2);
    expect(lines).toEqual([{ error: 'UsageError', message: expect.stringContaining('case "x" (cases[0]): minutes[0].greenPercent: Too big: expected number to be <=100') }]);
  });

  it.each([
    [['analyze', 'shop-web', '--input', '/nonexistent/cases.json'], 'UsageError: cannot read --input /nonexistent/cases.json'],
    [['analyze', 'shop-web', '--input', 'NOT-JSON'], 'is not JSON'],
    [['analyze', 'shop-web', '--input', 'EMPTY'], 'no cases (an empty array)'],
    [['analyze', 'shop-web', '--input', 'NUMBER'], 'must be a JSON array of cases (or one case)'],
    [['analyze', 'shop-web'], 'UsageError: analyze needs --input FILE (offline) or --from ISO --to ISO (live)'],
    [['analyze', 'shop-web', '--input', 'X', '--from', '2026-11-23T09:00:00Z'], 'not both'],
    [['analyze', '--input', 'X'], 'UsageError: analyze needs a pair'],
    [['analyze', 'nope', '--input', 'X'], 'UnknownPair: no pair nope'],
  ])('%j: exit 2, %s', async (argv, message) => {
    const files: Record<string, string> = { 'NOT-JSON': inputFile('{"name": '), EMPTY: inputFile([]), NUMBER: inputFile(42), X: FIXTURE };
    const { code, err } = await cli(argv.map((a) => files[a] ?? a));
    expect(code).toBe(2);
    expect(err).toContain(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Live mode, with the AWS reads replaced by a fake that answers GetMetricData from per-minute counts.

const T0 = Date.parse('2026-11-23T09:00:00Z');
const NOW = T0 + 60 * 60_000;
type Side = [requests: number, errors: number, p99Ms: number];

/** Reads for the example pair: each service on its own ALB; GetMetricData answers `minutes` from T0 on. */
function fakeReads(minutes: { blue: Side; green: Side }[], options: { weights?: Record<string, number>; running?: string; green?: string } = {}) {
  const calls: { queries: MetricDataQuery[]; groups: string[][]; start: Date; end: Date }[] = [];
  const greenService = options.green ?? 'shop-web-b';
  const reads: LiveReads = {
    targetGroupsOf: async (_cluster, service) => [`arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${service}/0123456789abcdef`],
    describeTargetGroups: async (arns) =>
      arns.map((arn) => {
        const service = arn.split('/').at(-2)!;
        return { arn, targetGroup: arn.split(':').at(-1)!, loadBalancers: [{ arn: `lb-${service}`, dimension: `app/${service}/fedcba9876543210`, type: 'application' as const }] };
      }),
    async getMetricDataByPlace(groups, start, end) {
      // one place here (both sides are the stack's): the adapter makes one call of it
      const queries = groups.flatMap((g) => g.queries);
      calls.push({ queries, groups: groups.map((g) => g.queries.map((q) => q.Id!)), start, end });
      const series = new Map<string, { timestamps: Date[]; values: number[] }>();
      for (const q of queries) {
        const lb = q.MetricStat!.Metric!.Dimensions!.find((d) => d.Name === 'LoadBalancer')!.Value!;
        const side = lb.includes(greenService) ? 'green' : 'blue';
        const s = { timestamps: [] as Date[], values: [] as number[] };
        minutes.forEach((m, i) => {
          const t = T0 + i * 60_000;
          if (t < start.getTime() || t >= end.getTime()) return;
          const [requests, errors, p99] = m[side];
          const value = q.Id!.includes('_req_') ? requests : q.Id!.includes('_err_') ? errors : q.Id!.includes('_p99_') ? p99 / 1000 : undefined;
          if (value === undefined || (requests === 0 && !q.Id!.includes('_req_'))) return;
          s.timestamps.push(new Date(t));
          s.values.push(value);
        });
        series.set(q.Id!, s);
      }
      return series;
    },
    weights: async () => options.weights ?? { 'shop-web-a': 100, 'shop-web-b': 0 },
    runningGreen: async () => options.running,
  };
  return { reads, calls };
}

/** Blue and green at `greenPercent` of 6,000 requests a minute, 0.1 % errors each (green: `greenErrors` per mille). */
const at = (greenPercent: number, greenErrors = 1): { blue: Side; green: Side } => {
  const green = (6_000 * greenPercent) / 100;
  return { blue: [6_000 - green, Math.round((6_000 - green) / 1_000), 120], green: [green, Math.round((green * greenErrors) / 1_000), 121] };
};

describe('analyze --from --to (live): the same judge over CloudWatch minutes', () => {
  it("green's weight in each minute is inferred: the smallest step at or above its share of requests", () => {
    const steps = [10, 25, 50, 100];
    expect(inferGreenPercent(steps, 0, 6_000)).toBe(0);
    expect(inferGreenPercent(steps, 0, 0)).toBe(0);
    expect(inferGreenPercent(steps, 600, 5_400)).toBe(10);
    expect(inferGreenPercent(steps, 450, 5_550)).toBe(10);
    // a share a little over a step is that step (noise), a share well over it the next one
    expect(SHARE_NOISE).toBe(1.2);
    expect(inferGreenPercent(steps, 700, 5_300)).toBe(10);
    expect(inferGreenPercent(steps, 720, 5_280)).toBe(10);
    expect(inferGreenPercent(steps, 900, 5_100)).toBe(25);
    expect(inferGreenPercent(steps, 3_500, 2_500)).toBe(50);
    expect(inferGreenPercent(steps, 3_700, 2_300)).toBe(100);
    expect(inferGreenPercent(steps, 3_000, 3_000)).toBe(50);
    expect(inferGreenPercent(steps, 6_000, 0)).toBe(100);
    expect(inferGreenPercent([5, 100], 1, 10_000)).toBe(5);
  });

  it('reads both sides in one window, infers the steps and judges: a healthy canary', async () => {
    const weights = [0, 0, 0, ...[10, 25, 50, 100].flatMap((p) => Array(8).fill(p) as number[])];
    const minutes = weights.map((p) => at(p));
    const { reads, calls } = fakeReads(minutes);
    const { code, lines } = await cli(['analyze', 'shop-web', '--from', '2026-11-23T09:00:00Z', '--to', '2026-11-23T09:35:00Z', '--json'], { reads, now: NOW });
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'shop-web 2026-11-23T09:00:00.000Z..2026-11-23T09:35:00.000Z', outcome: 'HEALTHY', unhealthyAtMinute: null, reasons: [] });
    expect(lines[0].verdicts.map((v: { greenPercent: number }) => v.greenPercent)).toEqual(weights);
    // One GetMetricData call for the window; requests, 5xx and p99 of each side's target group, and each side's own ALB's 5xx.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.start.toISOString()).toBe('2026-11-23T09:00:00.000Z');
    expect(calls[0]!.end.toISOString()).toBe('2026-11-23T09:35:00.000Z');
    expect(calls[0]!.queries.map((q) => q.Id).sort()).toEqual(['b_elb_0', 'b_err_0', 'b_p99_0', 'b_req_0', 'g_elb_0', 'g_err_0', 'g_p99_0', 'g_req_0']);
    // each side's queries in its own group, so that a side elsewhere is read where it runs
    expect(calls[0]!.groups.map((ids) => [...new Set(ids.map((id) => id[0]))])).toEqual([['b'], ['g']]);
    const green = calls[0]!.queries.find((q) => q.Id === 'g_req_0')!.MetricStat!.Metric!.Dimensions;
    expect(green).toEqual([
      { Name: 'LoadBalancer', Value: 'app/shop-web-b/fedcba9876543210' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop-web-b/0123456789abcdef' },
    ]);
  });

  it('a failing green is UNHEALTHY at the minute the judge would have rolled back', async () => {
    const minutes = [at(0), at(0), ...Array.from({ length: 8 }, () => at(10, 20))];
    const { reads } = fakeReads(minutes);
    const live = await cli(['analyze', 'shop-web', '--from', '2026-11-23T09:00:00Z', '--to', '2026-11-23T09:10:00Z', '--json'], { reads, now: NOW });
    expect(live.lines[0]).toMatchObject({ outcome: 'UNHEALTHY' });
    // The same minutes as an --input case: the same verdict.
    const asInput = minutes.map((m) => ({
      greenPercent: m.green[0] ? 10 : 0,
      blue: { requests: m.blue[0], errors: m.blue[1], p99Ms: m.blue[2] },
      green: { requests: m.green[0], errors: m.green[1], p99Ms: m.green[0] ? m.green[2] : null },
    }));
    const offline = await cli(['analyze', 'shop-web', '--input', inputFile({ name: 'same', minutes: asInput }), '--json']);
    expect(offline.lines[0]).toMatchObject({ outcome: 'UNHEALTHY', unhealthyAtMinute: live.lines[0].unhealthyAtMinute, eValue: live.lines[0].eValue, reasons: live.lines[0].reasons });
  });

  it('the text names green, the window left out as unsettled, and how the weights were inferred', async () => {
    const { reads, calls } = fakeReads([at(0), at(10), at(10), at(10)]);
    // Now is 09:05:30: minutes settle 150 s after they end, so 09:03 is the last settled one.
    const { code, out } = await cli(['analyze', 'shop-web', '--from', '2026-11-23T09:00:00Z', '--to', '2026-11-23T10:00:00Z'], { reads, now: T0 + 5.5 * 60_000 });
    expect(code).toBe(0);
    expect(calls[0]!.end.toISOString()).toBe('2026-11-23T09:03:00.000Z');
    expect(out).toContain('shop-web 2026-11-23T09:00:00.000Z..2026-11-23T09:03:00.000Z: 3 settled minutes');
    expect(out).toContain('(minutes from 2026-11-23T09:03:00.000Z on are not settled yet (settleSeconds 150): left out)');
    expect(out).toContain('(green is shop/shop-web-b (the service with weight 0 now), blue shop/shop-web-a)');
    expect(out).toContain("(each minute's green % is inferred: the smallest step (10, 25, 50, 100) at or above green's share of requests ÷ 1.2 (noise); 0 when green served nothing)");
  });

  it('green: --green, else the running canary, else the service with weight 0; split weights need --green', async () => {
    const argv = ['analyze', 'shop-web', '--from', '2026-11-23T09:00:00Z', '--to', '2026-11-23T09:03:00Z'];
    const named = await cli([...argv, '--green', 'shop-web-a'], { reads: fakeReads([at(0), at(10), at(10)], { green: 'shop-web-a' }).reads, now: NOW });
    expect(named.out).toContain('green is shop/shop-web-a (named by --green), blue shop/shop-web-b');
    const running = await cli(argv, { reads: fakeReads([at(0), at(10), at(10)], { weights: { 'shop-web-a': 90, 'shop-web-b': 10 }, running: 'shop-web-b' }).reads, now: NOW });
    expect(running.out).toContain('green is shop/shop-web-b (green of the canary running now)');
    const flipped = await cli(argv, { reads: fakeReads([at(0), at(10), at(10)], { weights: { 'shop-web-a': 0, 'shop-web-b': 100 }, green: 'shop-web-a' }).reads, now: NOW });
    expect(flipped.out).toContain('green is shop/shop-web-a (the service with weight 0 now)');
    const split = await cli(argv, { reads: fakeReads([], { weights: { 'shop-web-a': 50, 'shop-web-b': 50 } }).reads, now: NOW });
    expect(split.code).toBe(2);
    expect(split.err).toContain('UsageError: cannot tell green of pair shop-web: no canary is running and DNS has shop-web-a 50 / shop-web-b 50; name it with --green SERVICE');
    const unknown = await cli([...argv, '--green', 'other'], { reads: fakeReads([]).reads, now: NOW });
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('UsageError: --green other is not a service of pair shop-web (shop-web-a, shop-web-b)');
  });

  it.each([
    [['--from', 'yesterday', '--to', '2026-11-23T09:03:00Z'], '--from and --to must be ISO times'],
    [['--from', '2026-11-23T09:03:00Z', '--to', '2026-11-23T09:00:00Z'], 'no settled minute from 2026-11-23T09:03:00.000Z to 2026-11-23T09:00:00.000Z'],
    [['--from', '2026-11-20T09:00:00Z', '--to', '2026-11-23T09:00:00Z'], 'at most 1440 minutes (24 h) at a time'],
    [['--from', '2026-11-23T09:00:00Z'], 'analyze needs --input FILE (offline) or --from ISO --to ISO (live)'],
  ])('%j: exit 2, %s', async (window, message) => {
    const { code, err } = await cli(['analyze', 'shop-web', ...window], { reads: fakeReads([]).reads, now: NOW });
    expect(code).toBe(2);
    expect(err).toContain(message);
  });

  it('no ALB on a side and no analysis.metrics: nothing to judge by (InvalidConfig, exit 2)', async () => {
    const { reads } = fakeReads([]);
    reads.targetGroupsOf = async () => [];
    const { code, err } = await cli(['analyze', 'shop-web', '--from', '2026-11-23T09:00:00Z', '--to', '2026-11-23T09:03:00Z'], { reads, now: NOW });
    expect(code).toBe(2);
    expect(err).toContain('InvalidConfig: nothing to judge green of pair shop-web by');
  });
});

describe('analyze --from --to on the simulated account (its clients, its ALBs, its CloudWatch)', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('a healthy canary, replayed after its promotion (green named: it is live now): HEALTHY, every step inferred in order', async () => {
    const w = world();
    const start = Date.now();
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const end = Date.now();
    await w.clock.advance(300_000); // the last minutes settle
    const r = await w.operator('analyze', 'shop-web', '--from', iso(start - 10 * 60_000), '--to', iso(end + 60_000), '--green', w.green.service, '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ outcome: 'HEALTHY', unhealthyAtMinute: null, reasons: [] });
    const percents = r.json.verdicts.map((v: { greenPercent: number }) => v.greenPercent);
    expect([...new Set(percents)]).toEqual([0, 10, 25, 50, 100]);
    expect(percents).toEqual([...percents].sort((a: number, b: number) => a - b));
    expect(r.json.verdicts[0].at).toBe(iso(Math.floor((start - 10 * 60_000) / 60_000) * 60_000));
  });

  it('a green failing 10 % of requests, replayed after the rollback (green: the service with weight 0): UNHEALTHY at 10 %, no later than the judge saw it', async () => {
    const w = world();
    w.sim.traffic.setBehaviour(targetGroupArn(w.green.service), { errorRate: 0.1 });
    const start = Date.now();
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/step 1 of 4 \(green 10 %\): green's 5xx/);
    const rolledBackAt = w.sim.route53.applied.at(-1)!.at;
    await w.clock.advance(300_000);
    const r = await w.operator('analyze', 'shop-web', '--from', iso(start - 10 * 60_000), '--to', iso(Date.now()), '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ outcome: 'UNHEALTHY', reasons: [expect.stringMatching(/^green's 5xx \d+ of [\d,]+ \(\d+\.\d+ %\) vs blue's/)] });
    const bad = r.json.verdicts[r.json.unhealthyAtMinute];
    expect(bad).toMatchObject({ outcome: 'UNHEALTHY', greenPercent: 10 });
    // The judge rolled back on settled minutes only: the minute that condemns green ended before the rollback.
    expect(Date.parse(bad.at) + 60_000).toBeLessThanOrEqual(rolledBackAt);
    const text = await w.operator('analyze', 'shop-web', '--from', iso(start - 10 * 60_000), '--to', iso(Date.now()));
    expect(text.out).toContain(`(green is shop/${w.green.service} (the service with weight 0 now), blue shop/shop-web-a)`);
    expect(text.out).toContain(`  => UNHEALTHY at minute ${r.json.unhealthyAtMinute}: green's 5xx`);
  });
});
