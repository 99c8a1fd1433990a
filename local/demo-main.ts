import { parseArgs } from 'node:util';
import { clockText, LiveScreen, paint, statusLine, timeline, wrapWords, type CanaryView } from '../cli/render.js';
import userConfig from '../canary.config.js';
import { accountOfRole, configProblems, parseConfig } from '../functions/lib/config.js';
import example, { CROSS_ACCOUNT } from './example.config.js';
import type { EventLog, ExecutionResult } from './step-functions.js';
import { endpointOf, targetGroupArn } from './local-canary.js';
import { createWorld, type World } from './world.js';

export const USAGE = `usage: npm run demo -- [options]

Runs one canary of the example pair (shop-web, local/example.config.ts) on the in-process
simulated AWS account, in virtual time: a new task definition is pushed to the idle service,
ECS finishes the deployment, and the real state machine shifts the Route53 weights step by
step. Every function runs with the environment and the IAM role the packaged stack gives it.
Your own pairs in canary.config.ts are checked first (exit 2 if they are invalid).

options:
  --fail-at PERCENT       an alarm goes to ALARM during the step that reaches PERCENT
  --unhealthy-at PERCENT  green's ECS service loses tasks during the step that reaches PERCENT
  --targets-unhealthy-at PERCENT
                          a target in green's target group fails its health checks during that step
  --smoke-fail            green's endpoint answers 503 to the smoke test: green is refused, DNS untouched
  --hook-fail pre|post    the pre-traffic hook fails (green refused) or the post-traffic hook fails (rollback)
  --idle-after-promotion  after the promotion the old side is scaled to 0 tasks, 120 s later
  --approve-at PERCENT    a manual gate at that step; the scripted operator approves 60 s after
                          AwaitingApproval (npx ecs-dns-canary approve shop-web)
  --reject-at PERCENT     a manual gate at that step; the scripted operator rejects it 60 s after
  --polling-only          EventBridge loses every alarm and ECS event: only the judge's polls see them
  --green-errors PCT      green fails PCT % of its requests (blue stays at 0.1 %)
  --green-latency MS      green's p99 response time is MS (blue's is 120 ms)
  --traffic RPS           the pair's clients send RPS requests a second (default 50)
  --observe               analysis in observe mode: verdicts recorded, WouldRollBack sent, nothing acted on
  --alarms-only           no comparison of green with blue (analysis: false): the alarms alone judge
                          (the example's 5xx-rate alarm follows the pair-wide 5xx rate, > 2 % over a minute)
  --cross-account         the example across a simulated organization: its zone in account 222222222222
                          (through a DNS role), green in eu-central-1 of account 444455556666 (through
                          its role, its events through the forwarder there); with --fail-at, green's own
                          alarm fires there and its event crosses through the forwarder
  --no-latency            without AWS's latencies (Lambda cold starts, state transitions, EventBridge
                          delivery, Route53 INSYNC as a distribution: local/sim/latency.ts), which are on
  --json                  print one JSON summary as the last line
  --speed N|max           virtual seconds per wall second (default: 60 on a terminal, max otherwise)
  --logs                  also print the functions' structured logs
  -h, --help              this text
`;

export interface DemoSummary {
  outcome: 'PROMOTED' | 'ROLLED_BACK' | 'REFUSED';
  reason: string | null;
  weights: { blue: number; green: number };
  steps: number[];
  virtualSeconds: number;
  wallSeconds: number;
  route53Changes: number;
  transitions: number;
  /** The old live side's desired task count at the end. */
  idleDesiredCount: number;
  /** From the scripted alarm's state change to the rollback's change batch, virtual seconds; null when no alarm fired. */
  alarmToRollbackSeconds: number | null;
  /** Requests green served during the run; null when it never got traffic. */
  greenRequests: number | null;
  /** Failed requests green served before DNS moved back (the rollback's change batch, or the end). */
  greenFailedRequests: number | null;
  /** From green's first failed request to the rollback's change batch, virtual seconds; null without both. */
  detectionSeconds: number | null;
  /** Where each part ran: the stack, the zone (its Route53), blue and green. */
  accounts: { stack: string; zone: string; blue: string; green: string };
  regions: { stack: string; blue: string; green: string };
}

