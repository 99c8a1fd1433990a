import * as z from 'zod/mini';
import { sendTaskFailure } from './lib/aws/stepfunctions.js';
import { Canary, type ActionResult } from './lib/canary.js';
import { isCanaryError } from './lib/errors.js';
import { handled, logFor, logger } from './lib/log.js';
import { canaryClaims, lockTable, readClaim } from './lib/pair-lock.js';
import { pairsConfig } from './lib/pairs.js';

const AlarmEvent = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  time: z.optional(z.string()),
  detail: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), reason: z.optional(z.string()), timestamp: z.optional(z.string()) }),
  }),
});

const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/([^/]+)\/([^/]+)$/;
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
  const targets: { pair: string; onlyIfGreen?: { cluster: string; service: string }; error: string; cause: string }[] = [];
  if (alarm.success) {
    const { alarmName, state } = alarm.data.detail;
    if (state.value !== 'ALARM') return { pairs: [] };
    const cause = `alarm ${alarmName} went to ALARM${state.timestamp ? ` at ${state.timestamp}` : ''}${state.reason ? `: ${state.reason}` : ''}`;
    for (const pair of config.pairs) {
      if (pair.alarms.includes(alarmName)) targets.push({ pair: pair.name, error: 'AlarmFired', cause });
      // A service's own alarm stops a canary only while that service is green.
      for (const s of pair.services.filter((s) => s.alarms.includes(alarmName)))
        targets.push({ pair: pair.name, onlyIfGreen: { cluster: s.cluster, service: s.service }, error: 'AlarmFired', cause: `${cause} (an alarm of ${s.service})` });
    }
  } else if (ecs.success) {
    const m = SERVICE_ARN.exec(ecs.data.resources[0]!);
    const pair = m && config.pairs.find((p) => p.services.some((s) => s.cluster === m[1] && s.service === m[2]));
    if (m && pair) {
      const { eventName, reason, deploymentId } = ecs.data.detail;
      const failed = eventName === 'SERVICE_DEPLOYMENT_FAILED';
      targets.push({
        pair: pair.name,
        onlyIfGreen: { cluster: m[1]!, service: m[2]! },
        error: failed ? 'GreenDeploymentFailed' : 'GreenTasksFailing',
        cause: `${m[1]}/${m[2]}: ${eventName}${deploymentId ? ` (${deploymentId})` : ''}${reason ? `: ${reason}` : ''}`,
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
    if (t.onlyIfGreen && (claim.green.cluster !== t.onlyIfGreen.cluster || claim.green.service !== t.onlyIfGreen.service)) {
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
