import type { EventBridgeEvent } from 'aws-lambda';
import { describeService } from './lib/aws/ecs.js';
import { startExecution } from './lib/aws/stepfunctions.js';
import { eventPlaces, executionName, parseDeploymentEvent } from './lib/deployment-event.js';
import { sideAccess } from './lib/canary-state.js';
import { requiredEnv } from './lib/env.js';
import { isCanaryError } from './lib/errors.js';
import { primaryOf } from './lib/judge.js';
import { logger } from './lib/log.js';
import { findPairByService } from './lib/config.js';
import { pairsConfig } from './lib/pairs.js';

/**
 * EventBridge target for `ECS Deployment State Change` / SERVICE_DEPLOYMENT_COMPLETED.
 * Starts one canary execution named after the pair and the deployment, so the console list
 * reads well and a redelivered event does not start a second canary. An event it cannot
 * place still starts an execution (named after the event id): Preflight then fails it with
 * a named error where the operator looks, and nothing in DNS changes.
 */
export async function handler(event: EventBridgeEvent<string, unknown>) {
  const stateMachineArn = requiredEnv('STATE_MACHINE_ARN');
  let name: string;
  try {
    const deployment = parseDeploymentEvent(event);
    // A service runs in the stack's place unless it names its region or role: the event says where it comes from.
    const owner = findPairByService(pairsConfig(), deployment.cluster, deployment.service, eventPlaces(deployment, stateMachineArn));
    name = executionName(owner?.pair.name ?? 'unknown-service', deployment.deploymentId);
    if (owner) {
      // Events arrive late and out of order: one for a deployment that is no longer the
      // service's primary is history, not a reason to move traffic.
      const access = sideAccess(owner.pair.name, owner.pair.services[owner.index], name);
      const service = await describeService(deployment.cluster, deployment.service, access).catch((e: Error) => {
        // The service cannot be read (its role refused, say): the pair's canary starts anyway, and
        // Preflight refuses it with that named error, where the operator looks.
        if (!isCanaryError(e)) throw e;
        logger.warn('cannot tell whether the deployment is still the primary; Preflight decides', { error: e.message });
        return undefined;
      });
      const primary = service && primaryOf(service);
      if (primary && primary.id !== deployment.deploymentId) {
        logger.info('ignoring an out-of-date deployment event', { deploymentId: deployment.deploymentId, primary: primary.id, service: deployment.serviceArn });
        return { ignored: true, reason: `deployment ${deployment.deploymentId} is not the primary of ${deployment.cluster}/${deployment.service} (${primary.id} is)` };
      }
    }
  } catch (e) {
    if (!isCanaryError(e)) throw e;
    logger.warn('event cannot be placed; starting an execution that will reject it', { error: e.message });
    name = executionName('rejected', String((event as { id?: unknown })?.id ?? Date.now()));
  }
  const started = await startExecution(stateMachineArn, name, event);
  logger.info(started.duplicate ? 'canary already started for this deployment' : 'canary started', { ...started, name });
  return { name, ...started };
}
