import * as z from 'zod/mini';
import './zod.js';
import { fail } from './errors.js';

/**
 * The document the state machine carries from state to state. The console shows it after
 * every state, so it is small and reads on its own: the plan fixed by Preflight, where the
 * canary is now (`status`) and the latest judgement of green.
 */
const WeightsSchema = z.strictObject({ blue: z.int(), green: z.int() });
const Side = z.strictObject({ cluster: z.string(), service: z.string(), setIdentifier: z.string() });

export const PlanSchema = z.strictObject({
  pair: z.string(),
  deploymentId: z.string(),
  executionArn: z.string(),
  hostedZoneId: z.string(),
  recordName: z.string(),
  recordType: z.string(),
  blue: Side,
  green: z.extend(Side, { taskDefinition: z.string() }),
  alarms: z.array(z.string()),
  steps: z.array(z.int().check(z.minimum(1), z.maximum(100))).check(z.minLength(1)),
  bakeSeconds: z.int().check(z.minimum(0)),
  pollSeconds: z.int().check(z.minimum(1)),
  dnsWaitSeconds: z.int().check(z.minimum(0)),
  deadline: z.string(),
  /** Green's own endpoint, checked before any traffic moves. */
  smokeTest: z.optional(
    z.strictObject({
      url: z.string(),
      expectStatus: z.array(z.int()),
      bodyIncludes: z.optional(z.string()),
      successes: z.int().check(z.minimum(1)),
      intervalSeconds: z.int().check(z.minimum(1)),
      timeoutSeconds: z.int().check(z.minimum(1)),
      secret: z.optional(z.string()),
    }),
  ),
  hooks: z.optional(z.strictObject({ preTraffic: z.optional(z.string()), postTraffic: z.optional(z.string()), timeoutSeconds: z.int().check(z.minimum(1)) })),
  /** Green is brought up to this count (the live side's) before the smoke test. */
  scaleUp: z.optional(z.strictObject({ desiredCount: z.int().check(z.minimum(1)) })),
  /** After the promotion, the old side goes to this count, idleWaitSeconds later. */
  idle: z.optional(z.strictObject({ desiredCount: z.int().check(z.minimum(0)) })),
  idleWaitSeconds: z.int().check(z.minimum(0)),
  /** How long the listener waits for an alarm or an operator: the whole canary. */
  listenSeconds: z.int().check(z.minimum(1)),
  /** Manual gates (see config). */
  approval: z.optional(z.strictObject({ atPercent: z.array(z.int()), timeoutSeconds: z.int().check(z.minimum(1)), onTimeout: z.enum(['rollback', 'promote']) })),
});

export const StatusSchema = z.strictObject({
  step: z.int().check(z.minimum(0)),
  of: z.int().check(z.minimum(1)),
  greenPercent: z.int().check(z.minimum(0), z.maximum(100)),
  weights: WeightsSchema,
  changeId: z.nullable(z.string()),
});

export const JudgementSchema = z.strictObject({
  step: z.int(),
  verdict: z.enum(['HEALTHY', 'UNHEALTHY']),
  reasons: z.array(z.string()),
  checks: z.int().check(z.minimum(1)),
  checkedAt: z.string(),
  bakeStartedAt: z.string(),
  bakeEndsAt: z.string(),
  bakeComplete: z.boolean(),
  /** The reasons in one line: what the rollback reports when green is unhealthy. */
  reason: z.string(),
  /** NONE, or at a manual gate once the bake is complete: waiting for an operator, approved (or timed out with onTimeout promote), or timed out. */
  gate: z.enum(['NONE', 'WAITING', 'APPROVED', 'TIMED_OUT']),
  gateOpenedAt: z.optional(z.string()),
  /** An operator asked to promote now: no more bakes. */
  promoteRequested: z.optional(z.boolean()),
});

/** What a Catch puts at `$.error`. */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.optional(z.string()) });

export type Plan = z.infer<typeof PlanSchema>;
export type Status = z.infer<typeof StatusSchema>;
export type Judgement = z.infer<typeof JudgementSchema>;
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

/** The record pair of a plan, or of anything shaped like one (a pair claim). */
export const pairRef = (plan: Pick<Plan, 'hostedZoneId' | 'recordName' | 'recordType'> & { blue: Pick<Plan['blue'], 'setIdentifier'>; green: Pick<Plan['green'], 'setIdentifier'> }) => ({
  hostedZoneId: plan.hostedZoneId,
  recordName: plan.recordName,
  recordType: plan.recordType,
  blueSetIdentifier: plan.blue.setIdentifier,
  greenSetIdentifier: plan.green.setIdentifier,
});

/**
 * Parses a task's input. The state machine builds these inputs itself, so a mismatch is a
 * bug in the definition: it fails loudly (and, after the first shift, leads to rollback).
 */
export function parseTaskInput<T extends z.ZodMiniType>(schema: T, input: unknown, task: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  return fail('MalformedEvent', `${task} got an input it cannot read: ${issue.path.join('.') || '(input)'}: ${issue.message}`);
}

/** Lambda puts {errorType, errorMessage, trace} JSON in Cause; other errors carry plain text. */
export function errorText(error: CaughtError): string {
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // plain text
  }
  return message ? `${error.Error}: ${message}` : error.Error;
}

export const stepLabel = (status: Status) =>
  status.step === 0 ? 'before the first shift' : `step ${status.step} of ${status.of} (green ${status.greenPercent} %)`;
