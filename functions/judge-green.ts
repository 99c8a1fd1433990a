import * as z from 'zod/mini';
import { analyze, summaryLine, type Analysis } from './lib/analysis.js';
import { describeAlarmsByPlace, getMetricDataByPlace } from './lib/aws/cloudwatch.js';
import { describeService } from './lib/aws/ecs.js';
import { describeTargetHealth } from './lib/aws/elbv2.js';
import { gateCommands } from './lib/canary.js';
import { JudgementSchema, PlanSchema, StatusSchema, alarmsByPlace, parseTaskInput, sideAccess, wouldRollBackLine, type AnalysisFigures, type Judgement, type Plan, type Status } from './lib/canary-state.js';
import { fail } from './lib/errors.js';
import { judgeGreen, judgementAfter } from './lib/judge.js';
import { emitMetrics, verdictMetric } from './lib/canary-metrics.js';
import { handled, logFor, logger } from './lib/log.js';
import { metricQueries, minutesFrom, queriesOf, settingsOf, settledWindow } from './lib/metrics.js';
import { notificationDetail, notify } from './lib/notify.js';
import { readClaim, recordProgress } from './lib/pair-lock.js';

const Input = z.object({ plan: PlanSchema, status: StatusSchema, judgement: z.nullable(JudgementSchema) });

/**
 * Green against blue: the settled minutes of both sides since `baselineMinutes` before the
 * first shift, in one GetMetricData call, through the analysis (functions/lib/analysis.ts).
 */
async function compare(plan: Plan, status: Status, previous: Judgement | null, now: number): Promise<AnalysisFigures | undefined> {
  if (!plan.analysis) return undefined;
  const shifts = [...(previous?.analysis?.shifts ?? [])];
  if (status.step > 0 && shifts.at(-1)?.greenPercent !== status.greenPercent)
    shifts.push({ greenPercent: status.greenPercent, at: status.shiftedAt ?? new Date(now).toISOString() });
  const settings = settingsOf(plan.analysis, plan.bakeSeconds);
  const sides = {
    blue: { cluster: plan.blue.cluster, service: plan.blue.service, targetGroups: plan.blue.targetGroups ?? [] },
    green: { cluster: plan.green.cluster, service: plan.green.service, targetGroups: plan.green.targetGroups ?? [] },
  };
  const metrics = { builtIn: plan.analysis.builtIn, ownLoadBalancers: plan.analysis.ownLoadBalancers, metrics: plan.analysis.metrics };
  const { from, to } = settledWindow(Date.parse(shifts[0]?.at ?? new Date(now).toISOString()), now, settings);
  const queries = metricQueries(sides, metrics);
  const bySide = (['blue', 'green'] as const).map((side) => ({ queries: queriesOf(queries, side), access: sideAccess(plan.pair, plan[side], plan.executionArn) }));
  const series = to > from ? await getMetricDataByPlace(bySide, new Date(from), new Date(to)) : new Map();
  const greenPercentAt = (t: number) => shifts.filter((s) => Date.parse(s.at) <= t).at(-1)?.greenPercent ?? 0;
  const minutes = to > from ? minutesFrom(series, from, to, greenPercentAt, metrics) : [];
  const stepAt = Date.parse(shifts.at(-1)?.at ?? new Date(now).toISOString());
  const stepStart = minutes.findIndex((m) => Date.parse(m.at!) >= stepAt);
  const a: Analysis = analyze(minutes, settings, stepStart < 0 ? minutes.length : stepStart, status.greenPercent);
  const { tests: _tests, ...figures } = a;
  const wouldRollBack =
    previous?.analysis?.wouldRollBack ??
    (plan.analysis.mode === 'observe' && a.outcome === 'UNHEALTHY' ? { step: status.step, greenPercent: status.greenPercent, reason: a.reasons.join('; ') } : undefined);
  return { ...figures, mode: plan.analysis.mode, shifts, ...(wouldRollBack ? { wouldRollBack } : {}) };
}

/**
 * One check of green during a step's bake: green against blue from each side's own metrics,
 * the alarms (the pair's and green's own; blue's are only noted), ECS health, and the health
 * of every target registered in green's target groups; then the bake and the gate
 * (judgementAfter). Where the run is goes on the claim for `ecs-dns-canary status`.
 */
