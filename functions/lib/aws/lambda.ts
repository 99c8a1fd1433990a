import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

/** One attempt: a hook that fails is reported, not retried behind the operator's back. */
export const lambda = new LambdaClient({ maxAttempts: 1 });

/**
 * Invokes a function synchronously with `payload`. Returns its parsed answer, or the error it
 * raised (`functionError`, with Lambda's errorType and errorMessage); aborts after `timeoutMs`.
 */
export async function invokeFunction(functionArn: string, payload: unknown, timeoutMs: number): Promise<{ payload: unknown; functionError?: string }> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs / 1000} s`);
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    const out = await Promise.race([
      lambda.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }), { abortSignal: abort.signal }),
      timedOut,
    ]);
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : 'null';
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    if (!out.FunctionError) return { payload: parsed };
    const { errorType, errorMessage } = (parsed ?? {}) as { errorType?: string; errorMessage?: string };
    return { payload: parsed, functionError: `${errorType ?? out.FunctionError}: ${errorMessage ?? text}` };
  } finally {
    clearTimeout(timer);
  }
}
