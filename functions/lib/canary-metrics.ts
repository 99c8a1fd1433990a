import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Plan } from './canary-state.js';
import { logger } from './log.js';

/**
 * The canary's own metrics, as CloudWatch embedded metric format (EMF) log lines written with
 * Powertools Metrics: CloudWatch Logs turns each line into datapoints, so emitting one is a log
 * line, not an API call (no permission, no latency, nothing to fail the canary with). Each
 * metric has two dimension sets: `{stage, pair}` (one pair) and `{stage}` (every pair of the
 * stage: "any rollback in prod" is one alarm on RolledBack with stage=prod).
 */
export const CANARY_NAMESPACE = 'ecs-dns-canary';

/** Every metric the canary emits, with its unit (README, "Dashboard and metrics"). */
export const CANARY_METRICS = {
  /** Preflight passed: traffic is about to move. */
  Started: MetricUnit.Count,
  /** Green reached 100 % and the pair was released. */
  Promoted: MetricUnit.Count,
  /** Blue 100 / green 0 restored: by the run's own rollback, the safety net or the sweep. */
  RolledBack: MetricUnit.Count,
  /** Green refused before any traffic moved (Preflight's checks, the smoke test, a hook, scaling up). */
  Refused: MetricUnit.Count,
  /** From Preflight to the promotion or the rollback. */
  CanaryDurationSeconds: MetricUnit.Seconds,
  /** Green's share of the weights, in percent: at each shift, each judgement and each rollback. */
  GreenWeight: MetricUnit.Percent,
  /** From green's last shift (when it got the weight at which it failed) to the start of the rollback. */
  DetectionSeconds: MetricUnit.Seconds,
  /** One per judgement of green, by its verdict. */
  HealthyVerdicts: MetricUnit.Count,
  UnhealthyVerdicts: MetricUnit.Count,
  InconclusiveVerdicts: MetricUnit.Count,
} as const;

export type CanaryMetric = keyof typeof CANARY_METRICS;

/** The verdict's metric. */
export const verdictMetric = (verdict: 'HEALTHY' | 'UNHEALTHY' | 'INCONCLUSIVE'): CanaryMetric =>
  verdict === 'HEALTHY' ? 'HealthyVerdicts' : verdict === 'UNHEALTHY' ? 'UnhealthyVerdicts' : 'InconclusiveVerdicts';

/** The stage the function runs in (its CANARY_STAGE, from functions/lib/stack.ts); undefined when not set. */
export const canaryStage = (): string | undefined => process.env.CANARY_STAGE || undefined;

/**
 * One EMF line for `pair` with these values (and `properties`: searchable in Logs Insights,
 * not dimensions, such as the deployment and the outcome). Metrics never decide anything: a
 * missing stage or a serializing error is logged and the canary carries on.
 */
export function emitMetrics(pair: string, values: Partial<Record<CanaryMetric, number>>, properties: Record<string, string | undefined> = {}): void {
  try {
    const stage = canaryStage();
    if (!stage) {
      logger.error('CANARY_STAGE is not set: the canary metrics are not emitted', { metrics: Object.keys(values) });
      return;
    }
    // One instance per line: it reads the invocation's environment, and two canaries in one
    // process (the local runner) never share a buffer.
    const metrics = new Metrics({ namespace: CANARY_NAMESPACE, serviceName: CANARY_NAMESPACE });
    // Dimension sets: {stage, pair} (the stage, then this line's pair), and {stage} alone (an empty set adds only the defaults).
    metrics.clearDefaultDimensions();
    metrics.setDefaultDimensions({ stage });
    metrics.addDimension('pair', pair);
    metrics.addDimensions({});
    for (const [name, value] of Object.entries(values)) if (value !== undefined && Number.isFinite(value)) metrics.addMetric(name, CANARY_METRICS[name as CanaryMetric], value);
    for (const [key, value] of Object.entries(properties)) if (value !== undefined) metrics.addMetadata(key, value);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  } catch (e) {
    logger.error('could not emit the canary metrics; the canary goes on', { error: e as Error });
  }
}

/** When the run's Preflight planned it: its deadline is then + the execution timeout, which the listener waits for (listenSeconds). */
export const runStartedAt = (plan: Pick<Plan, 'deadline' | 'listenSeconds'>): string => new Date(Date.parse(plan.deadline) - plan.listenSeconds * 1000).toISOString();

/** The run, on its outcome's metric line (searchable in Logs Insights: the dashboard's last runs). */
export const runOf = (run: { deploymentId: string; executionArn: string }) => ({ deploymentId: run.deploymentId, execution: run.executionArn.split(':').at(-1) });

/** Seconds from an ISO time to now (undefined without a start). */
export const secondsSince = (iso: string | undefined, now = Date.now()): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.max(0, Math.round((now - t) / 100) / 10) : undefined;
};
