/**
 * `npx ecs-dns-canary analyze <pair>`: the judge (functions/lib/analysis.ts `backtest`) replayed
 * over settled minutes, one verdict after each.
 * - `--input FILE` (offline): minutes from a JSON file of cases, each with its own settings on
 *   top of the pair's analysis configuration;
 * - `--from ISO --to ISO` (live): both sides' minutes read from CloudWatch with the operator's
 *   credentials, green's weight inferred per minute from its measured share of requests.
 * There is one judge: both modes end in `backtest()`.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import '../functions/lib/zod.js';
import { backtest, formatE, summaryLine, type AnalysisSettings, type Backtest, type Minute } from '../functions/lib/analysis.js';
import { getMetricDataByPlace } from '../functions/lib/aws/cloudwatch.js';
import { describeService } from '../functions/lib/aws/ecs.js';
import { describeTargetGroups, type TargetGroupInfo } from '../functions/lib/aws/elbv2.js';
import { byPlace, type SideAccess } from '../functions/lib/access.js';
import { configuredPairRef, operatorSession, sideAccess } from '../functions/lib/canary-state.js';
import { AnalysisSchema, analysisOf, configProblems, formatPath, parseConfig, type AnalysisConfig, type PairConfig } from '../functions/lib/config.js';
import { CanaryError, fail } from '../functions/lib/errors.js';
import { metricQueries, metricsPlanOf, minutesFrom, queriesOf, settingsOf, targetGroupRef, type Series, type SideTargets } from '../functions/lib/metrics.js';
import { readClaim } from '../functions/lib/pair-lock.js';
import { expandSteps } from '../functions/lib/schedule.js';
import { route53Reader } from '../functions/lib/traffic/route53/route53-router.js';
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';

/** A bad --input file: refused (exit 2) as a UsageError, without the whole usage text after it. */
export class InputError extends CanaryError {
  constructor(message: string) {
    super('UsageError', message);
  }
}

/** One case to replay: its name, its settings (the pair's, with the case's overrides), its minutes. */
export interface AnalyzeCase {
  name: string;
  settings: AnalysisSettings;
  minutes: Minute[];
}

/** What `--json` prints for a case, one line each: these keys first, in this order. */
export interface CaseResult {
  name: string;
  outcome: Backtest['outcome'];
  unhealthyAtMinute: number | null;
  eValue: number;
  reasons: string[];
  /** Minutes read (the backtest stops at the first UNHEALTHY one). */
  minutes: number;
  /** The verdict after each minute, up to the last one judged. */
  verdicts: { minute: number; at?: string; greenPercent: number; outcome: Backtest['outcome']; eValue: number }[];
}

/** The settings a case may override: the config's `analysis` fields (metrics stay the pair's). */
export const SETTING_NAMES = Object.keys(AnalysisSchema.def.shape).filter((k) => k !== 'metrics');

const count = z.int().check(z.minimum(0));
const CountPair = z.strictObject({ requests: count, errors: count });
const Side = z
  .strictObject({
    requests: count,
    errors: count,
    p99Ms: z._default(z.nullable(z.number().check(z.minimum(0))), null),
    counts: z.optional(z.record(z.string(), CountPair)),
    values: z.optional(z.record(z.string(), z.nullable(z.number()))),
  })
  .check(z.refine((s) => s.errors <= s.requests, { error: 'errors must not exceed requests', path: ['errors'] }));
const MinuteSchema = z.strictObject({
  at: z.optional(z.string()),
  greenPercent: z.number().check(z.minimum(0), z.maximum(100)),
  blue: Side,
  green: Side,
});
const Case = z.strictObject({
  name: z.string().check(z.minLength(1, 'name must not be empty'), z.maxLength(200)),
  settings: z._default(z.record(z.string(), z.unknown()), {}),
  minutes: z.array(MinuteSchema).check(z.minLength(1, 'list at least one minute'), z.maxLength(100_000)),
});

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The pair's analysis configuration with a case's overrides on top (`latency` and `incident`
 * merge field by field), validated by the configuration's own schema: the settings, or the
 * problems (`settings.alpha: ...`).
 */
export function settingsFor(pair: PairConfig, overrides: Record<string, unknown>): { settings: AnalysisSettings } | { problems: string[] } {
  const known = (k: string) => SETTING_NAMES.includes(k);
  const unknown = Object.keys(overrides).filter((k) => !known(k));
  const base: Record<string, unknown> = { ...(analysisOf(pair) || {}) };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) if (known(key)) merged[key] = isObject(value) && isObject(base[key]) ? { ...base[key], ...value } : value;
  const config = { pairs: [{ ...pair, analysis: merged }] };
  const problems = [
    ...unknown.map((k) => `settings.${k}: unknown setting (one of ${SETTING_NAMES.join(', ')})`),
    ...configProblems(config).map((p) => p.replace(/^pairs\[0\]\.analysis/, 'settings').replace(/^pairs\[0\]\.?/, `pair ${pair.name}: `)),
  ];
  if (problems.length) return { problems };
  return { settings: settingsOf(analysisOf(parseConfig(config).pairs[0]!) as AnalysisConfig, pair.bakeSeconds) };
}

