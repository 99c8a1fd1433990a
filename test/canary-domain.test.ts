import { describe, expect, it } from 'vitest';
import { Canary } from '../functions/lib/canary.js';
import type { Plan, Status } from '../functions/lib/canary-state.js';
import { canaryClaims, readClaim } from '../functions/lib/pair-lock.js';
import type { Weights } from '../functions/lib/schedule.js';
import type { TrafficRouter } from '../functions/lib/traffic/router.js';
import { judgementAfter } from '../functions/lib/judge.js';
import { LOCAL_RESOURCES } from '../local/stack.js';
import { world } from './helpers.js';

const TABLE = LOCAL_RESOURCES.claimsTable;
const RUN = 'arn:aws:states:eu-west-1:123456789012:execution:ecs-dns-canary-prod:shop-web--1';

/** The canary domain on the simulated account's claims table (real conditional writes), with a router and signals that record. */
function domain(weights: Weights = { blue: 100, green: 0 }) {
  const w = world();
  w.seedClaim(RUN);
  const answered: string[] = [];
  const notices: { type: string; detail: object }[] = [];
  let now = weights;
  const writes: Weights[] = [];
  const router = (): TrafficRouter => ({
    read: async () => now,
    set: async (target, expected) => {
      if (expected !== 'any' && !expected.some((e) => e.blue === now.blue && e.green === now.green)) throw Object.assign(new Error('drift'), { name: 'WeightsChangedOutside' });
      const from = now;
      if (from.blue === target.blue && from.green === target.green) return { from, changeId: null };
      writes.push(target);
      now = target;
      return { from, changeId: `C${writes.length}` };
    },
    waitApplied: async () => undefined,
    cacheSeconds: async (min) => min,
  });
  const canary = new Canary({
    claims: canaryClaims(TABLE),
    router,
    signals: { succeed: async (token) => (answered.push(`succeed ${token}`), true), fail: async (token, error) => (answered.push(`fail ${token} ${error}`), true) },
    notifier: { notify: async (type, detail) => (notices.push({ type, detail }), true) },
    clock: Date.now,
  });
  const run = <T>(p: Promise<T>) => w.clock.run(p);
  const claim = () => run(readClaim('shop-web', TABLE));
  return { w, canary, answered, notices, writes, run, claim, weights: () => now };
}

const plan = { pair: 'shop-web', executionArn: RUN, steps: [10, 25, 50, 100], hostedZoneId: 'Z0EXAMPLE12345', recordName: 'shop.example.com.', recordType: 'A', blue: { cluster: 'shop', service: 'shop-web-a', setIdentifier: 'shop-web-a' }, green: { cluster: 'shop', service: 'shop-web-b', setIdentifier: 'shop-web-b', taskDefinition: 'td:2' } } as unknown as Plan;
const status = (step: number): Status => ({ step, of: 4, greenPercent: [0, 10, 25, 50, 100][step]!, weights: { blue: 100 - [0, 10, 25, 50, 100][step]!, green: [0, 10, 25, 50, 100][step]! }, changeId: null });

