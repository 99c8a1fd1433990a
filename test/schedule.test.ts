import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../functions/lib/config.js';
import { isCanaryError } from '../functions/lib/errors.js';
import { ALL_BLUE, ALL_GREEN, expandSteps, scheduleProblem, weightsFor } from '../functions/lib/schedule.js';
import { examplePair } from './helpers.js';

describe('expandSteps', () => {
  it('keeps an explicit list', () => expect(expandSteps([10, 25, 50, 100])).toEqual([10, 25, 50, 100]));
  it('expands canary N to N then 100', () => expect(expandSteps({ canary: 10 })).toEqual([10, 100]));
  it('expands linear N to every N up to 100', () => {
    expect(expandSteps({ linear: 25 })).toEqual([25, 50, 75, 100]);
    expect(expandSteps({ linear: 30 })).toEqual([30, 60, 90, 100]);
    expect(expandSteps({ linear: 100 })).toEqual([100]);
  });
});

describe('scheduleProblem', () => {
  it.each([
    [[], 'at least one'],
    [[10, 50], 'last step must be 100'],
    [[50, 25, 100], 'strictly increase'],
    [[10, 10, 100], 'strictly increase'],
    [[0, 100], 'from 1 to 100'],
    [[12.5, 100], 'from 1 to 100'],
    [[10, 150], 'from 1 to 100'],
  ])('rejects %j', (steps, message) => expect(scheduleProblem(steps)).toContain(message));
  it('accepts a valid schedule', () => expect(scheduleProblem([1, 100])).toBeUndefined());
});

describe('weightsFor', () => {
  it('splits 100 between blue and green', () => {
    expect(weightsFor(0)).toEqual({ blue: 100, green: 0 });
    expect(weightsFor(25)).toEqual({ blue: 75, green: 25 });
    expect(ALL_BLUE).toEqual({ blue: 100, green: 0 });
    expect(ALL_GREEN).toEqual({ blue: 0, green: 100 });
  });
  it.each([-1, 101, 12.5, Number.NaN])('refuses %s', (p) => {
    expect(() => weightsFor(p)).toThrow(/whole number from 0 to 100/);
  });

  it('property: any schedule the configuration accepts gives weights in 0..255, never both 0, ending green 100', () => {
    const spec = fc.oneof(
      fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 20 }).map((a) => [...a.sort((x, y) => x - y), 100]),
      fc.integer({ min: 1, max: 99 }).map((canary) => ({ canary })),
      fc.integer({ min: 1, max: 100 }).map((linear) => ({ linear })),
      // arbitrary junk too: whatever parses must still be safe
      fc.array(fc.oneof(fc.integer({ min: -10, max: 300 }), fc.double({ min: 0, max: 100 })), { maxLength: 8 }),
    );
    fc.assert(
      fc.property(spec, (steps) => {
        let pair;
        try {
          pair = parseConfig({ pairs: [{ ...examplePair(), steps, executionTimeoutSeconds: 86_400 }] }).pairs[0]!;
        } catch (e) {
          if (isCanaryError(e, 'InvalidConfig')) return true; // refused up front: nothing is ever written
          throw e;
        }
        const schedule = expandSteps(pair.steps);
        for (const p of schedule) {
          const w = weightsFor(p);
          for (const x of [w.blue, w.green]) expect(Number.isInteger(x) && x >= 0 && x <= 255).toBe(true);
          expect(w.blue + w.green).toBeGreaterThan(0);
        }
        expect(weightsFor(schedule.at(-1)!)).toEqual(ALL_GREEN);
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
