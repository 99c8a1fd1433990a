import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

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

/** Status and input of an execution (the safety net reads which pair a stopped run was for). */
export async function describeExecution(executionArn: string): Promise<{ status: string; input?: string; name?: string }> {
  const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status: out.status ?? 'UNKNOWN', input: out.input, name: out.name };
}
