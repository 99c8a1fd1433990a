import { fail } from './errors.js';

/** Sum of the two weights the canary writes: weights read as percentages of traffic. */
export const WEIGHT_TOTAL = 100;

export interface Weights {
  blue: number;
  green: number;
}

/** How a pair's steps are written in the configuration. */
export type StepsSpec = number[] | { canary: number } | { linear: number };

/**
 * The green percentages a canary walks through, always ending at 100.
 * - `[10, 25, 50, 100]`: exactly these.
 * - `{ canary: 10 }`: 10 %, then 100 % (CodeDeploy's "Canary10Percent").
 * - `{ linear: 25 }`: 25, 50, 75, 100 % (CodeDeploy's "Linear25Percent").
 */
export function expandSteps(spec: StepsSpec): number[] {
  if (Array.isArray(spec)) return [...spec];
  if ('canary' in spec) return [spec.canary, 100];
  const steps: number[] = [];
  for (let p = spec.linear; p < 100; p += spec.linear) steps.push(p);
  steps.push(100);
  return steps;
}

/** Why a list of steps is not a valid schedule, or undefined when it is. */
export function scheduleProblem(steps: readonly number[]): string | undefined {
  if (steps.length === 0) return 'must list at least one step';
  if (steps.some((p) => !Number.isInteger(p) || p < 1 || p > 100))
    return 'every step must be a whole percentage from 1 to 100';
  if (steps.some((p, i) => i > 0 && p <= steps[i - 1]!)) return 'steps must strictly increase';
  if (steps[steps.length - 1] !== 100) return 'the last step must be 100';
  return undefined;
}

/**
 * The one place where a green percentage becomes Route53 weights. The two weights are
 * integers in 0..255 that add up to WEIGHT_TOTAL, so they are never both 0 (which would
 * make Route53 answer with every record as if all were equally weighted).
 */
export function weightsFor(greenPercent: number): Weights {
  if (!Number.isInteger(greenPercent) || greenPercent < 0 || greenPercent > 100) {
    fail('InvalidConfig', `green percentage must be a whole number from 0 to 100, got ${greenPercent}`);
  }
  return { blue: WEIGHT_TOTAL - greenPercent, green: greenPercent };
}

export const ALL_BLUE: Weights = weightsFor(0);
export const ALL_GREEN: Weights = weightsFor(100);

export const sameWeights = (a: Weights, b: Weights): boolean => a.blue === b.blue && a.green === b.green;

export const formatWeights = (w: Weights): string => `blue ${w.blue} / green ${w.green}`;
