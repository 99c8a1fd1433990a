import { parseArgs } from 'node:util';
import { describeExecution, listExecutions, sendTaskFailure, sendTaskSuccess } from '../functions/lib/aws/stepfunctions.js';
import { Canary, gateCommands, type ActionResult } from '../functions/lib/canary.js';
import { summaryLine } from '../functions/lib/analysis.js';
import { configuredPairRef, wouldRollBackLine, type AnalysisFigures } from '../functions/lib/canary-state.js';
import type { CanaryConfig, PairConfig } from '../functions/lib/config.js';
import { CanaryError, fail, isCanaryError } from '../functions/lib/errors.js';
import { canaryClaims, readClaim } from '../functions/lib/pair-lock.js';
import { pairsConfig } from '../functions/lib/pairs.js';
import { claimsTableName, dashboardName, stateMachineName } from '../functions/lib/stack.js';
import { cloudwatch } from '../functions/lib/aws/cloudwatch.js';
import { dashboardUrl } from '../functions/lib/dashboard.js';
import type { Weights } from '../functions/lib/schedule.js';
import { route53Reader, route53Router } from '../functions/lib/traffic/route53/route53-router.js';
import { awsReads, formatCase, InputError, liveCase, readCases, runCase, SHARE_NOISE, type AnalyzeCase, type LiveReads } from './analyze.js';
import { formatForwarder, formatForwarderChecks, forwarderChecks, forwarderOf } from './forwarder.js';
import { formatIam, iamPolicies } from './iam.js';
import { DEFAULT_TRAFFIC_RPS, formatPlan, planOf } from './plan.js';
import { bar, clockText, LiveScreen, paint, statusLine, type CanaryView, type ScreenStream } from './render.js';

/** The region the SDK would use without AWS_REGION: the profile's (~/.aws/config), if it names one. */
const profileRegion = (): Promise<string | undefined> => cloudwatch.config.region().catch(() => undefined);

export const USAGE = `usage: npx ecs-dns-canary <command> [pair] [options]

Operates the canaries of the pairs in canary.config.ts (or the file CANARY_CONFIG names), on the
stack \`sls deploy\` made (credentials and region as the AWS CLI finds them: AWS_PROFILE,
AWS_REGION, --profile, --region).

commands:
  status [pair]     live weights (Route53), the claim, the execution, the step, the last verdict,
                    the time left in the bake; every pair when none is named
  watch <pair>      the same, live, until the canary ends
  promote <pair>    skip the remaining bakes: 100 % after the next healthy judgement, then promoted
  abort <pair>      roll back now (blue 100 / green 0)
  approve <pair>    pass the gate the canary waits at
  reject <pair>     refuse it there: roll back now
  history <pair>    the last canaries (--limit N, default 10) with outcome and reason, and what
                    observe mode would have done; --verbose adds green against blue's numbers
  plan [pair]       from the configuration alone (offline): each step's weights and earliest
                    time, the time to 100 %, the blast radius of a failure at each step, and
                    how long green needs to serve analysis.minRequests at --traffic RPS
  dashboard <pair>  the console URL of the pair's CloudWatch dashboard (written when a canary starts)
  analyze <pair>    the judge replayed: its verdict after each settled minute, then the outcome
                    (HEALTHY, UNHEALTHY at minute N, INCONCLUSIVE) with its reasons. Either
                    --input FILE (offline): a JSON array of cases (or one case)
                      { "name", "settings"?: { analysis overrides }, "minutes": [ { "greenPercent",
                        "blue": { "requests", "errors", "p99Ms" }, "green": { ... } }, ... ] },
                      settings on top of the pair's analysis configuration;
                    or --from ISO --to ISO [--green SERVICE] (live, from CloudWatch): green is
                      --green, else the running canary's green, else the service with weight 0
                      now (after a promotion that is the old blue: name green); each minute's
                      green % is inferred: the smallest configured step at or above green's
                      measured share of requests ÷ ${SHARE_NOISE} (noise; 0 when green served nothing)
  iam <pair>        for each role of the pair in another account (the zone's dnsRoleArn, a
                    service's roleArn): its trust policy (the stack's function roles that assume
                    it, --trust ARN more) and its permission policy, as JSON for aws iam
                    create-role / put-role-policy
  forwarder         for sides in another region or account (--region R [--account A]): the
                    CloudFormation template that forwards their events to the stack's bus, on
                    stdout, for aws cloudformation deploy there (the command on stderr)

options:
  --json            one JSON document on stdout (errors too: {"error", "message"});
                    analyze: one line per case
  --stage NAME      the stack's stage (default prod)
  --region NAME     AWS region        --profile NAME   AWS profile
  --by NAME         who acts, for the record (default $USER)
  --limit N         history: how many (default 10)
  -v, --verbose     history: the numbers of each run's last verdict
  --traffic RPS     plan: requests a second to the record, both sides (default ${DEFAULT_TRAFFIC_RPS})
  --input FILE      analyze: the cases to replay (offline)
  --from ISO        analyze: the first minute to read (live)   --to ISO  the end (exclusive)
  --green SERVICE   analyze: the service judged as green (live)
  --trust ARN       iam: also trust this principal (repeatable)
  --account ID      iam: the stack's account (default: the caller's, STS GetCallerIdentity);
                    forwarder: the account it is for (default: the stack's)
  --stack-account ID, --stack-region NAME
                    forwarder: the stack's account (default: the caller's) and region (default: AWS_REGION,
                    else the profile's)
  -h, --help        this text

Exit codes: 0 done (analyze: every case judged, whatever its outcome); 1 an AWS or
unexpected error; 2 refused (unknown pair, idle pair, an action that does not fit the
canary's state, bad usage or a bad --input file), with the error's name.`;

