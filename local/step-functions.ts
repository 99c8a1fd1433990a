import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { taskStates } from '../functions/lib/stack.js';
import { LOCAL_RESOURCES } from './stack.js';

// aws-local-stepfunctions calls Promise.withResolvers (Node 22); without it every Task fails.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

export const DEFINITION_PATH = new URL('../statemachine/canary.asl.json', import.meta.url);

/** One entry of aws-local-stepfunctions' event log (its type is not exported). */
export interface EventLog {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: string;
  [key: string]: unknown;
}

/** A function as a Task state invokes it (see LocalCanary.lambda: its environment, its role, its timeout). */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface AslState {
  Type: string;
  Resource?: string;
  [key: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export const loadDefinition = (): AslDefinition => JSON.parse(readFileSync(DEFINITION_PATH, 'utf8')) as AslDefinition;

/** Task state name -> the function its `${XFunctionArn}` placeholder names, e.g. 'Shift traffic' -> 'shiftTraffic'. */
export function taskFunctions(definition: AslDefinition): Record<string, string> {
  return Object.fromEntries(taskStates(definition as never).map((t) => [t.name, t.fn]));
}

/** A `wrap` whose Task state `state` does its work, then reports a Lambda service error once (a lost response). */
export const loseFirstResponse =
  (state: string, times = 1) =>
  (name: string, handler: TaskHandler): TaskHandler =>
    name !== state
      ? handler
      : async (input) => {
          const out = await handler(input);
          if (times-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
          return out;
        };

/**
 * The definition as aws-local-stepfunctions runs it. It evaluates a Task's TimeoutSecondsPath
 * against the effective parameters rather than the state input, so each `.waitForTaskToken`
 * state passes its timeout in its Payload (`timeoutSeconds`) and the local handler keeps it
 * (see startExecution); here those states lose their TimeoutSecondsPath.
 */
function localDefinition(definition: AslDefinition): AslDefinition {
  const copy = structuredClone(definition);
  for (const { name, state, token } of taskStates(copy as never)) {
    if (!token) continue;
    const s = state as Record<string, unknown> & { Parameters?: { Payload?: Record<string, unknown> } };
    if (!s.TimeoutSecondsPath || s.Parameters?.Payload?.['timeoutSeconds.$'] !== s.TimeoutSecondsPath)
      throw new Error(`state ${name}: a .waitForTaskToken state must pass its TimeoutSecondsPath as Payload.timeoutSeconds`);
    delete s.TimeoutSecondsPath;
    s.TimeoutSeconds = 2_000_000; // longer than any canary; a setTimeout of at most 2^31 ms
  }
  return copy;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionResult {
  executionArn: string;
  status: ExecutionStatus;
  output?: any;
  error?: string;
  cause?: string;
  events: EventLog[];
  /** States entered, retries included: what Step Functions bills as state transitions. */
  transitions: number;
}

export interface StartOptions {
  name: string;
  executionArn?: string;
  /** The functions, by name, as Lambda would invoke them. */
  lambda: (fn: string) => TaskHandler;
  /** Replace or wrap a Task state's handler (fault injection). */
  wrap?: (stateName: string, handler: TaskHandler) => TaskHandler;
  onEvent?: (event: EventLog) => void;
  /** Another definition (tests that need, say, a short execution timeout); default: statemachine/. */
  definition?: AslDefinition;
  /** Where `.waitForTaskToken` states park (the simulated account's Step Functions). */
  park?: (executionArn: string, state: string) => { token: string; answered: Promise<unknown>; expire(): void };
  /**
   * Milliseconds of one state transition (AWS's latencies, local/sim/latency.ts): each Task state
   * waits that long before its function is invoked. aws-local-stepfunctions has no hook for the
   * other states, so Choice, Wait, Pass and Parallel transitions take no time here.
   */
  transitionDelay?: () => number;
}

export interface RunningExecution {
  executionArn: string;
  abort(): void;
  result: Promise<ExecutionResult>;
}

export const STATE_MACHINE_ARN = LOCAL_RESOURCES.stateMachineArn;

/**
 * Runs the real definition from statemachine/ with aws-local-stepfunctions, routing each Task
 * state to its function as Lambda would invoke it: the input and output cross a JSON boundary,
 * and a thrown error keeps its name (the Error a Catch or Retry matches).
 */
export function startExecution(input: unknown, options: StartOptions): RunningExecution {
  const definition = options.definition ?? loadDefinition();
  const executionArn = options.executionArn ?? `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${options.name}`;
  const handlers: Record<string, (input: any) => Promise<any>> = {};
  const transition = options.transitionDelay;
  for (const { name: stateName, fn, token } of taskStates(definition as never)) {
    const lambda = options.lambda(fn);
    const real: TaskHandler = transition ? (input) => new Promise((resolve) => setTimeout(resolve, transition())).then(() => lambda(input)) : lambda;
    const invoke = options.wrap ? options.wrap(stateName, real) : real;
    if (!token) {
      handlers[stateName] = invoke;
      continue;
    }
    // lambda:invoke.waitForTaskToken: the function gets its Payload with a fresh token; the state
    // waits until SendTaskSuccess / SendTaskFailure answers it, or its timeout passes (then the
    // token expires, as in Step Functions).
    handlers[stateName] = async (parameters: { Payload?: Record<string, unknown> }) => {
      if (!options.park) throw new Error(`state ${stateName} waits for a task token, but nothing takes SendTask* calls here`);
      const { token: issued, answered, expire } = options.park(executionArn, stateName);
      const seconds = Number(parameters.Payload?.timeoutSeconds);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => (expire(), reject(Object.assign(new Error('Task timed out'), { name: 'States.Timeout' }))), seconds * 1000);
      });
      timedOut.catch(() => undefined); // whichever comes first settles the state; the other is nobody's
      try {
        // The timeout covers the invocation too (a function that hangs times the state out).
        await Promise.race([invoke({ ...parameters.Payload, token: issued }), timedOut]);
        return await Promise.race([answered, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    };
  }
  const machine = new StateMachine(localDefinition(definition) as never);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers },
    // $$.Task.Token must resolve; each parked state gets its own token (see above).
    context: { Execution: { Id: executionArn, Name: options.name }, Task: { Token: 'issued-per-task' } },
  });
  const events: EventLog[] = [];
  const collected = (async () => {
    for await (const event of execution.eventLogs) {
      events.push(event as EventLog);
      options.onEvent?.(event as EventLog);
    }
  })();
  const result = (async (): Promise<ExecutionResult> => {
    let outcome: Omit<ExecutionResult, 'events' | 'transitions' | 'executionArn'>;
    try {
      outcome = { status: 'SUCCEEDED', output: await execution.result };
    } catch (e) {
      const err = e as Error;
      if (err.name === 'ExecutionAbortedError') outcome = { status: 'ABORTED' };
      else if (err.name === 'ExecutionTimeoutError') outcome = { status: 'TIMED_OUT', error: 'States.Timeout' };
      else {
        // ExecutionError wraps what failed the run: a Fail state's Error/Cause, or an uncaught task error.
        const failed = (err.name === 'ExecutionError' && err.cause instanceof Error ? err.cause : err) as Error;
        outcome = { status: 'FAILED', error: failed.name, cause: failed.message };
      }
    }
    await collected;
    const transitions = events.filter((x) => x.type === 'StateEntered' || x.type === 'StateRetried').length;
    return { executionArn, ...outcome, events, transitions };
  })();
  return { executionArn, abort: () => execution.abort(), result };
}
