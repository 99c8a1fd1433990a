import { z } from 'zod';
import { describeAlarms } from './lib/aws/cloudwatch.js';
import { describeService } from './lib/aws/ecs.js';
import type { Plan, Status } from './lib/canary-state.js';
import { parseTaskInput } from './lib/canary-state.js';
import { findPairByService } from './lib/config.js';
import { parseDeploymentEvent } from './lib/deployment-event.js';
import { fail } from './lib/errors.js';
import { alarmReasons, steadyReasons } from './lib/judge.js';
import { logFor, logger } from './lib/log.js';
import { notificationDetail, notify } from './lib/notify.js';
import { pairsConfig } from './lib/pairs.js';
import { dnsWaitSeconds, readPair } from './lib/record-pair.js';
import { expandSteps, formatWeights } from './lib/schedule.js';

const Input = z.object({ event: z.unknown(), executionArn: z.string() });

/**
 * Fails closed: every check runs before the first weight change, and any failure ends the
 * execution with a named error and DNS untouched. Returns the plan the canary follows.
 */
export async function handler(input: unknown): Promise<{ plan: Plan; status: Status; judgement: null }> {
  const { event, executionArn } = parseTaskInput(Input, input, 'Preflight');
  const deployment = parseDeploymentEvent(event);
  if (deployment.eventName !== 'SERVICE_DEPLOYMENT_COMPLETED')
    fail('MalformedEvent', `the canary starts on SERVICE_DEPLOYMENT_COMPLETED, not ${deployment.eventName}`);
  const owner = findPairByService(pairsConfig(), deployment.cluster, deployment.service);
  if (!owner)
    return fail('UnknownService', `ECS service ${deployment.cluster}/${deployment.service} is not in any pair of canary.config.ts`);
  const { pair: config, index } = owner;
  const green = config.services[index];
  const blue = config.services[1 - index]!;
  logFor({ pair: config.name, deploymentId: deployment.deploymentId });

  const ref = {
    hostedZoneId: config.hostedZoneId,
    recordName: config.recordName,
    recordType: config.recordType,
    blueSetIdentifier: blue.setIdentifier,
    greenSetIdentifier: green.setIdentifier,
  };
  const records = await readPair(ref);
  const { weights } = records;
  if (weights.blue === 0 && weights.green === 0)
    fail('NoLiveService', `both records of ${config.recordName} have weight 0; give the live service's record weight first`);
  if (weights.blue > 0 && weights.green > 0)
    fail('TrafficAlreadySplit', `${config.recordName} is split (${formatWeights(weights)}); finish or undo that split before deploying`);
  if (weights.green > 0)
    fail('DeploymentToLiveService', `${green.cluster}/${green.service} is live (${formatWeights(weights)}); deploy new versions to the idle service ${blue.cluster}/${blue.service}`);

  const service = await describeService(green.cluster, green.service);
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (primary?.id !== deployment.deploymentId)
    fail('DeploymentMismatch', `the primary deployment of ${green.cluster}/${green.service} is ${primary?.id ?? 'missing'}, not ${deployment.deploymentId} from the event (an older or superseded event)`);
  const unsteady = steadyReasons(service, deployment.deploymentId);
  if (unsteady.length > 0) fail('GreenNotSteady', `green is not steady: ${unsteady.join('; ')}`);

  const { alarms, missing } = await describeAlarms(config.alarms);
  if (missing.length > 0) fail('AlarmNotFound', `alarm(s) ${missing.join(', ')} do not exist; create them or fix the pair's alarms`);
  const firing = alarmReasons(alarms);
  if (firing.length > 0) fail('AlarmAlreadyFiring', `an alarm is already in ALARM before any traffic moved: ${firing.join('; ')}`);

  const steps = expandSteps(config.steps);
  const plan: Plan = {
    pair: config.name,
    deploymentId: deployment.deploymentId,
    executionArn,
    hostedZoneId: config.hostedZoneId,
    recordName: config.recordName,
    recordType: config.recordType,
    blue,
    green: { ...green, taskDefinition: primary!.taskDefinition },
    alarms: config.alarms,
    steps,
    bakeSeconds: config.bakeSeconds,
    pollSeconds: config.pollSeconds,
    dnsWaitSeconds: dnsWaitSeconds(records, config.minWaitSeconds),
    deadline: new Date(Date.now() + config.executionTimeoutSeconds * 1000).toISOString(),
  };
  const status: Status = { step: 0, of: steps.length, greenPercent: 0, weights, changeId: null };
  logger.info('preflight passed', { steps, weights, dnsWaitSeconds: plan.dnsWaitSeconds });
  await notify(logger, 'Started', notificationDetail(plan, status));
  return { plan, status, judgement: null };
}