export interface Io {
  out: ScreenStream;
  err: { write(s: string): boolean };
}

export interface CliDeps {
  /** The pairs (default: canary.config.ts). */
  config?: CanaryConfig;
  /** Wall-clock time (virtual in the tests). */
  now?: () => number;
  /** watch: time between refreshes. */
  sleep?: (ms: number) => Promise<void>;
  /** analyze --from/--to: the AWS reads (default: the operator's credentials). */
  reads?: LiveReads;
}

const COMMANDS = ['status', 'watch', 'promote', 'abort', 'approve', 'reject', 'history', 'plan', 'analyze', 'iam', 'dashboard', 'forwarder'] as const;
type Command = (typeof COMMANDS)[number];
const NEEDS_PAIR: Command[] = ['watch', 'promote', 'abort', 'approve', 'reject', 'history', 'analyze', 'iam', 'dashboard'];

/** What `status` knows about one pair. */
export interface PairStatus {
  pair: string;
  recordName: string;
  blue: string;
  green: string;
  /** The live weights, as Route53 has them now (blue/green: the run's roles, or as the weights say when idle). */
  weights: Weights;
  state: 'IDLE' | 'RUNNING' | 'AWAITING_APPROVAL' | 'PROMOTING' | 'ROLLING_BACK' | 'STOPPED';
  executionArn: string | null;
  executionStatus: string | null;
  deploymentId: string | null;
  step: number;
  of: number;
  greenPercent: number;
  verdict: 'HEALTHY' | 'UNHEALTHY' | 'INCONCLUSIVE' | null;
  reasons: string[];
  /** Green against blue at the last check, in one line (pairs with analysis). */
  analysis: string | null;
  /** Worth knowing, deciding nothing: blue's own alarms in ALARM, alarms with no data. */
  notes: string[];
  /** Observe mode: what the judge would have done. */
  wouldRollBack: string | null;
  checkedAt: string | null;
  bakeSecondsLeft: number | null;
  gate: { state: string; secondsLeft: number | null; approve: string; reject: string } | null;
  stopRequested: string | null;
  promoteRequested: boolean;
}

