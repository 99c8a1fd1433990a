import { describe, expect, it } from 'vitest';
import type { TaskHandler } from '../local/step-functions.js';
import type { World } from '../local/world.js';
import { greenSequence, weightsOf, world } from './helpers.js';

const ALL_BLUE = { blue: 100, green: 0 };
const ALL_GREEN = { blue: 0, green: 100 };
const STEPS = [10, 25, 50, 100];
const ALARM = 'shop-web-5xx-rate';

/** Fires the alarm `delayMs` after green reaches `percent`; resolves to the virtual time it fired. */
function alarmAt(w: World, percent: number, delayMs: number): Promise<number> {
  return new Promise((resolve) => w.whenGreenReaches(percent, () => (w.sim.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed'), resolve(Date.now())), delayMs));
}

/** Virtual ms from `at` to the first change batch after it that sets green to 0 (the rollback). */
function toRollback(w: World, at: number): number {
  const green = w.green.setIdentifier;
  const change = w.sim.route53.applied.slice(1).find((c) => c.at >= at && c.changes.some((x) => x.ResourceRecordSet?.SetIdentifier === green && x.ResourceRecordSet.Weight === 0));
  if (!change) throw new Error('no rollback change batch after the alarm');
  return change.at - at;
}

describe('an alarm stops the canary at once (the signal function fails the listener)', () => {
  // 5 s after a shift: the change is not INSYNC yet; 70 s: the DNS wait; 150 s: the bake.
  it.each(STEPS.flatMap((percent) => [5_000, 70_000, 150_000].map((delay) => ({ percent, delay }))))('at $percent % (+$delay ms): rollback within 5 s of the state change', async ({ percent, delay }) => {
    const w = world();
    const fired = alarmAt(w, percent, delay);
    const [result] = await w.runCanary();
    const at = await fired;
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(new RegExp(`AlarmFired: alarm ${ALARM} went to ALARM`));
    expect(toRollback(w, at)).toBeLessThanOrEqual(5_000);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(w.claim()).toBeUndefined();
    // never split behind the rollback: the last change batch is all blue
    expect(greenSequence(w.sim, w.pair).at(-1)).toBe(0);
  });

  it("green's tasks failing to start (ECS Service Action) stops it too", async () => {
    const w = world();
    w.whenGreenReaches(25, () =>
      w.canary.publish({
        source: 'aws.ecs',
        'detail-type': 'ECS Service Action',
        resources: [`arn:aws:ecs:eu-west-1:123456789012:service/shop/${w.green.service}`],
        detail: { eventName: 'SERVICE_TASK_START_IMPAIRED' },
      }),
    30_000);
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/GreenTasksFailing: shop\/shop-web-b: SERVICE_TASK_START_IMPAIRED/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('an alarm with no canary running changes nothing', async () => {
    const w = world();
    const writes = w.route53Writes();
    w.sim.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed');
    const [signal] = w.canary.signals;
    expect(await w.clock.run(signal!.outcome)).toEqual({ pairs: [{ pair: 'shop-web', outcome: 'NO_CANARY', detail: 'no canary is running on this pair' }] });
    expect(w.route53Writes()).toBe(writes);
    expect(w.claim()).toBeUndefined();
    expect(w.sim.events).toEqual([]);
  });

  it('an ECS event of the live side (not green) changes nothing', async () => {
    const w = world();
    w.whenGreenReaches(25, () => w.sim.ecs.failDeployment('shop', 'shop-web-a', 'tasks failed to start'), 30_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(await Promise.all(w.canary.signals.map((s) => s.outcome))).toContainEqual({ pairs: [expect.objectContaining({ outcome: 'NOT_GREEN' })] });
  });

  it('a lost alarm event: the next poll rolls back (later, but it does)', async () => {
    // exact times: the alarm 150 s into the step falls 5+ s before the next poll only without AWS's latencies
    const w = world({ latency: false, start: { loseSignalEvents: true } });
    const fired = alarmAt(w, 50, 150_000);
    const [result] = await w.runCanary();
    const at = await fired;
    expect(result!.cause).toMatch(/step 3 of 4 \(green 50 %\): metric alarm shop-web-5xx-rate is in ALARM: Threshold Crossed/);
    const ms = toRollback(w, at);
    expect(ms).toBeGreaterThan(5_000);
    expect(ms).toBeLessThanOrEqual(w.pair.pollSeconds * 1000 + 5_000);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });
});

const GATE = { approval: { atPercent: [50], timeoutSeconds: 600, onTimeout: 'rollback' as const } };

/**
 * Resolves when the run has sent AwaitingApproval and its gate's task token is parked with the
 * claim (what `approve` wakes), checked every virtual second.
 */
const awaitingApproval = (w: World) =>
  new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (w.sim.events.some((e) => e.detailType === 'AwaitingApproval') && w.claim()?.gateToken) (clearInterval(timer), resolve());
    }, 1_000);
  });

describe('manual gates', () => {
  it('holds the weights, says how to answer, and goes on when approved', async () => {
    const w = world({ pair: GATE });
    const answered = awaitingApproval(w).then(async () => {
      const status = await w.operator('status', 'shop-web', '--json');
      expect(status.json).toMatchObject({ state: 'AWAITING_APPROVAL', step: 3, greenPercent: 50, gate: { state: 'WAITING', approve: 'npx ecs-dns-canary approve shop-web' } });
      await w.clock.advance(120_000); // held for two minutes: still 50 %, still judged
      expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 50, green: 50 });
      return w.operator('approve', 'shop-web', '--by', 'alice', '--json');
    });
    const [result] = await w.runCanary();
    const approval = await answered;
    expect(approval).toMatchObject({ code: 0, json: { action: 'approve', woken: true, message: 'approved by alice at green 50 %' } });
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
    const notice = w.sim.events.find((e) => e.detailType === 'AwaitingApproval')!;
    expect(notice.detail).toMatchObject({ greenPercent: 50, commands: { approve: 'npx ecs-dns-canary approve shop-web', reject: 'npx ecs-dns-canary reject shop-web' } });
  });

  it('reject rolls back at once', async () => {
    const w = world({ pair: GATE });
    const rejected = awaitingApproval(w).then(() => w.operator('reject', 'shop-web', '--by', 'bob'));
    const [result] = await w.runCanary();
    expect((await rejected).code).toBe(0);
    expect(result!.cause).toMatch(/step 3 of 4 \(green 50 %\): RejectedByOperator: rejected by bob at green 50 %/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('no answer within timeoutSeconds: onTimeout rollback rolls back, naming the timeout', async () => {
    const w = world({ pair: GATE });
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/ApprovalTimedOut: no approval within 600 s at green 50 % \(onTimeout: rollback\)/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('no answer within timeoutSeconds: onTimeout promote goes on', async () => {
    const w = world({ pair: { approval: { ...GATE.approval, onTimeout: 'promote' } } });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
  });

  it('an alarm while waiting at the gate rolls back at once', async () => {
    const w = world({ pair: GATE });
    let at = 0;
    void awaitingApproval(w).then(() => setTimeout(() => ((at = Date.now()), w.sim.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed')), 45_000));
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/AlarmFired/);
    expect(toRollback(w, at)).toBeLessThanOrEqual(5_000);
  });

  it('a lost alarm event while waiting at the gate: green is still judged, and rolled back', async () => {
    const w = world({ pair: GATE, start: { loseSignalEvents: true } });
    void awaitingApproval(w).then(() => setTimeout(() => w.sim.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed'), 45_000));
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/green 50 %\): metric alarm shop-web-5xx-rate is in ALARM/);
  });
});

describe('the CLI in every state', () => {
  const refusals = async (w: World, expected: Record<string, string>) => {
    for (const [command, error] of Object.entries(expected)) {
      const r = await w.operator(command, 'shop-web', '--json');
      expect({ command, code: r.code, error: r.json?.error }).toEqual({ command, code: 2, error });
    }
  };

  it('idle: status says so; every action is refused with PairIdle (exit 2); an unknown pair with UnknownPair', async () => {
    const w = world();
    const status = await w.operator('status', '--json');
    expect(status).toMatchObject({ code: 0, json: { pairs: [{ pair: 'shop-web', state: 'IDLE', weights: ALL_BLUE, blue: 'shop-web-a', green: 'shop-web-b' }] } });
    await refusals(w, { abort: 'PairIdle', promote: 'PairIdle', approve: 'PairIdle', reject: 'PairIdle', watch: 'PairIdle' });
    const unknown = await w.operator('abort', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('UnknownPair: no pair nope in canary.config.ts (pairs: shop-web)');
    expect((await w.operator('frobnicate')).code).toBe(2);
    expect((await w.operator('abort')).err).toContain('UsageError: abort needs a pair');
  });

  it('running: status shows the step, the verdict and the bake; approve and reject are refused (NotAtGate); abort rolls back at once', async () => {
    const w = world();
    const checked = new Promise<{ code: number; json?: any }>((resolve) =>
      w.whenGreenReaches(25, async () => {
        const status = await w.operator('status', 'shop-web', '--json');
        await refusals(w, { approve: 'NotAtGate', reject: 'NotAtGate' });
        // 100 s into the step no minute of it has settled: no verdict yet, and the bake goes on
        expect(status.json).toMatchObject({ state: 'RUNNING', step: 2, of: 4, greenPercent: 25, weights: { blue: 75, green: 25 }, verdict: 'INCONCLUSIVE' });
        expect(status.json.reasons.join(' ')).toMatch(/no settled minute of green at 25 % yet/);
        expect(status.json.analysis).toMatch(/^green \d+\/[\d,]+ .*; blue \d+\/[\d,]+ .*e-value/);
        expect(status.json.bakeSecondsLeft).toBeGreaterThan(0);
        resolve(await w.operator('abort', 'shop-web', '--by', 'carol', '--json'));
      }, 100_000),
    );
    const [result] = await w.runCanary();
    expect(await checked).toMatchObject({ code: 0, json: { action: 'abort', woken: true } });
    expect(result!.cause).toMatch(/step 2 of 4 \(green 25 %\): AbortedByOperator: aborted by carol/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    // after the end: idle again, and the history says what happened
    expect((await w.operator('status', 'shop-web', '--json')).json.state).toBe('IDLE');
    const history = await w.operator('history', 'shop-web', '--json');
    expect(history.json.canaries).toEqual([expect.objectContaining({ outcome: 'ROLLED_BACK', reason: expect.stringContaining('AbortedByOperator') })]);
  });

  it('promote skips the remaining bakes: 100 % after the next healthy judgement', async () => {
    const w = world();
    const asked = new Promise<{ code: number; json?: any }>((resolve) => w.whenGreenReaches(10, () => void w.operator('promote', 'shop-web', '--json').then(resolve), 90_000));
    const [result] = await w.runCanary();
    expect((await asked).json).toMatchObject({ action: 'promote' });
    expect(result!.status).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual([10, 100]);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_GREEN);
    expect((await w.operator('history', 'shop-web', '--json')).json.canaries[0]).toMatchObject({ outcome: 'PROMOTED' });
  });

  /** A world whose `state` first lets an operator try status, abort, promote and approve; what they got. */
  const operatorIn = (state: string) => {
    let w!: World;
    const seen: Record<string, unknown> = {};
    const wrap = (name: string, handler: TaskHandler): TaskHandler =>
      name !== state
        ? handler
        : async (input) => {
            seen.status = (await w.operator('status', 'shop-web', '--json')).json.state;
            for (const command of ['abort', 'promote', 'approve']) seen[command] = (await w.operator(command, 'shop-web', '--json')).json.error;
            return handler(input);
          };
    w = world({ start: { wrap } });
    return { w, seen };
  };

  it('once it is promoting, abort and promote are refused (CanaryEnding)', async () => {
    const { w, seen } = operatorIn('Post-traffic hook');
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(seen).toEqual({ status: 'PROMOTING', abort: 'CanaryEnding', promote: 'CanaryEnding', approve: 'CanaryEnding' });
  });

  it('rolling back: status says so; abort, promote and approve are refused (CanaryEnding)', async () => {
    const { w, seen } = operatorIn('Roll back');
    w.whenGreenReaches(25, () => void w.operator('abort', 'shop-web'), 30_000);
    const [result] = await w.runCanary();
    // entered once: nothing timed it out while the operator's commands ran
    expect(result!.events.filter((e) => e.type === 'StateEntered' && e.state?.name === 'Roll back')).toHaveLength(1);
    expect(result!.cause).toContain('AbortedByOperator');
    expect(seen).toEqual({ status: 'ROLLING_BACK', abort: 'CanaryEnding', promote: 'CanaryEnding', approve: 'CanaryEnding' });
  });

  it('at a gate: abort rolls back at once too', async () => {
    const w = world({ pair: GATE });
    void awaitingApproval(w).then(() => w.operator('abort', 'shop-web', '--by', 'fay'));
    const [result] = await w.runCanary();
    expect(result!.cause).toMatch(/step 3 of 4 \(green 50 %\): AbortedByOperator: aborted by fay/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
  });

  it('watch follows the canary until it ends', async () => {
    const w = world();
    const watched = new Promise<{ code: number; out: string }>((resolve) => w.whenGreenReaches(10, () => void w.operator('watch', 'shop-web').then(resolve), 1_000));
    await w.runCanary();
    const { code, out } = await watched;
    expect(code).toBe(0);
    expect(out).toMatch(/running: step 1\/4, green 10 %/);
    expect(out).toMatch(/running: step 4\/4, green 100 %/);
    expect(out.trim().split('\n').at(-1)).toBe('PROMOTED');
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('plan works offline, from the configuration alone', async () => {
    const w = world();
    const calls = w.sim.calls.length;
    const plan = await w.operator('plan', 'shop-web', '--json');
    expect(plan.json).toMatchObject({ pair: 'shop-web', toFullSeconds: 1_470, promotedAtSeconds: 1_800 });
    expect(w.sim.calls.length).toBe(calls);
  });
});

describe('two operators racing: abort against promote', () => {
  // The abort lands just before Promote, while it runs, or just after: exactly one wins, never split.
  it.each(['before', 'during', 'after'] as const)('abort %s Promote: exactly one wins', async (when) => {
    let abort: Promise<{ code: number; json?: any }> | undefined;
    let w!: World;
    const wrap = (name: string, handler: TaskHandler): TaskHandler =>
      name !== 'Promote'
        ? handler
        : async (input) => {
            if (when === 'before') await (abort = w.operator('abort', 'shop-web', '--json'));
            if (when === 'during') abort = w.operator('abort', 'shop-web', '--json');
            const out = await handler(input);
            if (when === 'after') await (abort = w.operator('abort', 'shop-web', '--json'));
            return out;
          };
    w = world({ start: { wrap } });
    const [result] = await w.runCanary();
    const a = await abort!;
    const weights = weightsOf(w.sim, w.pair);
    if (a.code === 0) {
      expect(result!.cause).toContain('AbortedByOperator');
      expect(weights).toEqual(ALL_BLUE);
    } else {
      expect(a.json.error).toBe('CanaryEnding');
      expect(result!.status).toBe('SUCCEEDED');
      expect(weights).toEqual(ALL_GREEN);
    }
    expect(when === 'after' ? a.code : 0).toBe(when === 'after' ? 2 : 0);
    expect(w.claim()).toBeUndefined();
  });
});
