import { pairRef, type AnalysisFigures, type Plan, type Status } from './canary-state.js';
import { fail } from './errors.js';
import { notificationDetail, type NotificationDetail, type NotificationType } from './notify.js';
import type { CanaryClaims, PairClaim, StopRequest } from './pair-lock.js';
import type { PairRef } from './record-pair.js';
import { ALL_BLUE, ALL_GREEN, formatWeights, sameWeights, weightsFor, type Weights } from './schedule.js';
import type { TrafficReader, TrafficRouter } from './traffic/router.js';

/** Answers to parked tasks (Step Functions task tokens); false when the token no longer waits. */
export interface Signals {
  succeed(token: string, output: unknown): Promise<boolean>;
  fail(token: string, error: string, cause: string): Promise<boolean>;
}

/** Sends a notification (EventBridge on AWS); false when it could not (notifications never decide anything). */
export interface Notifier {
  notify(type: NotificationType, detail: NotificationDetail): Promise<boolean>;
}

/**
 * What the canary works with, injected. Each Task handler passes only what its operations use
 * (its bundle then holds, and its role grants, nothing else); the CLI passes everything.
 */
export interface CanaryDeps {
  claims: CanaryClaims;
  /** Moves traffic (shift, roll back). */
  router?: (ref: PairRef) => TrafficRouter;
  /** Only looks (promote). */
  reader?: (ref: PairRef) => TrafficReader;
  signals?: Partial<Signals>;
  notifier?: Notifier;
  clock?: () => number;
}

const need = <T>(dep: T | undefined, what: string): T => {
  if (dep === undefined) throw new Error(`the canary was built without ${what}`);
  return dep;
};

/** What an operator (or an event) asked for, and what came of it. */
export interface ActionResult {
  pair: string;
  action: 'abort' | 'reject' | 'approve' | 'promote' | 'stop';
  executionArn: string;
  /** The run was woken at once (its parked task answered); otherwise its next judgement sees the request. */
  woken: boolean;
  message: string;
}

/**
 * The canary's decisions about a pair, shared by the Task handlers and the operator's CLI:
 * shift with the drift guard, roll back, promote, park a task token, and the operator's
 * abort, reject, approve and promote. Every decision about who may act goes through a
 * conditional write of the pair's claim, so racing actors get exactly one winner.
 */
export class Canary {
  constructor(private deps: CanaryDeps) {}

  private router(of: Pick<Plan, 'pair' | 'executionArn' | 'hostedZoneId' | 'recordName' | 'recordType' | 'dnsRole' | 'blue' | 'green'>): TrafficRouter {
    return need(this.deps.router, 'a traffic router')(pairRef(of));
  }

  private get signals(): Partial<Signals> {
    return need(this.deps.signals, 'signals');
  }