class UsageError extends Error {}

interface Options {
  failAt?: number;
  unhealthyAt?: number;
  targetsUnhealthyAt?: number;
  smokeFail: boolean;
  hookFail?: 'pre' | 'post';
  idleAfterPromotion: boolean;
  approveAt?: number;
  rejectAt?: number;
  pollingOnly: boolean;
  greenErrors?: number;
  greenLatency?: number;
  traffic?: number;
  observe: boolean;
  alarmsOnly: boolean;
  crossAccount: boolean;
  noLatency: boolean;
  json: boolean;
  speed?: number;
  logs: boolean;
}

function parseOptions(argv: string[], steps: number[], tty: boolean): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'fail-at': { type: 'string' },
        'unhealthy-at': { type: 'string' },
        'targets-unhealthy-at': { type: 'string' },
        'smoke-fail': { type: 'boolean', default: false },
        'hook-fail': { type: 'string' },
        'idle-after-promotion': { type: 'boolean', default: false },
        'approve-at': { type: 'string' },
        'reject-at': { type: 'string' },
        'polling-only': { type: 'boolean', default: false },
        'green-errors': { type: 'string' },
        'green-latency': { type: 'string' },
        traffic: { type: 'string' },
        observe: { type: 'boolean', default: false },
        'alarms-only': { type: 'boolean', default: false },
        'cross-account': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'no-latency': { type: 'boolean', default: false },
        speed: { type: 'string' },
        logs: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const percent = (flag: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const p = Number(raw.replace(/%$/, ''));
    if (!steps.includes(p)) throw new UsageError(`--${flag} must be one of the example pair's steps (${steps.join(', ')}), got ${raw}`);
    return p;
  };
  let speed: number | undefined = tty && !values.json ? 60 : undefined;
  if (values.speed !== undefined) {
    if (values.speed === 'max') speed = undefined;
    else if (/^\d+(\.\d+)?$/.test(values.speed) && Number(values.speed) > 0) speed = Number(values.speed);
    else throw new UsageError(`--speed must be a positive number or max, got ${values.speed}`);
  }
  const gate = (flag: string, raw: string | undefined) => {
    const p = percent(flag, raw);
    if (p === 100) throw new UsageError(`--${flag} must be a step before the last: a gate holds a step's weights before the next shift`);
    return p;
  };
  if (values['approve-at'] !== undefined && values['reject-at'] !== undefined) throw new UsageError('--approve-at and --reject-at: one gate at a time');
  const hookFail = values['hook-fail'];
  if (hookFail !== undefined && hookFail !== 'pre' && hookFail !== 'post') throw new UsageError(`--hook-fail must be pre or post, got ${hookFail}`);
  const number = (flag: string, raw: string | undefined, min: number, max: number) => {
    if (raw === undefined) return undefined;
    const n = Number(raw.replace(/%$/, ''));
    if (!/^\d+(\.\d+)?%?$/.test(raw) || n < min || n > max) throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got ${raw}`);
    return n;
  };
  if (values.observe && values['alarms-only']) throw new UsageError('--observe and --alarms-only: observe mode needs the comparison that --alarms-only turns off');
  return {
    greenErrors: number('green-errors', values['green-errors'], 0, 100),
    greenLatency: number('green-latency', values['green-latency'], 1, 60_000),
    traffic: number('traffic', values.traffic, 0.01, 100_000),
    observe: values.observe,
    alarmsOnly: values['alarms-only'],
    crossAccount: values['cross-account'],
    noLatency: values['no-latency'],
    failAt: percent('fail-at', values['fail-at']),
    unhealthyAt: percent('unhealthy-at', values['unhealthy-at']),
    targetsUnhealthyAt: percent('targets-unhealthy-at', values['targets-unhealthy-at']),
    smokeFail: values['smoke-fail'],
    hookFail,
    idleAfterPromotion: values['idle-after-promotion'],
    approveAt: gate('approve-at', values['approve-at']),
    rejectAt: gate('reject-at', values['reject-at']),
    pollingOnly: values['polling-only'],
    json: values.json,
    speed,
    logs: values.logs,
  };
}

/** Green's weight over virtual time, as the CLI draws it (cli/render.ts). */
export { timeline };

export async function main(argv: string[], out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }): Promise<number> {
  const problems = configProblems(userConfig);
  if (problems.length > 0) {
    process.stderr.write(`demo: canary.config.ts: invalid canary configuration:\n  ${problems.join('\n  ')}\n`);
    return 2;
  }
  const config = parseConfig(example);
  const pair = config.pairs[0]!;
  const steps = Array.isArray(pair.steps) ? pair.steps : [];
  let options: Options | 'help';
  try {
    options = parseOptions(argv, steps.length ? steps : [10, 25, 50, 100], Boolean(out.isTTY));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`demo: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    out.write(USAGE);
    return 0;
  }
  const opts = options;
  const live = Boolean(out.isTTY) && !opts.json;
  const color = live && !process.env.NO_COLOR;
  const display = new LiveScreen(out, { live });
  const wallStart = performance.now();

  // The example pair, seeded (blue live, alias records, two alarms), virtual time, the stack in process.
  let world!: World;
  const t = () => clockText(world.clock.elapsedMs());
  // Each line of the log wraps on word boundaries at the terminal's width, its continuations under its text.
  const say = (text: string) => display.line(wrapWords(`${t()}  ${text}`, (out as { columns?: number }).columns ?? 80, ' '.repeat(t().length + 2)));
  const where: Omit<CanaryView, 'nowMs' | 'elapsedMs'> & { bakeEndsAtMs?: number } = { pair: pair.name, state: 'STARTING', step: 0, of: 0, greenPercent: 0, stateName: 'ECS deployment' };
  const refresh = () => display.status(statusLine({ ...where, nowMs: Date.now(), elapsedMs: world.clock.elapsedMs() }, Math.max(20, ((out as { columns?: number }).columns ?? 80) - 1), color));

  const onEvent = (e: EventLog) => {
    const name = e.state?.name ?? '';
    const output = e.state?.output as any;
    if (e.type === 'StateEntered') {
      where.stateName = name;
      if (name === 'Roll back') where.state = 'ROLLING_BACK';
      if (name === 'Promote') where.state = 'PROMOTING';
      if (name === 'Wait for DNS TTL') say(`  waiting ${(e.state?.input as any)?.plan?.dnsWaitSeconds} s for clients' DNS caches (TTL)`);
    } else if (e.type === 'StateRetried') say(`  ${name}: retrying`);
    else if (e.type === 'StateFailed')
      say(e.state?.type === 'Fail' ? `Execution ends FAILED with ${e.Error}` : `  ${name} failed: ${e.Error}: ${String(e.Cause ?? '').slice(0, 200)}`);
    else if (e.type === 'StateExited') {
      if (name === 'Preflight') {
        Object.assign(where, { of: output.status.of, state: 'RUNNING' });
        say(`Preflight passed: blue ${output.plan.blue.service} ${output.status.weights.blue} / green ${output.plan.green.service} ${output.status.weights.green}; steps ${output.plan.steps.join(' → ')} %; DNS wait ${output.plan.dnsWaitSeconds} s, bake ${output.plan.bakeSeconds} s, checks every ${output.plan.pollSeconds} s`);
      } else if (name === 'Shift traffic') {
        Object.assign(where, { step: output.status.step, greenPercent: output.status.greenPercent, verdict: undefined, bakeEndsAtMs: undefined });
        say(`Step ${output.status.step}/${output.status.of}: shift traffic → blue ${output.status.weights.blue} / green ${output.status.weights.green}`);
      } else if (name === 'Wait for Route53 INSYNC') say(`  Route53 change INSYNC`);
      else if (name === 'Judge green') {
        const j = output.judgement;
        Object.assign(where, { verdict: j.verdict, bakeEndsAtMs: j.bakeComplete ? undefined : Date.parse(j.bakeEndsAt), state: j.gate === 'WAITING' ? 'AWAITING_APPROVAL' : 'RUNNING' });
        if (j.gate === 'WAITING' && j.checks > 0 && !awaiting) ((awaiting = true), say(`  green baked and is healthy: waiting for approval (npx ecs-dns-canary approve ${pair.name})`));
        if (j.gate === 'APPROVED') awaiting = false;
        if (j.analysis?.wouldRollBack && !wouldRollBackSaid)
          ((wouldRollBackSaid = true), say(paint(`  observe mode: would have rolled back at step ${j.analysis.wouldRollBack.step}: ${j.analysis.wouldRollBack.reason}`, 'unhealthy', color)));
        if (j.verdict === 'UNHEALTHY') say(paint(`  judge green: UNHEALTHY: ${j.reasons.join('; ')}`, 'unhealthy', color));
        else if (j.verdict === 'INCONCLUSIVE') say(`  judge green: no verdict yet (check ${j.checks}): ${j.reasons.join('; ')}`);
        else say(`  judge green: healthy (check ${j.checks}${j.bakeComplete ? ', bake complete' : `, bake ends ${clockText(Date.parse(j.bakeEndsAt) - world.clock.startedAt)}`})`);
      } else if (name === 'Scale up green' && output.scaleUp?.scaled) say(`Scaled up green: ${output.scaleUp.service} to ${output.scaleUp.desiredCount} tasks, steady`);
      else if (name === 'Smoke test green' && output.smokeTest?.url) say(`Smoke test passed: ${output.smokeTest.url}, ${output.smokeTest.checks} checks`);
      else if ((name === 'Pre-traffic hook' || name === 'Post-traffic hook') && output[name === 'Pre-traffic hook' ? 'preTrafficHook' : 'postTrafficHook']?.ran) say(`${name} passed`);
      else if (name === 'Promote') say(`Promoted: ${output.outcome.live.service} is live; ${output.outcome.idle.service} is idle at weight 0 for the next deployment`);
      else if (name === 'Scale down the old side' && output.scaleDown?.scaled) say(`Scaled down the old side: ${output.scaleDown.service} to ${output.scaleDown.desiredCount} tasks`);
      else if (name === 'Roll back') ((where.state = 'ROLLED_BACK'), say(paint(`Rolled back to blue 100 / green 0: ${output.rollback.reason}`, 'rolledBack', color)));
      else if (name === 'Refuse') say(`Refused before any traffic moved: ${output.refusal.cause}`);
    }
    refresh();
  };
  // The flags that need configuration the example pair does not have add it for this run.
  const [blueConfig, greenConfig] = pair.services;
  const hookArn = (which: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${pair.name}-${which}-traffic`;
  const overrides = {
    ...(opts.smokeFail ? { smokeTest: { url: { [blueConfig.service]: endpointOf(blueConfig.service), [greenConfig.service]: endpointOf(greenConfig.service) }, successes: 3, intervalSeconds: 5, timeoutSeconds: 60 } } : {}),
    ...(opts.hookFail ? { hooks: { [`${opts.hookFail}Traffic`]: hookArn(opts.hookFail), timeoutSeconds: 60 } } : {}),
    ...(opts.idleAfterPromotion ? { idleAfterPromotion: { desiredCount: 0, afterSeconds: 120 } } : {}),
    ...(opts.approveAt !== undefined || opts.rejectAt !== undefined ? { approval: { atPercent: [(opts.approveAt ?? opts.rejectAt)!], timeoutSeconds: 600, onTimeout: 'rollback' as const } } : {}),
    ...(opts.alarmsOnly ? { analysis: false as const } : opts.observe ? { analysis: { mode: 'observe' as const } } : {}),
    ...(opts.crossAccount ? CROSS_ACCOUNT : {}),
  };
  let awaiting = false;
  let wouldRollBackSaid = false;
  world = createWorld({ pair: overrides, latency: !opts.noLatency, start: { onEvent, loseSignalEvents: opts.pollingOnly } });
  const { sim, clock, canary } = world;
  // The clock ticks during bakes and waits: redraw every virtual 5 s (a virtual timer: the world's clock is installed).
  const ticking = live ? setInterval(refresh, 5_000) : undefined;
  const [blue, green] = world.pair.services;
  const [bluePlace, greenPlace] = [sim.placeOf(blue), sim.placeOf(green)];
  const route53 = sim.route53Of(pair.hostedZoneId);
  if (opts.smokeFail) sim.http.serve(endpointOf(green.service), { status: 503, body: 'no healthy upstream' });
  if (opts.hookFail)
    sim.lambda.define(hookArn(opts.hookFail), () => {
      say(`  (scripted) the ${opts.hookFail}-traffic hook fails`);
      throw Object.assign(new Error(opts.hookFail === 'pre' ? 'database migration 42 not applied' : 'synthetic checkout returned 500'), { name: 'HookError' });
    });

  // Traffic: the rate, and how green answers (blue keeps the model's 0.1 % and its latency).
  const greenTargetGroup = targetGroupArn(green.service, greenPlace);
  if (opts.traffic !== undefined) sim.traffic.setRate(pair.hostedZoneId, pair.recordName, pair.recordType, opts.traffic);
  if (opts.greenErrors !== undefined) sim.traffic.setBehaviour(greenTargetGroup, { errorRate: opts.greenErrors / 100 });
  if (opts.greenLatency !== undefined) sim.traffic.setBehaviour(greenTargetGroup, { latencyMs: { median: opts.greenLatency / 3, p99: opts.greenLatency } });
  // The example's 5xx-rate alarm follows the pair-wide 5xx rate (> 2 % over the last minute, as
  // the README's example alarm): what a pair-wide alarm sees of green at its weight.
  const rateAlarm = pair.alarms[0];
  let rateAlarmAt: number | undefined;
  const watchRate = rateAlarm
    ? setInterval(() => {
        const now = Date.now();
        const sides = [greenTargetGroup, targetGroupArn(blue.service, bluePlace)];
        const requests = sides.reduce((n, tg) => n + sim.traffic.requests(tg, now - 60_000, now), 0);
        const errors = sides.reduce((n, tg) => n + sim.traffic.errors(tg, now - 60_000, now), 0);
        if (requests > 0 && errors / requests > 0.02 && rateAlarmAt === undefined && opts.failAt === undefined) {
          rateAlarmAt = now;
          sim.cloudwatch.setState(rateAlarm, 'ALARM', `Threshold Crossed: 5xx rate ${((100 * errors) / requests).toFixed(1)} % > 2 % over 1 minute`);
          say(paint(`  alarm ${rateAlarm} → ALARM (pair-wide 5xx rate ${((100 * errors) / requests).toFixed(1)} %)`, 'unhealthy', color));
        }
      }, 60_000)
    : undefined;

  // Failures scripted by the flags: they start a little after the shift that reaches the step.
  const greenId = green.setIdentifier;
  // Across accounts, green's own alarm fires where green runs: its event reaches the stack through the forwarder there.
  const alarm = opts.crossAccount ? green.alarms[0] : pair.alarms[0];
  const alarms = opts.crossAccount ? greenPlace.cloudwatch : sim.cloudwatch;
  let alarmAt: number | undefined;
  if (opts.failAt !== undefined && alarm)
    world.whenGreenReaches(
      opts.failAt,
      () => (
        (alarmAt = Date.now()),
        alarms.setState(alarm, 'ALARM', 'Threshold Crossed: 5xx rate 7.9 % > 2 % for 2 datapoints'),
        say(paint(`  (scripted) alarm ${alarm} → ALARM${opts.crossAccount ? ` in ${greenPlace.region} of account ${greenPlace.account}` : ''}`, 'unhealthy', color))
      ),
      90_000,
    );
  // The scripted operator answers the gate a minute after AwaitingApproval, with the CLI.
  const gateAnswer = opts.approveAt !== undefined ? 'approve' : opts.rejectAt !== undefined ? 'reject' : undefined;
  if (gateAnswer) {
    const watcher = setInterval(() => {
      if (!sim.events.some((e) => e.detailType === 'AwaitingApproval')) return;
      clearInterval(watcher);
      setTimeout(() => {
        say(`  (scripted operator) npx ecs-dns-canary ${gateAnswer} ${pair.name}`);
        void world.operator(gateAnswer, pair.name, '--by', 'demo-operator').then((r) => say(`  ${(r.out || r.err).trim()}`));
      }, 60_000);
    }, 1_000);
  }
  if (opts.unhealthyAt !== undefined)
    world.whenGreenReaches(opts.unhealthyAt, () => (greenPlace.ecs.setRunningCount(green.cluster, green.service, 1), say(`  (scripted) ${green.service} loses tasks: 1 of 3 running`)), 90_000);
  if (opts.targetsUnhealthyAt !== undefined)
    world.whenGreenReaches(opts.targetsUnhealthyAt, () => (greenPlace.elbv2.setUnhealthy(greenTargetGroup, 1), say(`  (scripted) a target of ${green.service}'s target group fails its health checks`)), 90_000);

  let result: ExecutionResult;
  try {
    const revision = 2;
    world.deployGreen(revision);
    say(`Pushed task definition ${green.service}:${revision} to the idle service ${green.cluster}/${green.service} (live: ${blue.service})`);
    refresh();
    const via = opts.crossAccount ? ` in ${greenPlace.region} of account ${greenPlace.account} → its forwarder → the stack's bus` : '';
    const started = new Promise<void>((resolve) => sim.onStartExecution((x) => (say(`ECS deployment COMPLETED${via} → EventBridge rule → startCanary → execution ${x.name}`), resolve())));
    await clock.run(started, { speed: opts.speed });
    const canaryStart = clock.elapsedMs();
    const results = await clock.run(canary.settled(), { speed: opts.speed });
    result = results[0]!;
    clearInterval(ticking);
    clearInterval(watchRate);
    display.done();

    const weights = route53.weights(pair.hostedZoneId, pair.recordName, pair.recordType);
    const final = { blue: weights[blue.setIdentifier]!, green: weights[greenId]! };
    const changes = route53.applied.slice(1).map((c) => ({
      atMs: c.at - clock.startedAt,
      green: c.changes.find((x) => x.ResourceRecordSet?.SetIdentifier === greenId)?.ResourceRecordSet?.Weight ?? 0,
    }));
    const refused = result.events.some((e) => e.type === 'StateEntered' && e.state?.name === 'Refuse');
    const summary: DemoSummary = {
      outcome: result.status === 'SUCCEEDED' ? 'PROMOTED' : refused ? 'REFUSED' : 'ROLLED_BACK',
      reason: result.status === 'SUCCEEDED' ? null : (result.cause ?? result.error ?? null),
      weights: final,
      steps: changes.map((c) => c.green).filter((g) => g > 0),
      virtualSeconds: Math.round(clock.elapsedMs() / 1000),
      wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10,
      route53Changes: sim.count('route53', 'ChangeResourceRecordSets'),
      transitions: result.transitions,
      idleDesiredCount: bluePlace.ecs.service(blue.cluster, blue.service).desiredCount,
      alarmToRollbackSeconds: null,
      greenRequests: null,
      greenFailedRequests: null,
      detectionSeconds: null,
      accounts: { stack: sim.home.account, zone: world.pair.dnsRoleArn ? accountOfRole(world.pair.dnsRoleArn) : sim.home.account, blue: bluePlace.account, green: greenPlace.account },
      regions: { stack: sim.home.region, blue: bluePlace.region, green: greenPlace.region },
    };
    const firstShiftAt = route53.applied[1]?.at;
    const rollbackChange = summary.outcome === 'ROLLED_BACK' ? changes.filter((c) => c.green === 0).at(-1) : undefined;
    const movedBackAt = rollbackChange ? rollbackChange.atMs + clock.startedAt : Date.now();
    if (firstShiftAt !== undefined) {
      const served = sim.traffic.requests(greenTargetGroup, firstShiftAt, Date.now());
      summary.greenRequests = served > 0 ? served : null;
      if (served > 0) summary.greenFailedRequests = sim.traffic.errors(greenTargetGroup, firstShiftAt, movedBackAt);
      const firstFailure = sim.traffic.firstErrorSince(greenTargetGroup, firstShiftAt);
      if (rollbackChange && firstFailure !== undefined && firstFailure <= movedBackAt) summary.detectionSeconds = Math.round((movedBackAt - firstFailure) / 1000);
    }
    alarmAt ??= rateAlarmAt;
    const rollbackAt = changes.find((c) => alarmAt !== undefined && c.atMs + clock.startedAt >= alarmAt && c.green === 0);
    if (alarmAt !== undefined && rollbackAt) summary.alarmToRollbackSeconds = Math.round((rollbackAt.atMs + clock.startedAt - alarmAt) / 100) / 10;

    // The summary, wrapped on word boundaries at the terminal's width (80 columns when not a terminal).
    const columns = (out as { columns?: number }).columns ?? 80;
    const summaryLine = (text: string) => out.write(wrapWords(text, columns));
    out.write('\n');
    summaryLine(
      summary.outcome === 'PROMOTED'
        ? `${paint('PROMOTED', 'promoted', color)}: ${green.service} serves 100 % of ${pair.recordName.replace(/\.$/, '')} (blue ${blue.service} at 0 %, ${summary.idleDesiredCount} tasks)\n`
        : `${paint(summary.outcome === 'REFUSED' ? 'REFUSED' : 'ROLLED BACK', 'rolledBack', color)} (${result.error}): ${summary.reason}\n  DNS: blue ${blue.service} ${final.blue} / green ${green.service} ${final.green}\n`,
    );
    summaryLine(
      `execution ${result.executionArn.split(':').at(-1)}: ${result.status}${result.error ? ` (${result.error})` : ''}; canary ran ${clockText(clock.elapsedMs() - canaryStart).slice(1)} of virtual time; virtual clock ${t()} in ${summary.wallSeconds} s of wall time\n`,
    );
    summaryLine(`Route53 changes: ${summary.route53Changes}; state transitions: ${summary.transitions}; notifications: ${sim.events.map((e) => e.detailType).join(', ')}\n\n`);
    if (summary.greenRequests !== null)
      summaryLine(`green served ${summary.greenRequests} requests, ${summary.greenFailedRequests} of them failed before DNS moved back${summary.detectionSeconds !== null ? `; ${summary.detectionSeconds} s from its first failed request to the rollback's change batch` : ''}\n`);
    if (summary.alarmToRollbackSeconds !== null) summaryLine(`from the alarm to the rollback's change batch: ${summary.alarmToRollbackSeconds} s of virtual time${opts.pollingOnly ? ' (polling only)' : ''}\n`);
    const rolledBack = summary.outcome === 'ROLLED_BACK' ? changes.filter((c) => c.green === 0).at(-1)?.atMs : undefined;
    out.write(`green's weight over virtual time (mm:ss from the push):\n${timeline(changes, clock.elapsedMs(), rolledBack !== undefined ? { rollbackAtMs: rolledBack } : {}).join('\n')}\n`);
    if (opts.json) out.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } finally {
    world.dispose();
  }
}
