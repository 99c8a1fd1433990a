// The judge's benchmark (local/bench-judge.ts), run small: what would fail if the simulation
// broke. The benchmark's own figures are printed by `npm run bench:judge`, never asserted here.
import { describe, expect, it } from 'vitest';
import { BURST, NOISE_SHAPE, poisson, resultLine, rngFor, runBenchmark, runCell, simulateCanary, STEPS, type Scenario } from '../local/bench-judge.js';

const poissonOnly = (rps: number, errorRatio: number): Scenario => ({ rps, errorRatio, bursts: false, noiseShape: null, incident: false });
const bursty = (rps: number, errorRatio: number): Scenario => ({ rps, errorRatio, bursts: BURST, noiseShape: NOISE_SHAPE, incident: false });

describe('bench:judge', () => {
  it('draws Poisson counts with the right mean, small and large', () => {
    const rng = rngFor(7);
    for (const lambda of [3, 60, 6_000]) {
      const n = 4_000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += poisson(rng, lambda);
      expect(Math.abs(sum / n - lambda)).toBeLessThan(4 * Math.sqrt(lambda / n));
    }
  });

  it('A/A at high traffic with Poisson errors promotes (almost) every canary', () => {
    const cell = runCell(poissonOnly(1_000, 1), 30, [1, 900]);
    expect(cell.promotedRate).toBeGreaterThanOrEqual(29 / 30);
    expect(cell.unhealthyRate).toBeLessThanOrEqual(1 / 30);
  });

  it('a green failing 10x at 1,000 rps is rolled back as UNHEALTHY, and the alarm-only canary lets more errors through', () => {
    const cell = runCell(bursty(1_000, 10), 20, [1, 901], { alarms: true });
    expect(cell.unhealthyRate).toBeGreaterThanOrEqual(0.9);
    expect(cell.medianGreenFailedRequests!).toBeLessThan(cell.alarmsOnlyMedianGreenFailedRequests!);
  });

  it('at 0.2 rps no canary promotes: every one ends INCONCLUSIVE at maxBakeSeconds of step 1', () => {
    const cell = runCell(bursty(0.2, 1), 10, [1, 902]);
    expect(cell.promotedRate).toBe(0);
    expect(cell.inconclusiveRate).toBe(1);
    const run = simulateCanary(bursty(0.2, 1), [1, 902, 0]);
    expect(run.step).toBe(1);
    expect(run.canarySeconds).toBeGreaterThan(1_800);
  });

  it('a promoted canary went through every step; a detection at step 1 has its time after INSYNC', () => {
    const run = simulateCanary(poissonOnly(100, 1), [1, 903, 0]);
    expect(run.outcome).toBe('PROMOTED');
    expect(run.step).toBe(STEPS.length);
    expect(run.detectionSecondsAfterStep1Insync).toBeNull();
    // each step: INSYNC 20-60 s + 60 s DNS wait + 300 s bake, at least
    expect(run.canarySeconds).toBeGreaterThanOrEqual(3 * (20 + 60 + 300));
  });

  it('the final line is one JSON object with every field, and the same for the same seed', () => {
    const line = resultLine(runBenchmark({ seed: 3, scale: 0.01 }));
    expect(line).not.toContain('\n');
    const r = JSON.parse(line);
    for (const key of ['aaRuns', 'falseRollbackRate', 'sharedIncidentRollbackRate', 'detection', 'lowTraffic']) expect(r).toHaveProperty(key);
    expect(r.detection).toHaveLength(9);
    for (const d of r.detection)
      for (const key of ['errorRatio', 'rps', 'detectedRate', 'detectedAtStep1Rate', 'detectedByStep2Rate', 'medianDetectionSeconds', 'medianGreenFailedRequests', 'alarmsOnlyMedianGreenFailedRequests'])
        expect(d).toHaveProperty(key);
    expect(r.detection.map((d: { errorRatio: number; rps: number }) => `${d.errorRatio}x${d.rps}`)).toEqual(['2x20', '2x100', '2x1000', '5x20', '5x100', '5x1000', '10x20', '10x100', '10x1000']);
    for (const key of ['rps', 'promotedRate', 'inconclusiveRate']) expect(r.lowTraffic).toHaveProperty(key);
    const again = JSON.parse(resultLine(runBenchmark({ seed: 3, scale: 0.01 })));
    expect({ ...again, wallSeconds: 0 }).toEqual({ ...r, wallSeconds: 0 });
  });
});
