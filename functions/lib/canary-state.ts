import * as z from 'zod/mini';
import './zod.js';
import type { RecordRef } from './aws/route53.js';
import { sessionName, type SideAccess } from './access.js';
import { AnalysisSchema, dnsRoleOf, type PairConfig } from './config.js';
import { fail } from './errors.js';

/**
 * The document the state machine carries from state to state. The console shows it after
 * every state, so it is small and reads on its own: the plan fixed by Preflight, where the
 * canary is now (`status`) and the latest judgement of green.
 */
const WeightsSchema = z.strictObject({ blue: z.int(), green: z.int() });
const TargetGroupRef = z.strictObject({ targetGroup: z.string(), loadBalancer: z.nullable(z.string()), type: z.enum(['application', 'network', 'gateway', 'none']) });
/** A side: its service, its record, its own alarms, and the target groups Preflight resolved from ECS and ELBv2. */
const Side = z.strictObject({
  cluster: z.string(),
  service: z.string(),
  setIdentifier: z.string(),
  alarms: z.optional(z.array(z.string())),
  targetGroups: z.optional(z.array(TargetGroupRef)),
  /** Where the side runs when it is not the stack's region or account (config services[].region, roleArn, externalId). */
  region: z.optional(z.string()),
  roleArn: z.optional(z.string()),
  externalId: z.optional(z.string()),
});
/** How the judge compares green with blue: the pair's `analysis` (config.ts), with what Preflight found the sides allow. */
export const PlanAnalysisSchema = z.extend(AnalysisSchema, {
  /** Both sides have ALB target groups: requests, target 5xx and p99 are read per side. */
  builtIn: z.boolean(),
  /** Each side has its own load balancers: their own 5xx count as the side's errors. */
  ownLoadBalancers: z.boolean(),
});

export const PlanSchema = z.strictObject({
  pair: z.string(),
  deploymentId: z.string(),
  executionArn: z.string(),
  hostedZoneId: z.string(),
  recordName: z.string(),
  recordType: z.string(),
  /** The zone is in another account: every Route53 call of the run assumes this role there (config dnsRoleArn, dnsExternalId). */
  dnsRole: z.optional(z.strictObject({ roleArn: z.string(), externalId: z.optional(z.string()) })),
  blue: Side,
  green: z.extend(Side, { taskDefinition: z.string() }),
  /** The alarms judged and listened to: the pair's and green's own. */
  alarms: z.array(z.string()),
  /** Green against blue from each side's metrics; absent when off or when nothing can be read. */
  analysis: z.optional(PlanAnalysisSchema),
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
  /** When the weights of this step were written (absent before the first shift). */
  shiftedAt: z.optional(z.string()),
});

const SideFiguresSchema = z.strictObject({ requests: z.number(), errors: z.number(), ratePercent: z.nullable(z.number()), p99Ms: z.nullable(z.number()) });

/** The numbers a verdict rests on (analysis.ts `Analysis`, less the per-test detail). */
export const AnalysisFiguresSchema = z.strictObject({
  outcome: z.enum(['HEALTHY', 'UNHEALTHY', 'INCONCLUSIVE']),
  mode: z.enum(['enforce', 'observe']),
  reasons: z.array(z.string()),
  minutes: z.int(),
  stepMinutes: z.int(),
  blue: SideFiguresSchema,
  green: SideFiguresSchema,
  step: z.strictObject({ greenPercent: z.number(), greenRequests: z.number(), sharePercent: z.nullable(z.number()) }),
  eValue: z.number(),
  thresholds: z.strictObject({
    alpha: z.number(),
    eValue: z.number(),
    errorRatio: z.number(),
    errorFloorPercent: z.number(),
    minRequests: z.number(),
    minShareOfWeight: z.number(),
    latencyRatio: z.nullable(z.number()),
    latencyFloorMs: z.nullable(z.number()),
  }),
  incidentMinutes: z.int(),
  /** INCONCLUSIVE only because the evidence leans against green: at maxBakeSeconds the step passes. */
  leaningOnly: z.boolean(),
  /** The weight changes so far (the judge needs them to know each minute's weight). */
  shifts: z.array(z.strictObject({ greenPercent: z.int(), at: z.string() })),
  /** Observe mode: the first verdict that would have rolled back (step and reasons), kept to the end. */
  wouldRollBack: z.optional(z.strictObject({ step: z.int(), greenPercent: z.int(), reason: z.string() })),
});

