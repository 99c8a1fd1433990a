import * as z from 'zod/mini';
import { sendTaskFailure } from './lib/aws/stepfunctions.js';
import { Canary, type ActionResult } from './lib/canary.js';
import { isCanaryError } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { canaryClaims, lockTable, readClaim } from './lib/pair-lock.js';
import { pairsConfig } from './lib/pairs.js';
import { fromSide, sameService, type ServiceConfig } from './lib/config.js';

const AlarmEvent = z.object({
  source: z.literal('aws.cloudwatch'),
  /** Where the alarm is: the stack's place, or a side's (through its forwarder). */
  account: z.optional(z.string()),
  region: z.optional(z.string()),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: z.optional(z.string()),
  detail: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), reason: z.optional(z.string()), timestamp: z.optional(z.string()) }),
  }),
});

const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):service\/([^/]+)\/([^/]+)$/;
const EcsEvent = z.object({
  source: z.literal('aws.ecs'),
  'detail-type': z.enum(['ECS Deployment State Change', 'ECS Service Action']),
  resources: z.array(z.string()).check(z.minLength(1)),
  detail: z.object({ eventName: z.string(), reason: z.optional(z.string()), deploymentId: z.optional(z.string()) }),
});

export interface SignalResult {
  /** One entry per pair the event concerns. */
  pairs: { pair: string; outcome: 'STOPPED' | 'NO_CANARY' | 'NOT_GREEN' | 'ALREADY_ENDING'; detail: string }[];
}

/**
 * Target of the rules on CloudWatch Alarm State Change (to ALARM, for the configured alarms)
 * and on green's ECS events (deployment FAILED; tasks failing to start or to be placed). Stops
 * the canary that holds the pair at once: its listener's task fails with AlarmFired,
 * GreenDeploymentFailed or GreenTasksFailing, and the run rolls back. A pair with no canary
 * running is left as it is: the event changes nothing. Polling (Judge green) stays as the
 * backstop when an event is lost.
 */
export const handler = handled('Signal', async (event: unknown): Promise<SignalResult> => {
  const alarm = AlarmEvent.safeParse(event);
  const ecs = EcsEvent.safeParse(event);
  const config = pairsConfig();
  // The stack's region: where the pairs' own alarms are, and the sides that name no region run.
  const homeRegion = process.env.AWS_REGION;
  const targets: { pair: string; onlyIfGreen?: ServiceConfig; error: string; cause: string }[] = [];
  if (alarm.success) {
    const { alarmName, state } = alarm.data.detail;
    if (state.value !== 'ALARM') return { pairs: [] };
    const at = { account: alarm.data.account, region: alarm.data.region };
    const cause = `alarm ${alarmName} went to ALARM${state.timestamp ? ` at ${state.timestamp}` : ''}${state.reason ? `: ${state.reason}` : ''}`;
    for (const pair of config.pairs) {
      if (pair.alarms.includes(alarmName) && fromSide({}, at, homeRegion)) targets.push({ pair: pair.name, error: 'AlarmFired', cause });
      // A service's own alarm (where that service runs) stops a canary only while that service is green.
      for (const s of pair.services.filter((s) => s.alarms.includes(alarmName) && fromSide(s, at, homeRegion)))
        targets.push({ pair: pair.name, onlyIfGreen: s, error: 'AlarmFired', cause: `${cause} (an alarm of ${s.service})` });
    }
  } else if (ecs.success) {
    const m = SERVICE_ARN.exec(ecs.data.resources[0]!);
    // The side the ARN names: its names, where it runs; a side of that account before one of the stack's.
    const sides = m ? config.pairs.flatMap((pair) => pair.services.filter((s) => s.cluster === m[3] && s.service === m[4] && fromSide(s, { region: m[1], account: m[2] }, homeRegion)).map((s) => ({ pair, s }))) : [];
    const side = sides.find(({ s }) => s.roleArn) ?? sides[0];
    if (m && side) {
      const { eventName, reason, deploymentId } = ecs.data.detail;
      const failed = eventName === 'SERVICE_DEPLOYMENT_FAILED';
      targets.push({
        pair: side.pair.name,
        onlyIfGreen: side.s,
        error: failed ? 'GreenDeploymentFailed' : 'GreenTasksFailing',
        cause: `${m[3]}/${m[4]}: ${eventName}${deploymentId ? ` (${deploymentId})` : ''}${reason ? `: ${reason}` : ''}`,
      });
    }
  } else {
    logger.error('not an alarm state change or an ECS event of a configured service; ignored', { issue: alarm.error.issues[0]?.message });
    return { pairs: [] };
  }

  const canary = new Canary({ claims: canaryClaims(lockTable()), signals: { fail: sendTaskFailure } });
  const pairs: SignalResult['pairs'] = [];
  for (const t of targets) {
    logFor({ pair: t.pair, signal: t.error });
    const claim = await readClaim(t.pair);
    if (!claim) {
      logger.info('no canary holds the pair: nothing to stop', { cause: t.cause });
      pairs.push({ pair: t.pair, outcome: 'NO_CANARY', detail: 'no canary is running on this pair' });
      continue;
    }
    if (t.onlyIfGreen && !sameService(claim.green, t.onlyIfGreen)) {
      const what = alarm.success ? `alarm ${alarm.data.detail.alarmName} belongs to ${t.onlyIfGreen.cluster}/${t.onlyIfGreen.service}, which` : `${t.onlyIfGreen.cluster}/${t.onlyIfGreen.service}`;
      logger.info('the event is about blue, not green: the canary goes on', { cause: t.cause });
      pairs.push({ pair: t.pair, outcome: 'NOT_GREEN', detail: `${what} is not the green side of the running canary (it is blue): the canary goes on` });
      continue;
    }
    let result: ActionResult;
    try {
      result = await canary.stop(t.pair, { error: t.error, cause: t.cause, by: 'EventBridge' }, 'stop', claim);
    } catch (e) {
      if (!isCanaryError(e, 'PairIdle') && !isCanaryError(e, 'CanaryEnding')) throw e;
      pairs.push({ pair: t.pair, outcome: isCanaryError(e, 'PairIdle') ? 'NO_CANARY' : 'ALREADY_ENDING', detail: e.message });
      continue;
    }
    logger.warn('stopping the canary', { executionArn: result.executionArn, woken: result.woken, cause: t.cause });
    pairs.push({ pair: t.pair, outcome: 'STOPPED', detail: result.message });
  }
  return { pairs };
});