export interface HistoryEntry {
  execution: string;
  status: string;
  outcome: 'PROMOTED' | 'ROLLED_BACK' | 'REFUSED' | 'STOPPED' | 'TIMED_OUT' | 'RUNNING';
  reason: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  /** Green against blue at the run's last check (a promoted run's output), in one line. */
  analysis: string | null;
  /** Observe mode: what the judge would have done. */
  wouldRollBack: string | null;
}

class Cli {
  readonly table: string;
  readonly canary: Canary;
  constructor(
    readonly config: CanaryConfig,
    readonly stage: string,
    readonly now: () => number,
  ) {
    this.table = claimsTableName(stage);
    this.canary = new Canary({ claims: canaryClaims(this.table), router: route53Router, signals: { succeed: sendTaskSuccess, fail: sendTaskFailure }, clock: now });
  }

  pair(name: string | undefined): PairConfig {
    const pair = this.config.pairs.find((p) => p.name === name);
    if (!pair) return fail('UnknownPair', `no pair ${name} in canary.config.ts (pairs: ${this.config.pairs.map((p) => p.name).join(', ')})`);
    return pair;
  }

  async status(pair: PairConfig): Promise<PairStatus> {
    const claim = await readClaim(pair.name, this.table);
    const roles = claim ? { blue: claim.blue, green: claim.green } : undefined;
    // Idle: blue is whichever service has the weight.
    const [a, b] = pair.services;
    const ref = configuredPairRef(pair, roles ?? { blue: a, green: b });
    let weights = await route53Reader(ref).read();
    let blue = roles?.blue ?? a;
    let green = roles?.green ?? b;
    if (!roles && weights.green > weights.blue) [blue, green, weights] = [b, a, { blue: weights.green, green: weights.blue }];
    const execution = claim ? await describeExecution(claim.executionArn).catch(() => undefined) : undefined;
    const p = claim?.progress;
    const now = this.now();
    const left = (iso: string | undefined) => (iso ? Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000)) : null);
    const state: PairStatus['state'] = !claim
      ? 'IDLE'
      : claim.phase === 'CANARY'
        ? claim.stopRequested
          ? 'ROLLING_BACK'
          : p?.gate === 'WAITING'
            ? 'AWAITING_APPROVAL'
            : 'RUNNING'
        : claim.phase;
    return {
      pair: pair.name,
      recordName: pair.recordName,
      blue: blue.service,
      green: green.service,
      weights,
      state,
      executionArn: claim?.executionArn ?? null,
      executionStatus: execution?.status ?? null,
      deploymentId: claim?.deploymentId ?? null,
      step: p?.step ?? 0,
      of: p?.of ?? claim?.steps.length ?? 0,
      greenPercent: p?.greenPercent ?? 0,
      verdict: p?.verdict ?? null,
      reasons: p?.reasons ?? [],
      analysis: p?.analysis ?? null,
      notes: p?.notes ?? [],
      wouldRollBack: p?.wouldRollBack ?? null,
      checkedAt: p?.checkedAt ?? null,
      bakeSecondsLeft: p?.verdict && p.verdict !== 'UNHEALTHY' && p.gate !== 'WAITING' ? left(p.bakeEndsAt) : null,
      gate: p?.gate && p.gate !== 'NONE' ? { state: p.gate, secondsLeft: left(p.gateEndsAt), ...gateCommands(pair.name) } : null,
      stopRequested: claim?.stopRequested ? `${claim.stopRequested.error}: ${claim.stopRequested.cause}` : null,
      promoteRequested: Boolean(claim?.promoteRequested),
    };
  }

  async history(pair: PairConfig, limit: number): Promise<HistoryEntry[]> {
    const arn = (await readClaim(pair.name, this.table))?.executionArn;
    const stateMachineArn = arn ? arn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '') : await this.stateMachineArn();
    const runs = await listExecutions(stateMachineArn, `${pair.name}--`, limit);
    return Promise.all(
      runs.map(async (run) => {
        const d = run.status === 'RUNNING' ? undefined : await describeExecution(run.executionArn);
        const last = lastAnalysis(d?.output);
        const outcome: HistoryEntry['outcome'] =
          run.status === 'SUCCEEDED'
            ? 'PROMOTED'
            : run.status === 'RUNNING'
              ? 'RUNNING'
              : run.status === 'ABORTED'
                ? 'STOPPED'
                : run.status === 'TIMED_OUT'
                  ? 'TIMED_OUT'
                  : d?.error === 'CanaryRolledBack' || d?.error === 'RollbackFailed'
                    ? 'ROLLED_BACK'
                    : 'REFUSED';
        return {
          execution: run.name,
          status: run.status,
          outcome,
          reason: d ? [d.error, d.cause].filter(Boolean).join(': ') || null : null,
          startedAt: run.startDate?.toISOString() ?? null,
          stoppedAt: run.stopDate?.toISOString() ?? null,
          analysis: last ? summaryLine(last) : null,
          wouldRollBack: last?.wouldRollBack ? wouldRollBackLine(last.wouldRollBack) : null,
        };
      }),
    );
  }

  /** The stack's state machine, by its name, in the caller's account and region. */
  private async stateMachineArn(): Promise<string> {
    const { SFNClient, ListStateMachinesCommand } = await import('@aws-sdk/client-sfn');
    const name = stateMachineName(this.stage);
    let nextToken: string | undefined;
    do {
      const out = await new SFNClient({}).send(new ListStateMachinesCommand({ nextToken }));
      const found = out.stateMachines?.find((m) => m.name === name);
      if (found) return found.stateMachineArn!;
      nextToken = out.nextToken;
    } while (nextToken);
    return fail('UnknownPair', `no state machine ${name} in this account and region: is the stack deployed (stage ${this.stage})?`);
  }
}