export const JudgementSchema = z.strictObject({
  step: z.int(),
  verdict: z.enum(['HEALTHY', 'UNHEALTHY', 'INCONCLUSIVE']),
  reasons: z.array(z.string()),
  /** What is worth knowing but decides nothing: alarms with no data, blue's own alarms. */
  notes: z.optional(z.array(z.string())),
  /** Green against blue, with the numbers (absent when the pair has no analysis). */
  analysis: z.optional(AnalysisFiguresSchema),
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
export type PlanAnalysis = z.infer<typeof PlanAnalysisSchema>;
export type AnalysisFigures = z.infer<typeof AnalysisFiguresSchema>;

/** What observe mode would have done, in one line (the claim, `status` and `history`). */
export const wouldRollBackLine = (w: NonNullable<AnalysisFigures['wouldRollBack']>) => `would have rolled back at step ${w.step} (green ${w.greenPercent} %): ${w.reason}`;

/**
 * The record pair of a plan, or of anything shaped like one (a pair claim), and how to reach it:
 * through the pair's DNS role when it names one, in an STS session named for the pair and `who`
 * (the run's execution unless said otherwise).
 */
export const pairRef = (
  plan: Pick<Plan, 'pair' | 'executionArn' | 'hostedZoneId' | 'recordName' | 'recordType' | 'dnsRole'> & { blue: Pick<Plan['blue'], 'setIdentifier'>; green: Pick<Plan['green'], 'setIdentifier'> },
  who: string = plan.executionArn,
): RecordRef & { blueSetIdentifier: string; greenSetIdentifier: string } => ({
  hostedZoneId: plan.hostedZoneId,
  recordName: plan.recordName,
  recordType: plan.recordType,
  blueSetIdentifier: plan.blue.setIdentifier,
  greenSetIdentifier: plan.green.setIdentifier,
  access: { ...(plan.dnsRole ? { role: plan.dnsRole } : {}), session: sessionName(plan.pair, who) },
});

/**
 * How a side's ECS, ELBv2 and CloudWatch calls reach it: in its region, through its role when it
 * is in another account, in an STS session named for the pair and `who`; undefined for a side in
 * the stack's own place.
 */
export function sideAccess(pair: string, side: { region?: string; roleArn?: string; externalId?: string }, who: string): SideAccess | undefined {
  if (!side.region && !side.roleArn) return undefined;
  return {
    ...(side.region ? { region: side.region } : {}),
    ...(side.roleArn ? { role: { roleArn: side.roleArn, ...(side.externalId ? { externalId: side.externalId } : {}) } } : {}),
    session: sessionName(pair, who),
  };
}

/**
 * The alarms a run reads, by where they live: the pair's in the stack's place, each side's own
 * where that side runs (green's are judged; blue's are only shown).
 */
export function alarmsByPlace(plan: Pick<Plan, 'pair' | 'executionArn' | 'alarms' | 'blue' | 'green'>): { names: string[]; access?: SideAccess }[] {
  const green = plan.green.alarms ?? [];
  return [
    { names: plan.alarms.filter((a) => !green.includes(a)) },
    { names: green, access: sideAccess(plan.pair, plan.green, plan.executionArn) },
    { names: plan.blue.alarms ?? [], access: sideAccess(plan.pair, plan.blue, plan.executionArn) },
  ].map((g) => (g.access ? g : { names: g.names }));
}

/** The operator's STS session in a DNS account: `cli@<user>`. */
export const operatorSession = (user = process.env.USER) => `cli@${user || 'operator'}`;

/** A configured pair's records as the operator's CLI reads them: `who` names the STS session (operatorSession). */
export const configuredPairRef = (pair: PairConfig, sides: { blue: { setIdentifier: string }; green: { setIdentifier: string } }, who = operatorSession()) => {
  const dnsRole = dnsRoleOf(pair);
  return pairRef({ ...pair, pair: pair.name, executionArn: who, ...(dnsRole ? { dnsRole } : {}), ...sides }, who);
};

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