export const handler = handled('Judge green', async (input: unknown): Promise<Judgement> => {
  const { plan, status, judgement: previous } = parseTaskInput(Input, input, 'Judge green');
  logFor({ pair: plan.pair, deploymentId: plan.deploymentId, step: status.step });
  const now = Date.now();
  const blueAlarms = plan.blue.alarms ?? [];
  const green = sideAccess(plan.pair, plan.green, plan.executionArn);
  const [service, { alarms, missing }, claim, analysis] = await Promise.all([
    describeService(plan.green.cluster, plan.green.service, green),
    describeAlarmsByPlace(alarmsByPlace(plan)),
    readClaim(plan.pair),
    compare(plan, status, previous, now),
  ]);
  const targets = (await Promise.all(service.targetGroups.map((arn) => describeTargetHealth(arn, green)))).flat();
  const judged = alarms.filter((a) => plan.alarms.includes(a.name));
  const { reasons } = judgeGreen({ alarms: judged, service, targets, expected: { deploymentId: plan.deploymentId, taskDefinition: plan.green.taskDefinition } });
  for (const name of missing) reasons.push(`alarm ${name} no longer exists`);
  if (now > Date.parse(plan.deadline)) reasons.push(`the canary ran past its execution timeout (deadline ${plan.deadline})`);
  const notes = [
    ...judged.filter((a) => a.state === 'INSUFFICIENT_DATA').map((a) => `alarm ${a.name} has no data (INSUFFICIENT_DATA): it says nothing about green, so it is not counted as a pass`),
    ...alarms
      .filter((a) => blueAlarms.includes(a.name) && a.state === 'ALARM')
      .map((a) => `alarm ${a.name} of blue (${plan.blue.service}) is in ALARM: it is blue's, it does not stop the canary`),
    ...(analysis?.mode === 'observe' && analysis.outcome !== 'HEALTHY' ? [`observe mode: green against blue is ${analysis.outcome}: ${analysis.reasons.join('; ')}`] : []),
  ];
  const verdict = analysis && plan.analysis ? { outcome: analysis.outcome, reasons: analysis.reasons, mode: plan.analysis.mode, maxBakeSeconds: plan.analysis.maxBakeSeconds, onInconclusive: plan.analysis.onInconclusive, leaningOnly: analysis.leaningOnly } : undefined;
  const { giveUp, ...after } = judgementAfter(plan, status, previous, reasons, claim, now, verdict);
  const judgement: Judgement = { ...after, ...(notes.length ? { notes } : {}), ...(analysis ? { analysis } : {}) };

  await recordProgress(plan.pair, plan.executionArn, {
    step: status.step,
    of: status.of,
    greenPercent: status.greenPercent,
    ...(status.shiftedAt ? { shiftedAt: status.shiftedAt } : {}),
    verdict: judgement.verdict,
    reasons: judgement.reasons,
    ...(notes.length ? { notes } : {}),
    ...(analysis ? { analysis: summaryLine(analysis) } : {}),
    ...(analysis?.wouldRollBack ? { wouldRollBack: wouldRollBackLine(analysis.wouldRollBack) } : {}),
    checkedAt: judgement.checkedAt,
    bakeEndsAt: judgement.bakeEndsAt,
    ...(judgement.gate !== 'NONE' ? { gate: judgement.gate, gateEndsAt: new Date(Date.parse(judgement.gateOpenedAt!) + plan.approval!.timeoutSeconds * 1000).toISOString() } : {}),
  });
  const detail = { ...notificationDetail(plan, status), ...(analysis ? { analysis } : {}) };
  if (analysis?.wouldRollBack && !previous?.analysis?.wouldRollBack)
    await notify(logger, 'WouldRollBack', { ...detail, reason: `observe mode: green would have been rolled back at step ${status.step} (green ${status.greenPercent} %): ${analysis.wouldRollBack.reason}` });
  // One verdict per judgement (a give-up is the inconclusive verdict that ends the run), and the weight green has.
  emitMetrics(plan.pair, { [verdictMetric(giveUp ? 'INCONCLUSIVE' : judgement.verdict)]: 1, GreenWeight: status.greenPercent }, { deploymentId: plan.deploymentId, step: `${status.step}/${status.of}` });
  if (giveUp) {
    logger.warn('no verdict on green: rolling back (onInconclusive: rollback)', { reason: giveUp, analysis });
    return fail('GreenInconclusive', giveUp);
  }
  if (judgement.verdict === 'HEALTHY') logger.info('green is healthy', { checks: judgement.checks, bakeComplete: judgement.bakeComplete, gate: judgement.gate, analysis: analysis && summaryLine(analysis) });
  else if (judgement.verdict === 'INCONCLUSIVE') logger.info('no verdict on green yet: the bake goes on', { reasons: judgement.reasons, analysis: analysis && summaryLine(analysis) });
  else logger.warn('green is unhealthy: rolling back', { reasons: judgement.reasons, analysis: analysis && summaryLine(analysis) });
  if (judgement.gate === 'WAITING' && previous?.gate !== 'WAITING')
    await notify(logger, 'AwaitingApproval', {
      ...detail,
      reason:
        judgement.verdict === 'INCONCLUSIVE'
          ? `no verdict on green after maxBakeSeconds at ${status.greenPercent} % (${judgement.reason}); approve within ${plan.approval!.timeoutSeconds} s or the canary will ${plan.approval!.onTimeout === 'rollback' ? 'roll back' : 'go on'}`
          : `green baked ${plan.bakeSeconds} s at ${status.greenPercent} % and is healthy; approve within ${plan.approval!.timeoutSeconds} s or the canary will ${plan.approval!.onTimeout === 'rollback' ? 'roll back' : 'go on'}`,
      commands: gateCommands(plan.pair),
    });
  if (judgement.bakeComplete && judgement.gate !== 'WAITING') await notify(logger, 'StepCompleted', detail);
  return judgement;
});