/** The last judgement's analysis in a promoted run's output (the state the run ended with). */
function lastAnalysis(output: string | undefined): AnalysisFigures | undefined {
  if (!output) return undefined;
  try {
    return (JSON.parse(output) as { judgement?: { analysis?: AnalysisFigures } }).judgement?.analysis;
  } catch {
    return undefined;
  }
}

const mmss = (s: number) => clockText(s * 1000).slice(1);

export function formatStatus(s: PairStatus, color: boolean): string[] {
  const tone = s.state === 'ROLLING_BACK' || s.verdict === 'UNHEALTHY' ? 'unhealthy' : s.state === 'IDLE' ? 'dim' : 'healthy';
  const lines = [`${paint(s.pair, 'plain', color)}  ${s.recordName}  ${paint(s.state.replace('_', ' '), tone, color)}`];
  lines.push(`  DNS        blue ${s.blue} ${s.weights.blue} / green ${s.green} ${s.weights.green}  ${bar(s.weights.green, 10)}`);
  if (s.state === 'IDLE') return [...lines, '  no canary is running'];
  lines.push(`  execution  ${s.executionArn?.split(':').at(-1)} (${s.executionStatus ?? 'unknown'})`);
  lines.push(`  step       ${s.step} of ${s.of}, green ${s.greenPercent} %${s.bakeSecondsLeft !== null ? `, bake ${mmss(s.bakeSecondsLeft)} left` : ''}`);
  if (s.verdict) lines.push(`  verdict    ${paint(s.verdict, s.verdict === 'HEALTHY' ? 'healthy' : s.verdict === 'INCONCLUSIVE' ? 'dim' : 'unhealthy', color)} at ${s.checkedAt}${s.reasons.length ? `: ${s.reasons.join('; ')}` : ''}`);
  if (s.analysis) lines.push(`  numbers    ${s.analysis}`);
  for (const note of s.notes) lines.push(`  note       ${note}`);
  if (s.wouldRollBack) lines.push(`  observe    ${s.wouldRollBack}`);
  if (s.gate) lines.push(`  gate       ${s.gate.state}${s.gate.secondsLeft !== null && s.gate.state === 'WAITING' ? ` (${mmss(s.gate.secondsLeft)} left)` : ''}: ${s.gate.approve}  |  ${s.gate.reject}`);
  if (s.stopRequested) lines.push(`  stopping   ${s.stopRequested}`);
  if (s.promoteRequested) lines.push('  promotion  asked: no more bakes');
  return lines;
}

