import type { Logger } from '@aws-lambda-powertools/logger';
import { putEvent } from './aws/eventbridge.js';
import type { AnalysisFigures, Plan, Status } from './canary-state.js';

/** EventBridge `source` of every notification the canary sends (on the default bus). */
export const NOTIFICATION_SOURCE = 'ecs-dns-canary';

export type NotificationType = 'Started' | 'StepCompleted' | 'AwaitingApproval' | 'WouldRollBack' | 'Promoted' | 'RolledBack' | 'Refused';

/** The `detail` of every notification; documented in the README. */
export interface NotificationDetail {
  pair: string;
  deploymentId: string;
  executionArn: string;
  blue: { cluster: string; service: string };
  green: { cluster: string; service: string; taskDefinition: string };
  step: number;
  of: number;
  greenPercent: number;
  weights: { blue: number; green: number };
  reason?: string;
  /** AwaitingApproval: the exact commands that answer the gate. */
  commands?: { approve: string; reject: string };
  /** Green against blue, with its numbers (pairs with analysis). */
  analysis?: AnalysisFigures;
  /** RolledBack: the latest numbers of green against blue, in one line, as the claim held them. */
  figures?: string;
}

/** From a plan, or a pair claim (which carries the same identity), and where the canary is. */
export function notificationDetail(
  plan: Pick<Plan, 'pair' | 'deploymentId' | 'executionArn' | 'blue' | 'green'>,
  status: Pick<Status, 'step' | 'of' | 'greenPercent' | 'weights'>,
  reason?: string,
): NotificationDetail {
  return {
    pair: plan.pair,
    deploymentId: plan.deploymentId,
    executionArn: plan.executionArn,
    blue: { cluster: plan.blue.cluster, service: plan.blue.service },
    green: { cluster: plan.green.cluster, service: plan.green.service, taskDefinition: plan.green.taskDefinition },
    step: status.step,
    of: status.of,
    greenPercent: status.greenPercent,
    weights: status.weights,
    ...(reason === undefined ? {} : { reason }),
  };
}

/**
 * Notifications report the canary; they never decide it. A failed PutEvents is logged and
 * reported as `notified: false`, and the canary carries on (a monitoring outage must not
 * roll back, or block the rollback of, production traffic).
 */
export async function notify(logger: Logger, type: NotificationType, detail: NotificationDetail): Promise<boolean> {
  try {
    await putEvent(NOTIFICATION_SOURCE, type, detail);
    return true;
  } catch (e) {
    logger.error(`could not send the ${type} notification; the canary goes on`, { error: e as Error });
    return false;
  }
}