describe('the canary domain: who may act is decided by conditional writes of the claim', () => {
  it('stop: the first ask wins and fails the parked listener with its error; later asks are refused (CanaryEnding)', async () => {
    const d = domain();
    expect(await d.run(d.canary.park('shop-web', RUN, 'listen', 0, 'T-listen'))).toBe('PARKED');
    const first = await d.run(d.canary.stop('shop-web', { error: 'AlarmFired', cause: 'alarm a went to ALARM', by: 'EventBridge' }));
    expect(first).toMatchObject({ woken: true, executionArn: RUN, message: 'AlarmFired: alarm a went to ALARM' });
    expect(d.answered).toEqual(['fail T-listen AlarmFired']);
    await expect(d.run(d.canary.abort('shop-web', 'ann'))).rejects.toMatchObject({ name: 'CanaryEnding' });
    expect((await d.claim())?.stopRequested).toMatchObject({ error: 'AlarmFired' });
  });

  it('no canary: PairIdle', async () => {
    const d = domain();
    await d.run(d.w.lambda('release')({})).catch(() => undefined);
    d.w.sim.dynamodb.deleteItem({ TableName: TABLE, Key: { pair: { S: 'shop-web' } } });
    await expect(d.run(d.canary.abort('shop-web', 'ann'))).rejects.toMatchObject({ name: 'PairIdle' });
  });

  it('abort against promote, abort first: the promotion is refused (ClaimLost, then the run rolls back)', async () => {
    const aborted = domain({ blue: 0, green: 100 });
    await aborted.run(aborted.canary.abort('shop-web', 'ann'));
    await expect(aborted.run(aborted.canary.promote(plan, status(4)))).rejects.toMatchObject({ name: 'ClaimLost' });
    expect((await aborted.claim())?.phase).toBe('CANARY');
  });

  it('abort against promote, promote first: the abort is refused (CanaryEnding)', async () => {
    const promoted = domain({ blue: 0, green: 100 });
    await promoted.run(promoted.canary.promote(plan, status(4)));
    expect((await promoted.claim())?.phase).toBe('PROMOTING');
    await expect(promoted.run(promoted.canary.abort('shop-web', 'ann'))).rejects.toMatchObject({ name: 'CanaryEnding' });
  });

  it('promote ends the listener; a listener that parks after the promotion answers itself', async () => {
    const d = domain({ blue: 0, green: 100 });
    await d.run(d.canary.park('shop-web', RUN, 'listen', 0, 'T1'));
    await d.run(d.canary.promote(plan, status(4)));
    expect(d.answered).toEqual(['succeed T1']);
    expect(await d.run(d.canary.park('shop-web', RUN, 'listen', 0, 'T2'))).toBe('ANSWERED');
    expect(d.answered).toEqual(['succeed T1', 'succeed T2']);
  });

  it('a gate: approve is refused until the gate waits, then records the step and wakes the parked gate', async () => {
    const d = domain({ blue: 50, green: 50 });
    await expect(d.run(d.canary.approve('shop-web', 'ann'))).rejects.toMatchObject({ name: 'NotAtGate' });
    await d.run(d.w.lambda('judgeGreen')({}).catch(() => undefined));
    d.w.sim.dynamodb.updateItem({ TableName: TABLE, Key: { pair: { S: 'shop-web' } }, UpdateExpression: 'SET #p = :p', ExpressionAttributeNames: { '#p': 'progress' }, ExpressionAttributeValues: { ':p': { S: JSON.stringify({ step: 3, of: 4, greenPercent: 50, gate: 'WAITING' }) } } });
    expect(await d.run(d.canary.park('shop-web', RUN, 'gate', 3, 'G1'))).toBe('PARKED');
    expect(await d.run(d.canary.approve('shop-web', 'ann'))).toMatchObject({ woken: true, message: 'approved by ann at green 50 %' });
    expect(d.answered).toEqual(['succeed G1']);
    expect((await d.claim())?.approved).toMatchObject({ step: 3, by: 'ann' });
    // a gate that parks after its approval answers itself
    expect(await d.run(d.canary.park('shop-web', RUN, 'gate', 3, 'G2'))).toBe('ANSWERED');
  });

  it('shift: the next step with the drift guard; after a promote request, straight to the last step', async () => {
    const d = domain({ blue: 90, green: 10 });
    const next = await d.run(d.canary.shift(plan, status(1), await d.claim()));
    expect(next).toMatchObject({ step: 2, greenPercent: 25, weights: { blue: 75, green: 25 } });
    await d.run(d.canary.requestPromotion('shop-web', 'ann'));
    const last = await d.run(d.canary.shift(plan, next, await d.claim()));
    expect(last).toMatchObject({ step: 4, greenPercent: 100 });
    expect(d.writes).toEqual([{ blue: 75, green: 25 }, { blue: 0, green: 100 }]);
  });

  it('shift refuses to write for a run asked to stop', async () => {
    const d = domain({ blue: 90, green: 10 });
    await d.run(d.canary.abort('shop-web', 'ann'));
    await expect(d.run(d.canary.shift(plan, status(1), await d.claim()))).rejects.toMatchObject({ name: 'ClaimLost' });
    expect(d.writes).toEqual([]);
  });

  it('roll back: fences the run (ROLLING_BACK), blue 100, and says which step it left', async () => {
    const d = domain({ blue: 50, green: 50 });
    const r = await d.run(d.canary.rollBack(plan, 'AbortedByOperator: aborted by ann'));
    expect(r).toMatchObject({ reason: 'step 3 of 4 (green 50 %): AbortedByOperator: aborted by ann', from: { blue: 50, green: 50 }, changeId: 'C1', notified: true });
    expect(d.notices).toEqual([{ type: 'RolledBack', detail: expect.objectContaining({ step: 3, of: 4, greenPercent: 0, weights: { blue: 100, green: 0 }, reason: r.reason }) }]);
    expect(d.weights()).toEqual({ blue: 100, green: 0 });
    expect((await d.claim())?.phase).toBe('ROLLING_BACK');
  });
});

