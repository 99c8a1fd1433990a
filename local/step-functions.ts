import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { functionOfPlaceholder } from '../functions/lib/stack.js';
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
  const out: Record<string, string> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const fn = functionOfPlaceholder(state.Resource ?? '');
    if (!fn) throw new Error(`Task state ${name} has Resource ${state.Resource}, not a \${...FunctionArn} placeholder`);
    out[name] = fn;
  }
  return out;
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
  for (const [stateName, fn] of Object.entries(taskFunctions(definition))) {
    const real = options.lambda(fn);
    handlers[stateName] = options.wrap ? options.wrap(stateName, real) : real;
  }
  const machine = new StateMachine(definition as never);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers },
    context: { Execution: { Id: executionArn, Name: options.name } },
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