const viewOf = (s: PairStatus, nowMs: number, elapsedMs?: number): CanaryView => ({
  pair: s.pair,
  state: s.state === 'STOPPED' ? 'ROLLING_BACK' : s.state,
  step: s.step,
  of: s.of,
  greenPercent: s.greenPercent,
  stateName: s.gate?.state === 'WAITING' ? 'waiting for approval' : undefined,
  ...(s.verdict && s.verdict !== 'INCONCLUSIVE' ? { verdict: s.verdict } : {}),
  ...(s.bakeSecondsLeft !== null ? { bakeEndsAtMs: nowMs + s.bakeSecondsLeft * 1000 } : {}),
  nowMs,
  ...(elapsedMs !== undefined ? { elapsedMs } : {}),
});

/** Runs one command; returns the exit code. */
export async function run(argv: string[], io: Io = { out: process.stdout, err: process.stderr }, deps: CliDeps = {}): Promise<number> {
  let json = false;
  const say = (line: string) => io.out.write(`${line}\n`);
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: 'boolean', default: false },
          stage: { type: 'string', default: 'prod' },
          region: { type: 'string' },
          profile: { type: 'string' },
          by: { type: 'string' },
          limit: { type: 'string', default: '10' },
          traffic: { type: 'string' },
          input: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          green: { type: 'string' },
          trust: { type: 'string', multiple: true },
          account: { type: 'string' },
          'stack-account': { type: 'string' },
          'stack-region': { type: 'string' },
          verbose: { type: 'boolean', short: 'v', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
    } catch (e) {
      return fail('UsageError', (e as Error).message);
    }
    const { values, positionals } = parsed;
    json = values.json;
    if (values.help || positionals.length === 0) {
      io.out.write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    const [command, name, ...extra] = positionals as [Command, string | undefined, ...string[]];
    if (!COMMANDS.includes(command)) fail('UsageError', `unknown command ${command} (${COMMANDS.join(', ')})`);
    if (extra.length) fail('UsageError', `${command} takes at most one pair, got ${[name, ...extra].join(' ')}`);
    if (NEEDS_PAIR.includes(command) && !name) fail('UsageError', `${command} needs a pair: npx ecs-dns-canary ${command} <pair>`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail('UsageError', `--limit must be a whole number from 1 to 1000, got ${values.limit}`);
    const traffic = values.traffic === undefined ? DEFAULT_TRAFFIC_RPS : Number(values.traffic);
    if (values.traffic !== undefined && (values.traffic.trim() === '' || !Number.isFinite(traffic) || traffic < 0))
      fail('UsageError', `--traffic must be a number of requests a second, at least 0, got ${values.traffic}`);
    // forwarder: --region is the place it is for; the stack's is --stack-region, else AWS_REGION as set
    const stackRegion = values['stack-region'] ?? process.env.AWS_REGION;
    if (values.region) process.env.AWS_REGION = values.region;
    if (values.profile) process.env.AWS_PROFILE = values.profile;

    const config = deps.config ?? pairsConfig();
    const now = deps.now ?? Date.now;
    const cli = new Cli(config, values.stage, now);
    const pairs = name ? [cli.pair(name)] : config.pairs;
    const by = values.by ?? process.env.USER ?? 'operator';
    const color = Boolean(io.out.isTTY) && !json && !process.env.NO_COLOR;

    switch (command) {
      case 'plan': {
        const plans = pairs.map((p) => planOf(p, undefined, { trafficRps: traffic }));
        if (json) say(JSON.stringify(name ? plans[0] : { plans }));
        else say(plans.map((p) => formatPlan(p).join('\n')).join('\n\n'));
        return 0;
      }
      case 'iam': {
        const options = { stage: values.stage, region: values.region ?? process.env.AWS_REGION, account: values.account, trust: values.trust ?? [] };
        const { output, roles } = await iamPolicies(config, pairs[0]!, options);
        say(json ? JSON.stringify(output) : formatIam(pairs[0]!, roles, options).join('\n'));
        return 0;
      }
      case 'forwarder': {
        if (name) fail('UsageError', `forwarder takes no pair: npx ecs-dns-canary forwarder --region R [--account A]`);
        const options = { stage: values.stage, region: values.region, account: values.account, stackAccount: values['stack-account'], stackRegion: stackRegion ?? (await profileRegion()) };
        const { template, place, stack } = await forwarderOf(config, options);
        say(json ? JSON.stringify(template) : JSON.stringify(template, null, 2));
        if (!json) io.err.write(`${formatForwarder(place, stack, values.stage, template).join('\n')}\n`);
        return 0;
      }
      case 'analyze': {
        const pair = pairs[0]!;
        const live = values.from !== undefined || values.to !== undefined || values.green !== undefined;
        if (values.input !== undefined && live) fail('UsageError', 'analyze takes --input FILE (offline), or --from ISO --to ISO [--green SERVICE] (live), not both');
        let runs: { case: AnalyzeCase; notes: string[] }[];
        if (values.input !== undefined) runs = readCases(values.input, pair).map((c) => ({ case: c, notes: [] }));
        else if (values.from !== undefined && values.to !== undefined)
          runs = [await liveCase(pair, { from: Date.parse(values.from), to: Date.parse(values.to), green: values.green, now: now() }, deps.reads ?? awsReads(cli.table))];
        else return fail('UsageError', `analyze needs --input FILE (offline) or --from ISO --to ISO (live): npx ecs-dns-canary analyze ${pair.name} --input cases.json`);
        runs.forEach((r, i) => {
          const { result, backtest } = runCase(r.case);
          if (json) say(JSON.stringify(result));
          else say(`${i ? '\n' : ''}${formatCase(r.case, backtest, r.notes).join('\n')}`);
        });
        return 0;
      }
      case 'status': {
        const statuses = await Promise.all(pairs.map((p) => cli.status(p)));
        const forwarders = await forwarderChecks({ pairs }, values.stage, process.env.AWS_REGION ?? (await profileRegion()));
        const also = forwarders.length ? { forwarders } : {};
        if (json) say(JSON.stringify(name ? { ...statuses[0], ...also } : { pairs: statuses, ...also }));
        else say([...statuses.map((s) => formatStatus(s, color).join('\n')), ...(forwarders.length ? [formatForwarderChecks(forwarders).join('\n')] : [])].join('\n\n'));
        return 0;
      }
      case 'history': {
        const canaries = await cli.history(pairs[0]!, limit);
        if (json) say(JSON.stringify({ pair: name, canaries }));
        else if (canaries.length === 0) say(`no canary has run on ${name} yet`);
        else
          for (const c of canaries)
            say(
              `${c.startedAt ?? '?'}  ${paint(c.outcome.padEnd(11), c.outcome === 'PROMOTED' ? 'promoted' : c.outcome === 'RUNNING' ? 'dim' : 'rolledBack', color)} ${c.execution}${c.reason ? `\n    ${c.reason}` : ''}${
                c.wouldRollBack ? `\n    ${c.wouldRollBack}` : ''
              }${values.verbose && c.analysis ? `\n    ${c.analysis}` : ''}`,
            );
        return 0;
      }
      case 'dashboard': {
        const pair = pairs[0]!;
        if (!pair.dashboard) fail('DashboardOff', `pair ${pair.name} has dashboard: false in canary.config.ts: it has no dashboard`);
        const dashboard = dashboardName(values.stage, pair.name);
        const url = dashboardUrl(await cloudwatch.config.region(), dashboard);
        say(json ? JSON.stringify({ pair: pair.name, dashboard, url }) : url);
        return 0;
      }
      case 'watch':
        return await watch(cli, pairs[0]!, io, json, color, deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))));
      default: {
        const pair = pairs[0]!.name;
        const act: Record<'promote' | 'abort' | 'approve' | 'reject', () => Promise<ActionResult>> = {
          promote: () => cli.canary.requestPromotion(pair, by),
          abort: () => cli.canary.abort(pair, by),
          approve: () => cli.canary.approve(pair, by),
          reject: () => cli.canary.reject(pair, by),
        };
        const result = await act[command as keyof typeof act]();
        if (json) say(JSON.stringify(result));
        else say(`${pair}: ${result.message}${result.woken ? '' : ' (the run sees it at its next check)'}`);
        return 0;
      }
    }
  } catch (e) {
    const refused = e instanceof CanaryError && isCanaryError(e);
    const error = e as Error;
    if (error.message === 'Region is missing') error.message = 'no AWS region: set AWS_REGION or pass --region';
    if (json) io.out.write(`${JSON.stringify({ error: error.name, message: error.message })}\n`);
    io.err.write(`ecs-dns-canary: ${error.name}: ${error.message}\n`);
    if (refused && error.name === 'UsageError' && !(e instanceof InputError)) io.err.write(`\n${USAGE}\n`);
    return refused ? 2 : 1;
  }
}