  private now(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  /**
   * The next step of the schedule (or the last one, when an operator asked to promote): drift
   * guard, one change. A shift that lands while the run is being stopped (an alarm, an abort,
   * the safety net) puts blue back itself, so traffic is never left split behind a rollback
   * that already ran.
   */
  async shift(plan: Plan, status: Status, claim: PairClaim | undefined): Promise<Status> {
    if (!claim || claim.executionArn !== plan.executionArn || claim.phase !== 'CANARY' || claim.stopRequested)
      return fail('ClaimLost', `this canary no longer holds pair ${plan.pair} as a running canary (${claim ? `${claim.phase}${claim.stopRequested ? `, stop asked: ${claim.stopRequested.cause}` : ''}` : 'released'}); not shifting`);
    const step = claim.promoteRequested ? plan.steps.length : status.step + 1;
    const greenPercent = plan.steps[step - 1];
    if (greenPercent === undefined) return fail('MalformedEvent', `Shift traffic called after the last step (${status.step} of ${status.of})`);
    const target = weightsFor(greenPercent);
    const router = this.router(plan);
    // A retry of this very step may find its own earlier write: that is not drift.
    const shiftedAt = new Date().toISOString();
    const { changeId } = await router.set(target, [status.weights, target], `${plan.pair} step ${step}/${plan.steps.length}`);
    const after = await this.deps.claims.read(plan.pair);
    if (!after || (after.executionArn === plan.executionArn && (after.phase !== 'CANARY' || after.stopRequested))) {
      await putBlueBack(router, `${plan.pair} shift undone: the run is being stopped`);
      fail('ClaimLost', `the run was stopped while shifting to step ${step}; blue 100 / green 0 put back`);
    }
    return { step, of: plan.steps.length, greenPercent, weights: target, changeId: changeId ?? status.changeId, shiftedAt };
  }

  /**
   * Blue 100 / green 0 and INSYNC, then RolledBack with the reason. Fences the run off first
   * (claim ROLLING_BACK): a shift still in flight finds it. Leaves DNS alone when another
   * canary holds the pair now.
   */
  async rollBack(plan: Plan, why: string, analysis?: AnalysisFigures): Promise<{ reason: string; from: Weights | null; changeId: string | null; notified: boolean }> {
    const claim = await this.deps.claims.read(plan.pair);
    if (claim && claim.executionArn !== plan.executionArn)
      return { reason: `${why} (DNS not touched: pair now held by ${claim.executionArn})`, from: null, changeId: null, notified: false };
    if (claim) await this.deps.claims.markRollingBack(plan.pair, plan.executionArn);
    const router = this.router(plan);
    const { from, changeId } = await putBlueBack(router, `${plan.pair} rolled back`);
    const step = plan.steps.indexOf(Math.round((from.green / Math.max(1, from.blue + from.green)) * 100)) + 1;
    const where = from.green === 0 ? 'before any traffic reached green' : step > 0 ? `step ${step} of ${plan.steps.length} (green ${plan.steps[step - 1]} %)` : `green at ${formatWeights(from)}`;
    const reason = `${where}: ${why}`.slice(0, 2000);
    const notified = await need(this.deps.notifier, 'a notifier').notify(
      'RolledBack',
      { ...notificationDetail(plan, { step: Math.max(0, step), of: plan.steps.length, greenPercent: 0, weights: ALL_BLUE }, reason), ...(analysis ? { analysis } : {}), ...(claim?.progress?.analysis ? { figures: claim.progress.analysis } : {}) },
    );
    return { reason, from, changeId, notified };
  }

  /**
   * Green has 100 %: DNS must still say so, then the claim goes PROMOTING (only while nobody
   * asked the run to stop: an abort racing the promotion loses or wins as a whole) and the
   * listener is told to stop listening.
   */
  async promote(plan: Plan, status: Status): Promise<void> {
    const weights = await (this.deps.reader ?? need(this.deps.router, 'a traffic reader'))(pairRef(plan)).read();
    if (!sameWeights(weights, ALL_GREEN))
      fail('WeightsChangedOutside', `DNS has ${formatWeights(weights)} but the canary last wrote ${formatWeights(status.weights)}`);
    const before = await this.deps.claims.read(plan.pair);
    if (before?.stopRequested) fail('ClaimLost', `the canary was asked to stop (${before.stopRequested.error}: ${before.stopRequested.cause}); not promoting`);
    const claim = await this.deps.claims.markPromoting(plan.pair, plan.executionArn);
    if (!claim) fail('ClaimLost', `this canary no longer holds pair ${plan.pair} as a running canary (stopped, stopping, expired or taken over); not promoting`);
    if (claim!.listenToken) await need(this.signals.succeed, 'SendTaskSuccess')(claim!.listenToken, { promoted: true });
  }

  /**
   * Keeps a parked task's token with the claim (the listener's for the whole canary, or a
   * gate's). When what it waits for has already happened, it answers at once: a stop asked for
   * fails it, a promotion (or this gate's approval) succeeds it.
   */
  async park(pair: string, executionArn: string, slot: 'listen' | 'gate', step: number, token: string): Promise<'PARKED' | 'ANSWERED'> {
    const parked = await this.deps.claims.parkToken(pair, executionArn, slot, token);
    const claim = parked ?? (await this.deps.claims.read(pair));
    const ours = claim?.executionArn === executionArn;
    if (!ours || claim.stopRequested || claim.phase === 'ROLLING_BACK' || claim.phase === 'STOPPED') {
      const stop: Pick<StopRequest, 'error' | 'cause'> = claim?.stopRequested ?? { error: 'ClaimLost', cause: `this canary no longer holds pair ${pair} as a running canary` };
      await need(this.signals.fail, 'SendTaskFailure')(token, stop.error, stop.cause);
      return 'ANSWERED';
    }
    const done = slot === 'listen' ? claim.phase === 'PROMOTING' : claim.approved?.step === step || Boolean(claim.promoteRequested);
    if (done) {
      await need(this.signals.succeed, 'SendTaskSuccess')(token, { answeredAt: this.now() });
      return 'ANSWERED';
    }
    return 'PARKED';
  }

  /** The running claim of a pair (`known`: as the caller just read it), or the named refusal an operator gets. */
  private async running(pair: string, known?: PairClaim | null): Promise<PairClaim> {
    const claim = known === undefined ? await this.deps.claims.read(pair) : (known ?? undefined);
    if (!claim) return fail('PairIdle', `no canary is running on pair ${pair}`);
    if (claim.phase !== 'CANARY' || claim.stopRequested)
      return fail('CanaryEnding', `the canary on pair ${pair} is ${claim.stopRequested ? `stopping (${claim.stopRequested.error}: ${claim.stopRequested.cause})` : claim.phase.toLowerCase().replace('_', ' ')}: too late for that`);
    return claim;
  }

  /**
   * Stops the run now and rolls it back: an alarm or ECS event (the signal function), or an
   * operator's abort or reject. The first stop asked for wins; the listener's task is failed
   * with `stop.error`, which ends the canary's Parallel and starts its rollback. `known`: the
   * claim as the caller just read it (the conditional write still decides).
   */
  async stop(pair: string, stop: Omit<StopRequest, 'at'>, action: ActionResult['action'] = 'stop', known?: PairClaim): Promise<ActionResult> {
    const claim = await this.running(pair, known);
    const asked = await this.deps.claims.requestStop(pair, claim.executionArn, { ...stop, at: this.now() });
    if (!asked) return this.stop(pair, stop, action); // raced: the claim changed; look again (refuses with a named error)
    const woken = asked.listenToken ? await need(this.signals.fail, 'SendTaskFailure')(asked.listenToken, stop.error, stop.cause) : false;
    return { pair, action, executionArn: claim.executionArn, woken, message: `${stop.error}: ${stop.cause}` };
  }

  abort(pair: string, by: string): Promise<ActionResult> {
    return this.stop(pair, { error: 'AbortedByOperator', cause: `aborted by ${by}`, by }, 'abort');
  }

  async reject(pair: string, by: string): Promise<ActionResult> {
    const claim = await this.running(pair);
    if (claim.progress?.gate !== 'WAITING') fail('NotAtGate', `the canary on pair ${pair} is not waiting for approval (${describeProgress(claim)})`);
    return this.stop(pair, { error: 'RejectedByOperator', cause: `rejected by ${by} at green ${claim.progress!.greenPercent} %`, by }, 'reject');
  }

  async approve(pair: string, by: string): Promise<ActionResult> {
    const claim = await this.running(pair);
    if (claim.progress?.gate !== 'WAITING') fail('NotAtGate', `the canary on pair ${pair} is not waiting for approval (${describeProgress(claim)})`);
    const step = claim.progress!.step;
    const approved = await this.deps.claims.approve(pair, claim.executionArn, { step, by, at: this.now() });
    if (!approved) return this.approve(pair, by);
    const woken = approved.gateToken ? await need(this.signals.succeed, 'SendTaskSuccess')(approved.gateToken, { approvedBy: by }) : false;
    return { pair, action: 'approve', executionArn: claim.executionArn, woken, message: `approved by ${by} at green ${claim.progress!.greenPercent} %` };
  }

  /** Skips the remaining bakes: after the next healthy judgement green goes to 100 %, is judged once more, and is promoted. */
  async requestPromotion(pair: string, by: string): Promise<ActionResult> {
    const claim = await this.running(pair);
    const asked = await this.deps.claims.requestPromotion(pair, claim.executionArn, { by, at: this.now() });
    if (!asked) return this.requestPromotion(pair, by);
    // At a gate the run is parked: wake it (a promotion approves the gate too).
    const woken = asked.gateToken && asked.progress?.gate === 'WAITING' ? await need(this.signals.succeed, 'SendTaskSuccess')(asked.gateToken, { promoteRequestedBy: by }) : false;
    return { pair, action: 'promote', executionArn: claim.executionArn, woken, message: `promotion asked by ${by}: green goes to 100 % after its next healthy judgement` };
  }
}

/** Blue 100 / green 0 whatever DNS holds now, applied (INSYNC) before it returns. */
async function putBlueBack(router: TrafficRouter, why: string): Promise<{ from: Weights; changeId: string | null }> {
  const done = await router.set(ALL_BLUE, 'any', why);
  if (done.changeId) await router.waitApplied(done.changeId);
  return done;
}

/** The exact commands that answer a gate (in AwaitingApproval, and in `status`). */
export const gateCommands = (pair: string) => ({ approve: `npx ecs-dns-canary approve ${pair}`, reject: `npx ecs-dns-canary reject ${pair}` });

function describeProgress(claim: PairClaim): string {
  const p = claim.progress;
  if (!p) return `${claim.phase.toLowerCase()}, before the first shift`;
  return `step ${p.step} of ${p.of}, green ${p.greenPercent} %${p.gate ? `, gate ${p.gate.toLowerCase()}` : ''}`;
}
