/**
 * The environment variables the functions read. Each is set, in serverless.yml and locally,
 * by the grant that needs it (functions/lib/stack.ts), so a function that reads one without
 * that grant finds it missing and says so.
 */
export type EnvName = 'LOCK_TABLE' | 'STATE_MACHINE_ARN';

export function requiredEnv(name: EnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this function's declaration in functions/lib/stack.ts does not grant what needs it`);
  return value;
}
