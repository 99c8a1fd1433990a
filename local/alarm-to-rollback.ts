import { randomFrom } from './sim/traffic.js';
import { createWorld } from './world.js';

/**
 * From an alarm going to ALARM to the rollback's change batch, with AWS's latencies on
 * (local/sim/latency.ts): the alarm's state-change event through EventBridge to the signal
 * function (a cold start: nothing invoked it before), SendTaskFailure on the listener's token, the
 * Parallel failing, `Roll back` (its own cold start), its reads and the change batch. Each run is
 * one canary of the example pair on a fresh simulated account, with the alarm at a random point
 * of a random step: step k of 4 chosen uniformly, then uniformly within the first
 * minWaitSeconds + bakeSeconds after that step's change batch (every step lasts at least that,
 * plus INSYNC, so the alarm always falls in the chosen step). Seeded: runs repeat exactly.
 *
 * The comparison of green with blue is off in these runs (`analysis: false`): it is not on the
 * listener's path, and it makes a canary 2-3 times longer in virtual time (bakes wait for
 * settled minutes), which 200 runs cannot afford.
 */
export interface AlarmRun {
  /** 1-based step, and green's percentage at it. */
  step: number;
  percent: number;
  /** Seconds after the step's change batch that the alarm went to ALARM. */
  atSeconds: number;
  /** Alarm to the rollback's change batch, seconds; null when no rollback followed (never expected). */
  seconds: number | null;
  /** Whether the signal and rollBack functions started cold. */
  cold: { signal: boolean; rollBack: boolean };
}

export interface AlarmToRollback {
  runs: number;
  /** Seconds, nearest-rank percentiles over the runs that rolled back. */
  p50: number;
  p99: number;
  max: number;
  /** Runs with no rollback after the alarm. */
  missed: number;
  results: AlarmRun[];
}

/** Nearest-rank percentile of sorted values. */
export const percentile = (sorted: number[], p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;

export async function runAlarmToRollback({ runs = 200, seed = 15 } = {}): Promise<AlarmToRollback> {
  const pick = randomFrom(seed);
  const results: AlarmRun[] = [];
  for (let i = 0; i < runs; i++) {
    const w = createWorld({ pair: { analysis: false }, faultSeed: seed * 10_000 + i });
    try {
      const steps = w.pair.steps as number[];
      const k = Math.floor(pick() * steps.length);
      const atMs = Math.floor(pick() * (w.pair.minWaitSeconds + w.pair.bakeSeconds) * 1000);
      let alarmAt: number | undefined;
      w.whenGreenReaches(
        steps[k]!,
        () => {
          alarmAt = Date.now();
          w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'Threshold Crossed: scripted by the benchmark');
        },
        atMs,
      );
      await w.runCanary();
      const green = w.green.setIdentifier;
      const rollback = w.sim.route53.applied.find(
        (c) => alarmAt !== undefined && c.at >= alarmAt && c.changes.some((x) => x.ResourceRecordSet?.SetIdentifier === green && x.ResourceRecordSet.Weight === 0),
      );
      const cold = (fn: string) => (w.latency?.coldStarts ?? []).some((c) => c.fn === fn && alarmAt !== undefined && c.at >= alarmAt);
      results.push({
        step: k + 1,
        percent: steps[k]!,
        atSeconds: atMs / 1000,
        seconds: rollback && alarmAt !== undefined ? (rollback.at - alarmAt) / 1000 : null,
        cold: { signal: cold('signal'), rollBack: cold('rollBack') },
      });
    } finally {
      w.dispose();
    }
  }
  const measured = results.flatMap((r) => (r.seconds === null ? [] : [r.seconds])).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    runs,
    p50: measured.length ? round(percentile(measured, 50)) : NaN,
    p99: measured.length ? round(percentile(measured, 99)) : NaN,
    max: measured.length ? round(measured.at(-1)!) : NaN,
    missed: results.length - measured.length,
    results,
  };
}
