import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAlarmToRollback } from '../local/alarm-to-rollback.js';
import { LAMBDA_IDLE_MS, LATENCY, LatencyModel, lognormal, meanOf } from '../local/sim/latency.js';
import { Route53Model } from '../local/sim/route53.js';
import { randomFrom } from '../local/sim/traffic.js';
import { world, type World } from './helpers.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (xs: number[], p: number) => xs[Math.ceil((p / 100) * xs.length) - 1]!;

describe('the latency model (local/sim/latency.ts)', () => {
  it.each(Object.entries(LATENCY))('%s: draws have the figure\'s median and 99th percentile, and the figure says where it comes from', (_, figure) => {
    const uniform = randomFrom(3);
    const draws = sorted(Array.from({ length: 40_000 }, () => lognormal(figure, uniform)));
    expect(at(draws, 50) / figure.p50).toBeCloseTo(1, 1);
    expect(at(draws, 99) / figure.p99).toBeGreaterThan(0.9);
    expect(at(draws, 99) / figure.p99).toBeLessThan(1.1);
    expect(meanOf(figure)).toBeGreaterThan(figure.p50);
    expect(figure.source.length).toBeGreaterThan(40);
  });

  it('a function starts cold on its first invocation, in a new environment when the others are busy, and again after 10 idle minutes; warm otherwise', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const model = new LatencyModel(1);
      const first = model.startInvocation('judgeGreen');
      expect(first.cold).toBe(true);
      const concurrent = model.startInvocation('judgeGreen');
      expect(concurrent.cold).toBe(true);
      first.release();
      concurrent.release();
      expect(model.startInvocation('shiftTraffic').cold).toBe(true); // each function has its own environments
      vi.setSystemTime(LAMBDA_IDLE_MS);
      const warm = model.startInvocation('judgeGreen');
      expect(warm.cold).toBe(false);
      expect(warm.ms).toBeLessThan(LATENCY.lambdaColdStart.p50);
      warm.release();
      vi.setSystemTime(2 * LAMBDA_IDLE_MS + 1);
      expect(model.startInvocation('judgeGreen').cold).toBe(true);
      expect(model.coldStarts.map((c) => c.fn)).toEqual(['judgeGreen', 'judgeGreen', 'shiftTraffic', 'judgeGreen']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('Route53: each change is INSYNC after its own drawn delay; without the model, after insyncDelayMs', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const route53 = new Route53Model();
      route53.createHostedZone({ Id: 'Z1', Name: 'example.com' });
      const change = () =>
        route53.changeResourceRecordSets({
          HostedZoneId: 'Z1',
          ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'a.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] } }] },
        }).ChangeInfo.Id;
      const status = (id: string) => route53.getChange({ Id: id }).ChangeInfo.Status;
      const fixed = change();
      vi.setSystemTime(route53.insyncDelayMs - 1);
      expect(status(fixed)).toBe('PENDING');
      vi.setSystemTime(route53.insyncDelayMs);
      expect(status(fixed)).toBe('INSYNC');
      const delays = [7_000, 41_000];
      route53.insyncDelay = () => delays.shift()!;
      const start = Date.now();
      const [fast, slow] = [change(), change()];
      vi.setSystemTime(start + 7_000);
      expect([status(fast), status(slow)]).toEqual(['INSYNC', 'PENDING']);
      vi.setSystemTime(start + 41_000);
      expect(status(slow)).toBe('INSYNC');
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A canary of the example pair (alarms only: quick) whose first alarm fires 90 s into the 50 % step: alarm -> rollback change batch, seconds. */
async function alarmAt50(w: World) {
  let alarmAt = 0;
  w.whenGreenReaches(50, () => ((alarmAt = Date.now()), w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'scripted')), 90_000);
  const [result] = await w.runCanary();
  const back = w.sim.route53.applied.find((c) => c.at >= alarmAt && c.changes.some((x) => x.ResourceRecordSet?.SetIdentifier === w.green.setIdentifier && x.ResourceRecordSet.Weight === 0));
  return { result: result!, seconds: (back!.at - alarmAt) / 1000, alarmAt };
}

describe('AWS latencies in a world', () => {
  afterEach(() => vi.useRealTimers());

  it('off (latency: false): exact times, no cold starts; the alarm reaches DNS 0.5 s later (EVENT_DELIVERY_MS)', async () => {
    const w = world({ latency: false, pair: { analysis: false } });
    expect(w.latency).toBeUndefined();
    const { result, seconds } = await alarmAt50(w);
    expect(result.error).toBe('CanaryRolledBack');
    expect(seconds).toBe(0.5);
  });

  it('on by default: the signal function and Roll back start cold after the alarm, EventBridge and the transitions take time, and a seed repeats a run exactly', async () => {
    const runs: number[] = [];
    for (const seed of [5, 5, 6]) {
      const w = world({ pair: { analysis: false }, faultSeed: seed });
      const { result, seconds, alarmAt } = await alarmAt50(w);
      expect(result.error).toBe('CanaryRolledBack');
      const coldAfterAlarm = w.latency!.coldStarts.filter((c) => c.at >= alarmAt);
      expect(coldAfterAlarm.map((c) => c.fn)).toEqual(expect.arrayContaining(['signal', 'rollBack']));
      // at least EventBridge + both cold starts + a transition, and within the 5 s goal
      expect(seconds * 1000).toBeGreaterThan(coldAfterAlarm.filter((c) => c.fn === 'signal' || c.fn === 'rollBack').reduce((n, c) => n + c.ms, 0));
      expect(seconds).toBeLessThanOrEqual(5);
      runs.push(seconds);
      w.dispose();
    }
    expect(runs[0]).toBe(runs[1]);
    expect(runs[2]).not.toBe(runs[0]);
  });

  it('the benchmark\'s alarm-to-rollback runs: one per canary, alarm in the chosen step, every run rolled back', async () => {
    const r = await runAlarmToRollback({ runs: 3, seed: 2 });
    expect(r.runs).toBe(3);
    expect(r.missed).toBe(0);
    expect(r.results).toHaveLength(3);
    for (const run of r.results) {
      expect(run.seconds).toBeGreaterThan(0.5);
      expect(run.atSeconds).toBeLessThan(60 + 120);
      expect(run.cold).toEqual({ signal: true, rollBack: true });
    }
    expect(r.p50).toBeLessThanOrEqual(r.p99);
    expect(r.p99).toBe(r.max);
  });
});