describe('judgementAfter: the bake and the gate', () => {
  const gated = { ...plan, bakeSeconds: 120, approval: { atPercent: [50], timeoutSeconds: 600, onTimeout: 'rollback' as const } } as Plan;
  const t0 = Date.parse('2026-11-23T10:00:00Z');
  const claim = (extra = {}) => ({ executionArn: RUN, pair: 'shop-web', ...extra }) as never;

  it('not at a gate: NONE; the bake completes at its end', () => {
    const first = judgementAfter(gated, status(2), null, [], claim(), t0);
    expect(first).toMatchObject({ gate: 'NONE', bakeComplete: false, checks: 1 });
    expect(judgementAfter(gated, status(2), first, [], claim(), t0 + 120_000)).toMatchObject({ gate: 'NONE', bakeComplete: true, checks: 2 });
  });

  it('at a gate: WAITING once baked, APPROVED when the claim says so, TIMED_OUT (unhealthy) after timeoutSeconds', () => {
    const baked = judgementAfter(gated, status(3), judgementAfter(gated, status(3), null, [], claim(), t0), [], claim(), t0 + 120_000);
    expect(baked).toMatchObject({ gate: 'WAITING', verdict: 'HEALTHY', gateOpenedAt: new Date(t0 + 120_000).toISOString() });
    expect(judgementAfter(gated, status(3), baked, [], claim({ approved: { step: 3 } }), t0 + 180_000)).toMatchObject({ gate: 'APPROVED', bakeComplete: true });
    const late = judgementAfter(gated, status(3), baked, [], claim(), t0 + 720_000);
    expect(late).toMatchObject({ gate: 'TIMED_OUT', verdict: 'UNHEALTHY' });
    expect(late.reason).toBe('ApprovalTimedOut: no approval within 600 s at green 50 % (onTimeout: rollback)');
    const promoting = { ...gated, approval: { ...gated.approval!, onTimeout: 'promote' as const } };
    expect(judgementAfter(promoting, status(3), baked, [], claim(), t0 + 720_000)).toMatchObject({ gate: 'APPROVED', verdict: 'HEALTHY' });
  });

  it('unhealthy at a gate: the reasons, no gate; a stop asked for is a reason; a promote request completes the bake', () => {
    expect(judgementAfter(gated, status(3), null, ['metric alarm a is in ALARM'], claim(), t0)).toMatchObject({ verdict: 'UNHEALTHY', gate: 'NONE', reason: 'metric alarm a is in ALARM' });
    expect(judgementAfter(gated, status(2), null, [], claim({ stopRequested: { error: 'AbortedByOperator', cause: 'aborted by ann' } }), t0).reason).toBe('AbortedByOperator: aborted by ann');
    expect(judgementAfter(gated, status(3), null, [], claim({ promoteRequested: { by: 'ann' } }), t0)).toMatchObject({ bakeComplete: true, gate: 'NONE', promoteRequested: true });
  });

  it('INCONCLUSIVE at maxBakeSeconds: onInconclusive for missing data; a step held only by leaning evidence passes', () => {
    const verdict = (leaningOnly: boolean) => ({ outcome: 'INCONCLUSIVE' as const, reasons: ['why'], mode: 'enforce' as const, maxBakeSeconds: 600, onInconclusive: 'rollback' as const, leaningOnly });
    for (const leaningOnly of [false, true]) {
      const first = judgementAfter(gated, status(2), null, [], claim(), t0, verdict(leaningOnly));
      expect(first).toMatchObject({ verdict: 'INCONCLUSIVE', bakeComplete: false });
      // past the 120 s bake, before maxBakeSeconds: the bake goes on either way
      expect(judgementAfter(gated, status(2), first, [], claim(), t0 + 300_000, verdict(leaningOnly))).toMatchObject({ verdict: 'INCONCLUSIVE', bakeComplete: false });
      const end = judgementAfter(gated, status(2), first, [], claim(), t0 + 600_000, verdict(leaningOnly));
      if (leaningOnly) {
        expect(end).toMatchObject({ verdict: 'INCONCLUSIVE', bakeComplete: true });
        expect(end.giveUp).toBeUndefined();
      } else expect(end.giveUp).toBe('no verdict on green after 600 s at 25 % (maxBakeSeconds 600): why');
    }
  });
});
