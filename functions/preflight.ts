import * as z from 'zod/mini';
import { describeAlarmsByPlace, putDashboard } from './lib/aws/cloudwatch.js';
import { canaryStage, emitMetrics, runStartedAt } from './lib/canary-metrics.js';
import { dashboardBody, dashboardName } from './lib/dashboard.js';
import { describeService } from './lib/aws/ecs.js';
import { describeTargetGroups } from './lib/aws/elbv2.js';
import type { Plan, Status } from './lib/canary-state.js';
import { alarmsByPlace, pairRef, parseTaskInput, sideAccess } from './lib/canary-state.js';
import { analysisOf, dnsRoleOf, findPairByService, placeOfService, type PairConfig, type ServiceConfig } from './lib/config.js';
import { metricQueries, metricsPlanOf, targetGroupRef, type SideTargets } from './lib/metrics.js';
import type { PlanAnalysis } from './lib/canary-state.js';
import type { ServiceStatus } from './lib/judge.js';
import { byPlace, type SideAccess } from './lib/access.js';
import { eventPlaces, pairOfExecutionName, parseDeploymentEvent, type Deployment } from './lib/deployment-event.js';
import { fail, isCanaryError } from './lib/errors.js';
import { alarmReasons, primaryOf, steadyReasons } from './lib/judge.js';
import { handled, logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { claimForCanary, releasePair } from './lib/pair-lock.js';
import { pairsConfig } from './lib/pairs.js';
import { dnsWaitSeconds, readPair } from './lib/record-pair.js';
import { expandSteps, formatWeights } from './lib/schedule.js';

const Input = z.object({ event: z.unknown(), executionArn: z.string(), executionName: z.string() });

/**
 * The event must come from the account and region where the pair runs the service (the stack's
 * own unless the service names its region or role), for a service of the pair the execution is
 * named after.
 */
function checkOrigin(deployment: Deployment, executionArn: string, executionName: string): { pair: PairConfig; index: 0 | 1 } {
  const places = eventPlaces(deployment, executionArn);
  const owner = findPairByService(pairsConfig(), deployment.cluster, deployment.service, places);
  if (!owner) {
    const elsewhere = findPairByService(pairsConfig(), deployment.cluster, deployment.service);
    if (!elsewhere || !places) return fail('UnknownService', `ECS service ${deployment.cluster}/${deployment.service} is not in any pair of canary.config.ts`);
    const where = placeOfService(elsewhere.pair.services[elsewhere.index], places.home);
    return fail(
      'ForeignEvent',
      `the event is from account ${deployment.account} in ${deployment.region} (service ${deployment.serviceArn}); pair ${elsewhere.pair.name} runs ${deployment.cluster}/${deployment.service} in account ${where.account}, ${where.region}`,
    );
  }
  const named = pairOfExecutionName(executionName);
  if (named !== undefined && named !== owner.pair.name && named !== 'rejected')
    fail('PairMismatch', `execution ${executionName} is named for pair ${named}, but service ${deployment.cluster}/${deployment.service} belongs to pair ${owner.pair.name}`);
  return owner;
}

/**
 * Fails closed: every check runs before the first weight change, and any failure ends the
 * execution with a named error and DNS untouched. Claims the pair (one canary per pair) and
 * returns the plan the canary follows.
 */
export const handler = handled('Preflight', async (input: unknown): Promise<{ plan: Plan; status: Status; judgement: null }> => {
  const run: RunOf = {};
  try {
    return await preflight(input, run);
  } catch (e) {
    // A named check refused green before any traffic moved (PairBusy is retried, not a refusal).
    if (run.pair && isCanaryError(e) && e.name !== 'PairBusy')
      emitMetrics(run.pair, { Refused: 1 }, { outcome: 'REFUSED', deploymentId: run.deploymentId, execution: run.execution, reason: `${e.name}: ${e.message}`.slice(0, 1000) });
    throw e;
  }
});

/** What Preflight knows of the run so far: the pair, once the event names one. */
interface RunOf {
  pair?: string;
  deploymentId?: string;
  execution?: string;
}

async function preflight(input: unknown, run: RunOf): Promise<{ plan: Plan; status: Status; judgement: null }> {
  const { event, executionArn, executionName } = parseTaskInput(Input, input, 'Preflight');
  const deployment = parseDeploymentEvent(event);
  if (deployment.eventName !== 'SERVICE_DEPLOYMENT_COMPLETED')
    fail('MalformedEvent', `the canary starts on SERVICE_DEPLOYMENT_COMPLETED, not ${deployment.eventName}`);
  const { pair: config, index } = checkOrigin(deployment, executionArn, executionName);
  const green = config.services[index];
  const blue = config.services[1 - index]!;
  const access = (side: ServiceConfig) => sideAccess(config.name, side, executionArn);
  logFor({ pair: config.name, deploymentId: deployment.deploymentId });
  Object.assign(run, { pair: config.name, deploymentId: deployment.deploymentId, execution: executionName });

  // Green first: an out-of-date event is refused before it can touch the pair's claim.
  const service = await describeService(green.cluster, green.service, access(green));
  const primary = primaryOf(service);
  if (primary?.id !== deployment.deploymentId)
    fail('DeploymentMismatch', `the primary deployment of ${green.cluster}/${green.service} is ${primary?.id ?? 'missing'}, not ${deployment.deploymentId} from the event (an older or superseded event)`);
  // A side scaled down after the last promotion (idleAfterPromotion) comes back up to the live
  // side's count before anything else; until then it only needs its new deployment rolled out.
  const live = await describeService(blue.cluster, blue.service, access(blue));
  const scaleUp = config.idleAfterPromotion && service.desiredCount < live.desiredCount ? { desiredCount: live.desiredCount } : undefined;
  const unsteady = steadyReasons(service, deployment.deploymentId, { scalingUp: scaleUp !== undefined });
  if (unsteady.length > 0) fail('GreenNotSteady', `green is not steady: ${unsteady.join('; ')}`);

  const sides = await resolveSides({ blue: { service: live, access: access(blue) }, green: { service, access: access(green) } });
  const analysis = analysisFor(config, sides);

  const steps = expandSteps(config.steps);
  const plan: Plan = {
    pair: config.name,
    deploymentId: deployment.deploymentId,
    executionArn,
    hostedZoneId: config.hostedZoneId,
    recordName: config.recordName,
    recordType: config.recordType,
    ...(dnsRoleOf(config) ? { dnsRole: dnsRoleOf(config) } : {}),
    blue: { ...blue, targetGroups: sides.blue.targetGroups },
    green: { ...green, taskDefinition: primary!.taskDefinition, targetGroups: sides.green.targetGroups },
    alarms: [...config.alarms, ...green.alarms],
    ...(analysis ? { analysis } : {}),
    steps,
    bakeSeconds: config.bakeSeconds,
    pollSeconds: config.pollSeconds,
    dnsWaitSeconds: 0,
    deadline: new Date(Date.now() + config.executionTimeoutSeconds * 1000).toISOString(),
    ...(config.smokeTest
      ? { smokeTest: { ...config.smokeTest, url: typeof config.smokeTest.url === 'string' ? config.smokeTest.url : config.smokeTest.url[green.service]! } }
      : {}),
    ...(config.hooks ? { hooks: config.hooks } : {}),
    ...(scaleUp ? { scaleUp } : {}),
    ...(config.idleAfterPromotion ? { idle: { desiredCount: config.idleAfterPromotion.desiredCount } } : {}),
    idleWaitSeconds: 0,
    listenSeconds: config.executionTimeoutSeconds,
    ...(config.approval ? { approval: config.approval } : {}),
  };
  await claimForCanary(plan, config.executionTimeoutSeconds, deployment);

  try {
    const records = await readPair(pairRef(plan));
    const { weights } = records;
    if (weights.blue === 0 && weights.green === 0)
      fail('NoLiveService', `both records of ${config.recordName} have weight 0; give the live service's record weight first`);
    if (weights.blue > 0 && weights.green > 0)
      fail('TrafficAlreadySplit', `${config.recordName} is split (${formatWeights(weights)}); finish or undo that split before deploying`);
    if (weights.green > 0)
      fail('DeploymentToLiveService', `${green.cluster}/${green.service} is live (${formatWeights(weights)}); deploy new versions to the idle service ${blue.cluster}/${blue.service}`);

    const { alarms, missing } = await describeAlarmsByPlace(alarmsByPlace(plan));
    if (missing.length > 0) fail('AlarmNotFound', `alarm(s) ${missing.join(', ')} do not exist; create them or fix the pair's alarms (or the services' own)`);
    // Blue's own alarms say blue: they are shown, never a reason to refuse green.
    const firing = alarmReasons(alarms.filter((a) => plan.alarms.includes(a.name)));
    if (firing.length > 0) fail('AlarmAlreadyFiring', `an alarm is already in ALARM before any traffic moved: ${firing.join('; ')}`);

    plan.dnsWaitSeconds = dnsWaitSeconds(records, config.minWaitSeconds);
    // The old side keeps serving for at least one DNS wait after it stops getting traffic.
    if (config.idleAfterPromotion) plan.idleWaitSeconds = Math.max(config.idleAfterPromotion.afterSeconds, plan.dnsWaitSeconds);
    const status: Status = { step: 0, of: steps.length, greenPercent: 0, weights, changeId: null };
    logger.info('preflight passed', {
      steps,
      weights,
      dnsWaitSeconds: plan.dnsWaitSeconds,
      analysis: plan.analysis ? { mode: plan.analysis.mode, builtIn: plan.analysis.builtIn, metrics: plan.analysis.metrics.map((m) => m.name) } : 'off',
    });
    emitMetrics(plan.pair, { Started: 1, GreenWeight: 0 }, { deploymentId: plan.deploymentId, execution: executionName });
    if (config.dashboard) await writeDashboard(plan);
    await notify(logger, 'Started', notificationDetail(plan, status));
    return { plan, status, judgement: null };
  } catch (e) {
    await releasePair(plan.pair, executionArn);
    throw e;
  }
}

/**
 * The pair's dashboard, rewritten with this run's sides (their target groups as Preflight
 * resolved them). Like the notifications it decides nothing: a failed write is logged and the
 * canary goes on.
 */
async function writeDashboard(plan: Plan): Promise<void> {
  const stage = canaryStage();
  if (!stage) return void logger.error('CANARY_STAGE is not set: the dashboard is not written');
  const name = dashboardName(stage, plan.pair);
  try {
    const warnings = await putDashboard(name, dashboardBody({ stage, region: process.env.AWS_REGION ?? 'us-east-1', plan, startedAt: runStartedAt(plan) }));
    logger.info('dashboard written', { dashboard: name, ...(warnings.length ? { warnings } : {}) });
  } catch (e) {
    logger.error('could not write the dashboard; the canary goes on', { dashboard: name, error: e as Error });
  }
}

/** Each side's target groups, as CloudWatch names them (ECS says which groups, ELBv2 where the side runs which load balancers). */
async function resolveSides(services: Record<'blue' | 'green', { service: ServiceStatus; access: SideAccess | undefined }>): Promise<{ blue: SideTargets; green: SideTargets }> {
  const places = byPlace([services.blue, services.green].map((s) => ({ items: s.service.targetGroups, access: s.access })));
  const groups = (await Promise.all(places.map((p) => describeTargetGroups([...new Set(p.items)], p.access)))).flat();
  const side = (s: ServiceStatus): SideTargets => ({ cluster: s.cluster, service: s.service, targetGroups: s.targetGroups.map((arn) => targetGroupRef(arn, groups)) });
  return { blue: side(services.blue.service), green: side(services.green.service) };
}

/**
 * How green will be compared with blue: the pair's analysis settings, with what the sides
 * allow. On by default when both sides have ALB target groups; a pair that asks for analysis
 * its sides cannot give is refused (AnalysisUnavailable), before any traffic moves.
 */
function analysisFor(pair: PairConfig, sides: { blue: SideTargets; green: SideTargets }): PlanAnalysis | undefined {
  const wanted = analysisOf(pair);
  if (!wanted) return undefined;
  const names = (s: SideTargets) => `${s.cluster}/${s.service} (${s.targetGroups.length ? s.targetGroups.map((t) => `${t.targetGroup} on ${t.type === 'none' ? 'no load balancer' : `${t.type} ${t.loadBalancer}`}`).join(', ') : 'no target group'})`;
  const plan = metricsPlanOf(sides, wanted);
  if (!plan) {
    if (pair.analysis === undefined) {
      logger.warn('green is judged by alarms and health only: a side has no ALB target group and the pair names no analysis.metrics', { blue: names(sides.blue), green: names(sides.green) });
      return undefined;
    }
    return fail(
      'AnalysisUnavailable',
      `pair ${pair.name} asks for analysis, but ${names(sides.blue)} and ${names(sides.green)} do not both have ALB target groups: name analysis.metrics for NLB, Service Connect or your own metrics, or set analysis: false`,
    );
  }
  try {
    metricQueries(sides, plan);
  } catch (e) {
    fail('AnalysisUnavailable', `pair ${pair.name}: analysis.metrics ${(e as Error).message}`);
  }
  return { ...wanted, builtIn: plan.builtIn, ownLoadBalancers: plan.ownLoadBalancers };
}