/** Redraws the pair's status line until the canary ends; each change of step or verdict scrolls as a line. */
async function watch(cli: Cli, pair: PairConfig, io: Io, json: boolean, color: boolean, sleep: (ms: number) => Promise<void>): Promise<number> {
  const first = await cli.status(pair);
  if (first.state === 'IDLE') fail('PairIdle', `no canary is running on pair ${pair.name}; \`npx ecs-dns-canary history ${pair.name}\` shows the last ones`);
  const screen = new LiveScreen(io.out, { live: Boolean(io.out.isTTY) && !json });
  const started = cli.now();
  let last = '';
  let s = first;
  let executionArn = first.executionArn;
  for (;;) {
    const key = `${s.state} ${s.step} ${s.verdict} ${s.gate?.state}`;
    if (key !== last) {
      if (json) io.out.write(`${JSON.stringify(s)}\n`);
      else screen.line(`${clockText(cli.now() - started)}  ${s.state === 'IDLE' ? 'ended' : `${s.state.replace('_', ' ').toLowerCase()}: step ${s.step}/${s.of}, green ${s.greenPercent} %${s.verdict ? `, ${s.verdict.toLowerCase()}` : ''}${s.gate?.state === 'WAITING' ? ` (gate: ${s.gate.approve})` : ''}`}`);
      last = key;
    }
    if (s.state === 'IDLE') break;
    screen.status(statusLine(viewOf(s, cli.now(), cli.now() - started), Math.max(20, (io.out.columns ?? 80) - 1), color));
    await sleep(2000);
    s = await cli.status(pair);
    executionArn = s.executionArn ?? executionArn;
  }
  screen.done();
  const [end] = executionArn ? await cli.history(pair, 1) : [];
  const line = end ? `${end.outcome}${end.reason ? `: ${end.reason}` : ''}` : 'ended';
  if (json) io.out.write(`${JSON.stringify({ pair: pair.name, ended: end ?? null })}\n`);
  else io.out.write(`${paint(line, end?.outcome === 'PROMOTED' ? 'promoted' : 'rolledBack', color)}\n`);
  return 0;
}
