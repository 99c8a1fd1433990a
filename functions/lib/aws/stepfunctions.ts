import { DescribeExecutionCommand, ListExecutionsCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

export const sfn = new SFNClient({});

/**
 * Starts a standard workflow execution. Returns `duplicate: true` when an execution of that
 * name already exists: the same name and input is idempotent in Step Functions, a different
 * input raises ExecutionAlreadyExists.
 */
export async function startExecution(stateMachineArn: string, name: string, input: unknown): Promise<{ executionArn: string; duplicate: boolean }> {
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { executionArn: out.executionArn!, duplicate: false };
  } catch (e) {
    if ((e as Error).name !== 'ExecutionAlreadyExists') throw e;
    const arn = stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    return { executionArn: arn, duplicate: true };
  }
}

/** Status, input and (once SUCCEEDED) output of an execution (the safety net reads which pair a stopped run was for). */
export async function describeExecution(
  executionArn: string,
): Promise<{ status: string; input?: string; output?: string; name?: string; error?: string; cause?: string; startDate?: Date; stopDate?: Date }> {
  const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status: out.status ?? 'UNKNOWN', input: out.input, output: out.output, name: out.name, error: out.error, cause: out.cause, startDate: out.startDate, stopDate: out.stopDate };
}

/** A task token that is no longer waiting (its state moved on, timed out, or its run ended). */
const isGone = (e: unknown) => ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes((e as Error).name);

/** Answers a parked task: true, or false when the token no longer waits for an answer. */
export async function sendTaskSuccess(token: string, output: unknown): Promise<boolean> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    return true;
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

/** Fails a parked task with a named error: true, or false when the token no longer waits for an answer. */
export async function sendTaskFailure(token: string, error: string, cause: string): Promise<boolean> {
  try {
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }));
    return true;
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

export interface ExecutionSummary {
  executionArn: string;
  name: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
}

/** The newest executions of a state machine whose names start with `prefix`, at most `limit`. */
export async function listExecutions(stateMachineArn: string, prefix: string, limit: number): Promise<ExecutionSummary[]> {
  const found: ExecutionSummary[] = [];
  let nextToken: string | undefined;
  do {
    const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 100, nextToken }));
    for (const x of out.executions ?? [])
      if (x.name?.startsWith(prefix)) found.push({ executionArn: x.executionArn!, name: x.name, status: x.status ?? 'UNKNOWN', startDate: x.startDate, stopDate: x.stopDate });
    nextToken = out.nextToken;
  } while (nextToken && found.length < limit);
  return found.slice(0, limit);
}