/** Cases from a parsed --input document (an array of cases, or one case); `file` names it in errors. */
export function casesFromInput(input: unknown, pair: PairConfig, file = 'input'): AnalyzeCase[] {
  const raw = Array.isArray(input) ? input : isObject(input) ? [input] : undefined;
  if (!raw) throw new InputError(`${file}: must be a JSON array of cases (or one case): { "name", "settings"?, "minutes": [...] }`);
  if (raw.length === 0) throw new InputError(`${file}: no cases (an empty array)`);
  const problems: string[] = [];
  const cases: AnalyzeCase[] = [];
  raw.forEach((item, i) => {
    const label = `case ${isObject(item) && typeof item.name === 'string' && item.name ? JSON.stringify(item.name) : i + 1} (cases[${i}])`;
    const parsed = Case.safeParse(item);
    if (!parsed.success)
      for (const line of new Set(parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(case)'}: ${issue.message}`))) problems.push(`${label}: ${line}`);
    // The settings are checked even when the minutes are not: every problem of the file at once.
    const overrides = isObject(item) && isObject(item.settings) ? item.settings : parsed.success ? parsed.data.settings : undefined;
    const result = overrides ? settingsFor(pair, overrides) : undefined;
    if (result && 'problems' in result) problems.push(...result.problems.map((p) => `${label}: ${p}`));
    if (parsed.success && result && 'settings' in result) cases.push({ name: parsed.data.name, settings: result.settings, minutes: parsed.data.minutes });
  });
  if (problems.length) throw new InputError(`${file} is not a valid analyze input:\n  ${problems.join('\n  ')}`);
  return cases;
}

/** Cases from a --input file. */
export function readCases(file: string, pair: PairConfig): AnalyzeCase[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read --input ${file}: ${(e as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not JSON: ${(e as Error).message}`);
  }
  return casesFromInput(input, pair, file);
}

/** The judge over one case's minutes, and what --json prints for it. */
export function runCase(c: AnalyzeCase): { result: CaseResult; backtest: Backtest } {
  const b = backtest(c.minutes, c.settings);
  return {
    backtest: b,
    result: {
      name: c.name,
      outcome: b.outcome,
      unhealthyAtMinute: b.unhealthyAtMinute,
      eValue: b.eValue,
      reasons: b.reasons,
      minutes: c.minutes.length,
      verdicts: b.verdicts.map((v, i) => ({ minute: i, ...(c.minutes[i]!.at ? { at: c.minutes[i]!.at } : {}), greenPercent: c.minutes[i]!.greenPercent, outcome: v.outcome, eValue: v.eValue })),
    },
  };
}

/** Words into lines of at most 80 columns, each line starting with `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= 80) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(`${indent}${word}`);
  }
  return lines;
}

const rate = (errors: number, requests: number) => (requests > 0 ? `${((100 * errors) / requests).toFixed(2)} %` : '-');

/**
 * The verdict after each minute, one line each (index, green's weight, outcome, green's and
 * blue's errors of requests so far, the e-value), the reasons under a minute whenever they
 * change, then the outcome with its reasons and the last verdict's numbers.
 */
export function formatCase(c: AnalyzeCase, b: Backtest, notes: string[] = []): string[] {
  const s = c.settings;
  const latency = s.latency ? `p99 over ${s.latency.ratio}x and +${s.latency.floor} ms for ${s.latency.minutes} min` : 'not judged';
  const lines = [
    `${c.name}: ${c.minutes.length} settled minute${c.minutes.length === 1 ? '' : 's'}`,
    ...wrap(
      `settings: alpha ${s.alpha} (rolls back at e-value ${formatE(b.verdicts[0]?.thresholds.eValue ?? 1 / s.alpha)}), errorRatio ${s.errorRatio},` +
        ` errorFloorPercent ${s.errorFloorPercent}, minRequests ${s.minRequests} in at least ${s.minStepMinutes} settled minute${s.minStepMinutes === 1 ? '' : 's'} a step, minShareOfWeight ${s.minShareOfWeight},` +
        ` latency ${latency}, incident ${s.incident.ratio}x and ${s.incident.floorPercent} %`,
      '  ',
    ),
    ...notes.map((n) => `  (${n})`),
    '  minute  green  verdict       green 5xx so far      blue 5xx so far        e-value',
  ];
  const firstShift = c.minutes.findIndex((m) => m.greenPercent > 0);
  let lastReasons = '';
  b.verdicts.forEach((v, i) => {
    const m = c.minutes[i]!;
    const g = `${v.green.errors}/${v.green.requests.toLocaleString('en-US')} ${rate(v.green.errors, v.green.requests)}`;
    const bl = `${v.blue.errors}/${v.blue.requests.toLocaleString('en-US')} ${rate(v.blue.errors, v.blue.requests)}`;
    lines.push(`  ${String(i).padStart(6)}  ${`${m.greenPercent} %`.padStart(5)}  ${v.outcome.padEnd(12)}  ${g.padEnd(20)}  ${bl.padEnd(21)}  ${formatE(v.eValue)}`);
    const baseline = firstShift < 0 || i < firstShift;
    const reasons = baseline ? "before the first shift: blue's baseline" : v.outcome === 'HEALTHY' ? '' : v.reasons.join('\n');
    if (reasons && reasons !== lastReasons) lines.push(...reasons.split('\n').map((r) => `          ${r}`));
    lastReasons = reasons;
  });
  const last = b.verdicts.at(-1);
  if (b.outcome === 'UNHEALTHY') lines.push(`  => UNHEALTHY at minute ${b.unhealthyAtMinute}: ${b.reasons.join('; ')}`);
  else if (b.outcome === 'HEALTHY') lines.push('  => HEALTHY: every step of green passed (enough requests, its share of them, no worse than blue)');
  else lines.push(`  => INCONCLUSIVE: ${b.reasons.join('; ')}`);
  if (last) lines.push(`     ${summaryLine(last)}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Live: both sides' minutes from CloudWatch.

/** The AWS reads of the live mode; awsReads() are the functions/lib/aws adapters. */
export interface LiveReads {
  /** `access`: where a side runs when it is not the stack's place (its region, its role). */
  targetGroupsOf(cluster: string, service: string, access?: SideAccess): Promise<string[]>;
  describeTargetGroups(arns: string[], access?: SideAccess): Promise<TargetGroupInfo[]>;
  /** Each group's queries read where its side runs, in one call per place (getMetricDataByPlace). */
  getMetricDataByPlace(groups: { queries: MetricDataQuery[]; access?: SideAccess }[], start: Date, end: Date): Promise<Series>;
  /** The pair's live weights by service, as Route53 has them. */
  weights(pair: PairConfig): Promise<Record<string, number>>;
  /** The green service of the canary running on the pair, if one is. */
  runningGreen(pair: PairConfig): Promise<string | undefined>;
}

export const awsReads = (claimsTable: string): LiveReads => ({
  targetGroupsOf: async (cluster, service, access) => (await describeService(cluster, service, access)).targetGroups,
  describeTargetGroups,
  getMetricDataByPlace,
  async weights(pair) {
    const [a, b] = pair.services;
    const w = await route53Reader(configuredPairRef(pair, { blue: a, green: b })).read();
    return { [a.service]: w.blue, [b.service]: w.green };
  },
  runningGreen: async (pair) => (await readClaim(pair.name, claimsTable))?.green.service,
});

/**
 * A measured share counts as a step up to this factor above it: at a steady weight the share
 * wanders about it (DNS resolvers are few; a 10 % weight reads 9 to 12 % minute by minute), and
 * a share just over a step is that step, not the next one up.
 */
export const SHARE_NOISE = 1.2;

/**
 * The weight a minute was most likely at: the smallest configured step at or above green's
 * measured share of requests, allowing for noise (share ÷ SHARE_NOISE); 0 when green served
 * nothing, 100 when only green did. While DNS caches move, the share lags the weight: such
 * minutes count as the step they are moving towards.
 */
export function inferGreenPercent(steps: readonly number[], green: number, blue: number): number {
  if (green <= 0) return 0;
  if (blue <= 0) return 100;
  const share = (100 * green) / (green + blue);
  return steps.find((p) => p >= share / SHARE_NOISE - 1e-9) ?? 100;
}

export interface LiveOptions {
  from: number;
  to: number;
  /** --green: the service judged as green (else the running canary's green, else the one with weight 0). */
  green?: string;
  now: number;
}

const MAX_MINUTES = 1_440;
const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

/** Which of the pair's services is green, and which blue. */
async function sidesOf(pair: PairConfig, green: string | undefined, reads: LiveReads): Promise<{ blue: PairConfig['services'][number]; green: PairConfig['services'][number]; why: string }> {
  const named = (n: string) => pair.services.findIndex((s) => s.service === n || `${s.cluster}/${s.service}` === n);
  const pick = (i: number, why: string) => ({ green: pair.services[i]!, blue: pair.services[1 - i]!, why });
  if (green !== undefined) {
    const i = named(green);
    if (i < 0) fail('UsageError', `--green ${green} is not a service of pair ${pair.name} (${pair.services.map((s) => s.service).join(', ')})`);
    return pick(i, 'named by --green');
  }
  const running = await reads.runningGreen(pair);
  if (running !== undefined && named(running) >= 0) return pick(named(running), 'green of the canary running now');
  const weights = await reads.weights(pair);
  const idle = pair.services.findIndex((s, i) => weights[s.service] === 0 && (weights[pair.services[1 - i]!.service] ?? 0) > 0);
  if (idle < 0)
    fail('UsageError', `cannot tell green of pair ${pair.name}: no canary is running and DNS has ${pair.services.map((s) => `${s.service} ${weights[s.service]}`).join(' / ')}; name it with --green SERVICE`);
  return pick(idle, 'the service with weight 0 now');
}

/** One case of the pair's settled minutes from `from` to `to`, read from CloudWatch; with notes on what was assumed. */
export async function liveCase(pair: PairConfig, options: LiveOptions, reads: LiveReads): Promise<{ case: AnalyzeCase; notes: string[] }> {
  const config = analysisOf(pair) || (analysisOf({}) as AnalysisConfig);
  const settings = settingsOf(config, pair.bakeSeconds);
  const notes: string[] = [];
  if (!Number.isFinite(options.from) || !Number.isFinite(options.to)) fail('UsageError', '--from and --to must be ISO times, such as 2026-11-23T09:00:00Z');
  const from = minuteOf(options.from);
  let to = minuteOf(options.to);
  const settled = minuteOf(options.now - settings.settleSeconds * 1000);
  if (to > settled) {
    notes.push(`minutes from ${new Date(settled).toISOString()} on are not settled yet (settleSeconds ${settings.settleSeconds}): left out`);
    to = settled;
  }
  if (to <= from) fail('UsageError', `no settled minute from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}: --to must be later than --from, and minutes settle ${settings.settleSeconds} s after they end`);
  if ((to - from) / 60_000 > MAX_MINUTES) fail('UsageError', `at most ${MAX_MINUTES} minutes (24 h) at a time, got ${(to - from) / 60_000}`);

  const { blue, green, why } = await sidesOf(pair, options.green, reads);
  notes.push(`green is ${green.cluster}/${green.service} (${why}), blue ${blue.cluster}/${blue.service}`);
  // A side elsewhere (its region, its role) is read there, in the operator's STS session.
  const access = { blue: sideAccess(pair.name, blue, operatorSession()), green: sideAccess(pair.name, green, operatorSession()) };
  const [blueArns, greenArns] = await Promise.all([reads.targetGroupsOf(blue.cluster, blue.service, access.blue), reads.targetGroupsOf(green.cluster, green.service, access.green)]);
  const arnsByPlace = byPlace([{ items: blueArns, access: access.blue }, { items: greenArns, access: access.green }]);
  const groups = (await Promise.all(arnsByPlace.map((p) => reads.describeTargetGroups([...new Set(p.items)], p.access)))).flat();
  const side = (s: PairConfig['services'][number], of: string[]): SideTargets => ({ cluster: s.cluster, service: s.service, targetGroups: of.map((arn) => targetGroupRef(arn, groups)) });
  const sides = { blue: side(blue, blueArns), green: side(green, greenArns) };
  const plan = metricsPlanOf(sides, config);
  if (!plan)
    fail('InvalidConfig', `nothing to judge green of pair ${pair.name} by: the two services do not both have target groups of an Application Load Balancer, and analysis.metrics is empty`);
  const queries = metricQueries(sides, plan!);
  const series = await reads.getMetricDataByPlace((['blue', 'green'] as const).map((s) => ({ queries: queriesOf(queries, s), access: access[s] })), new Date(from), new Date(to));
  const steps = expandSteps(pair.steps);
  const minutes = minutesFrom(series, from, to, () => 0, plan!).map((m) => ({ ...m, greenPercent: inferGreenPercent(steps, m.green.requests, m.blue.requests) }));
  notes.push(`each minute's green % is inferred: the smallest step (${steps.join(', ')}) at or above green's share of requests ÷ ${SHARE_NOISE} (noise); 0 when green served nothing`);
  return { case: { name: `${pair.name} ${new Date(from).toISOString()}..${new Date(to).toISOString()}`, settings, minutes }, notes };
}
