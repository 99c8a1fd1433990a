import { ROUTE53_MAX_ATTEMPTS } from '../functions/lib/aws/route53.js';
import { createWorld, weightsOf, type World } from './world.js';
import { loadDefinition, taskFunctions, type TaskHandler } from './step-functions.js';

/**
 * The fault matrix: for every Task state of the definition, four ways for it to go wrong,
 * each run as a full canary on the simulated account. A case passes when DNS ends all blue
 * (blue 100 / green 0), or all green after a completed promotion: never split.
 *
 * States before the first shift are hit on their first run; the others once traffic is
 * split. `Roll back` is reached through an alarm during the second step, `Refuse` through a
 * smoke test that fails.
 */
export const FAULTS = ['throws', 'hangs', 'throttled', 'stopped'] as const;
export type Fault = (typeof FAULTS)[number];

export interface MatrixCase {
  state: string;
  fault: Fault;
}

export interface CaseResult extends MatrixCase {
  status: string;
  error?: string;
  weights: { blue: number; green: number };
  ending: 'ALL_BLUE' | 'PROMOTED' | 'NOT_PROMOTED' | 'SPLIT';
  safetyNet: string;
  passed: boolean;
}

export const matrixCases = (): MatrixCase[] =>
  Object.keys(taskFunctions(loadDefinition())).flatMap((state) => FAULTS.map((fault) => ({ state, fault })));

/** Throttling enough Route53 calls to exhaust a state's retries (SDK attempts × Step Functions attempts). */
const throttleBudget = (state: string) => ROUTE53_MAX_ATTEMPTS * (state === 'Roll back' ? 9 : 4);

/** The states a run goes through before its first shift (from StartAt to Shift traffic). */
function preTrafficStates(definition = loadDefinition()): string[] {
  const out: string[] = [];
  for (let name = definition.StartAt; name && name !== 'Shift traffic'; name = definition.States[name]!.Next as string) out.push(name);
  return out;
}

export async function runCase({ state, fault }: MatrixCase): Promise<CaseResult> {
  // The listener runs once, beside the first shift: hit it on that run.
  let armed = preTrafficStates().includes(state) || state === 'Refuse' || state === 'Listen for alarms';
  let reached = false;
  let w!: World;
  const hit = () => armed;
  const wrap = (name: string, handler: TaskHandler): TaskHandler => {
    if (state === 'Refuse' && name === 'Smoke test green')
      return () => Promise.reject(Object.assign(new Error('GET http://green/health answered 503'), { name: 'SmokeTestFailed' }));
    if (name !== state || (fault !== 'throws' && fault !== 'hangs')) return handler;
    return async (input) => {
      if (!hit()) return handler(input);
      reached = true;
      if (fault === 'throws') throw Object.assign(new Error(`injected failure in ${state}`), { name: 'InjectedFault' });
      return new Promise(() => undefined); // hangs past the state's TimeoutSeconds
    };
  };
  let fired = false;
  w = createWorld({
    // A gate at 50 % that nobody answers (it times out and goes on) is how `Wait for approval` is reached.
    ...(state === 'Wait for approval' ? { pair: { approval: { atPercent: [50], timeoutSeconds: 60, onTimeout: 'promote' as const } } } : {}),
    start: {
      wrap,
      onEvent: (e) => {
        if (e.type !== 'StateEntered' || e.state?.name !== state || !hit() || fired) return;
        fired = true;
        reached = true;
        if (fault === 'stopped') w.canary.executions[0]?.abort();
        if (fault === 'throttled') w.sim.inject({ service: 'route53', error: 'Throttling', message: 'Rate exceeded', times: throttleBudget(state) });
      },
    },
  });
  try {
    // Arm once traffic is split; reach "Roll back" through an alarm during the second step.
    w.onGreenWeight((green) => {
      if (green > 0 && green < 100) armed = true;
      if (state === 'Roll back' && green === 25) setTimeout(() => w.sim.cloudwatch.setState(w.pair.alarms[0]!, 'ALARM', 'scripted'), 90_000);
    });
    const [result] = await w.runCanary();
    const weights = weightsOf(w.sim, w.pair);
    const blue = weights.blue === 100 && weights.green === 0;
    const nets = await Promise.all(w.canary.safetyNets);
    // All green is a completed promotion once Promote has confirmed it (what follows only tidies
    // up), or once the safety net found the run's claim PROMOTING and released it as such: a run
    // stopped while its Promote Lambda was still running may go either way, both safe.
    const promoted =
      weights.blue === 0 &&
      weights.green === 100 &&
      ((result?.events ?? []).some((e) => e.type === 'StateExited' && e.state?.name === 'Promote') || nets.some((n) => !(n instanceof Error) && n.action === 'RELEASED'));
    return {
      state,
      fault,
      status: result?.status ?? 'NOT STARTED',
      error: result?.error,
      weights,
      ending: blue ? 'ALL_BLUE' : promoted ? 'PROMOTED' : weights.blue > 0 && weights.green > 0 ? 'SPLIT' : 'NOT_PROMOTED',
      safetyNet: nets.map((n) => (n instanceof Error ? `error ${n.name}` : n.action)).join(',') || '-',
      // A fault that was never injected proves nothing.
      passed: reached && (blue || promoted),
    };
  } finally {
    w.dispose();
  }
}

export async function runMatrix(onResult?: (r: CaseResult) => void): Promise<{ cases: number; passed: number; leftSplit: number; results: CaseResult[] }> {
  const results: CaseResult[] = [];
  for (const c of matrixCases()) {
    const r = await runCase(c);
    results.push(r);
    onResult?.(r);
  }
  return {
    cases: results.length,
    passed: results.filter((r) => r.passed).length,
    leftSplit: results.filter((r) => r.ending === 'SPLIT').length,
    results,
  };
}
