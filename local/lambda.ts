import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LocalFunction } from './stack.js';

/**
 * Lambda, in process. Each invocation runs with exactly its function's environment (what the
 * packaged template gives it, plus what the Lambda runtime sets) and as its function's role:
 * `process.env` is a view that, inside an invocation, shows that invocation's environment and
 * nothing of the host process; the simulated account asks `currentFunction()` whose role a
 * call is made with. Outside any invocation (the test harness, the demo's operator) both are
 * the host's.
 */
interface Invocation {
  fn: LocalFunction;
  env: Record<string, string>;
}

const invocations = new AsyncLocalStorage<Invocation>();

/** The function whose code is running now, if any. */
export const currentFunction = (): LocalFunction | undefined => invocations.getStore()?.fn;

/** Runs `work` as the operator (the host's environment and credentials), even from inside a function's invocation. */
export const asOperator = <T>(work: () => T): T => invocations.exit(work);

/**
 * Host variables a local run may pass into every function. They change only what the
 * functions print, never what they do: the log level (tests and the demo keep the functions
 * quiet), and the SDK's warning about Node 20 (Lambda runs Node 22).
 */
const PRESENTATION = ['POWERTOOLS_LOG_LEVEL', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];

let isolated = false;

/** Where a function's output goes (the active simulated account's CloudWatch Logs), if anywhere. */
let outputSink: ((fn: LocalFunction, text: string) => void) | undefined;

/** Sends what functions print to `sink` (undefined: nowhere), as Lambda sends it to their log groups. */
export function setOutputSink(sink: ((fn: LocalFunction, text: string) => void) | undefined): void {
  outputSink = sink;
}

let capturing = false;

/**
 * What a function prints (its Powertools log lines and EMF metric lines) goes to its log group,
 * as Lambda sends stdout to CloudWatch Logs; on the host's terminal it shows only when the host
 * asks for the functions' logs (POWERTOOLS_LOG_LEVEL other than SILENT, as `npm run demo -- --logs`).
 */
function captureOutput(): void {
  if (capturing) return;
  capturing = true;
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (...args: unknown[]) => boolean;
  stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const invocation = invocations.getStore();
    if (!invocation) return write(chunk, ...rest);
    outputSink?.(invocation.fn, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    if (invocations.exit(() => process.env.POWERTOOLS_LOG_LEVEL) !== 'SILENT') return write(chunk, ...rest);
    callback?.();
    return true;
  }) as typeof stdout.write;
}

/** Makes `process.env` per invocation (idempotent; for the life of the process). */
function isolateEnvironment(): void {
  if (isolated) return;
  isolated = true;
  const host = process.env;
  const target = (): Record<string, string | undefined> => invocations.getStore()?.env ?? host;
  process.env = new Proxy(host, {
    get: (_, key) => (typeof key === 'string' ? target()[key] : undefined),
    set: (_, key, value) => ((target()[String(key)] = String(value)), true),
    has: (_, key) => typeof key === 'string' && key in target(),
    deleteProperty: (_, key) => delete target()[String(key)],
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const value = typeof key === 'string' ? target()[key] : undefined;
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
}

/** What the Lambda runtime adds to a function's configured environment. */
function runtimeEnvironment(fn: LocalFunction): Record<string, string> {
  const host = process.env;
  const presentation = Object.fromEntries(PRESENTATION.filter((k) => host[k] !== undefined).map((k) => [k, host[k]!]));
  return {
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    // the role's temporary credentials
    AWS_ACCESS_KEY_ID: 'ASIASIMULATEDROLE',
    AWS_SECRET_ACCESS_KEY: 'simulated',
    AWS_SESSION_TOKEN: 'simulated',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: fn.handler,
    TZ: ':UTC',
    ...fn.environment,
    ...presentation,
  };
}

export type Handler = (event: unknown, context?: object) => Promise<unknown>;

/** Lambda's error when a function runs past its timeout (Step Functions shows it as the task's Error). */
class LambdaTimeout extends Error {
  constructor(fn: LocalFunction) {
    super(`${fn.functionName}: Task timed out after ${fn.timeout}.00 seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

/**
 * Invokes `handler` as `fn`: its environment, its role, its timeout; the event and the result
 * cross a JSON boundary as they do in Lambda. (A function that times out is reported as timed
 * out; its code, unlike in Lambda, is not frozen.)
 */
export function invoke(fn: LocalFunction, handler: Handler, event: unknown): Promise<unknown> {
  isolateEnvironment();
  captureOutput();
  const invocation: Invocation = { fn, env: runtimeEnvironment(fn) };
  const awsRequestId = randomUUID();
  const started = Date.now();
  const context = {
    functionName: fn.functionName,
    awsRequestId,
    getRemainingTimeInMillis: () => fn.timeout * 1000 - (Date.now() - started),
  };
  return invocations.run(invocation, async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LambdaTimeout(fn)), fn.timeout * 1000);
    });
    try {
      const result = await Promise.race([handler(JSON.parse(JSON.stringify(event ?? null)), context), timeout]);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } finally {
      clearTimeout(timer);
    }
  });
}
