import type { CanaryConfig } from '../functions/lib/config.js';
import {
  declareFunctions,
  environmentOf,
  lambdaLogicalId,
  PROVIDER,
  RESOURCES,
  STATE_MACHINE_NAME,
  claimsTableName,
  functionRoleName,
  statementsOf,
  type FunctionDeclaration,
} from '../functions/lib/stack.js';
import { SIM_ACCOUNT, SIM_REGION } from './sim/constants.js';

/**
 * The stack as the simulated account runs it: each function with the environment and the role
 * policies it has in the packaged template, CloudFormation values resolved to what they would
 * be in the simulated account. Built from the declarations (functions/lib/stack.ts, which is
 * what serverless.yml packages; test/package.test.ts checks that the two agree), or read from a
 * template `sls package` wrote (the end-to-end test of the zips).
 */
export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface LocalFunction {
  /** The key in serverless.yml, e.g. `shiftTraffic`. */
  name: string;
  functionName: string;
  handler: string;
  runtime: string;
  region: string;
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
  roleArn: string;
  policies: PolicyStatement[];
  async?: { maximumRetryAttempts: number; failuresQueueArn?: string };
  /** ReservedConcurrentExecutions (config `hardening.reservedConcurrency`, the safety functions only). */
  reservedConcurrency?: number;
}

export type LocalStack = Record<string, LocalFunction>;

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': SIM_REGION, 'AWS::AccountId': SIM_ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };

/** Physical names and ARNs of the stack's resources in the simulated account. */
export const LOCAL_RESOURCES = {
  stateMachineArn: `arn:aws:states:${SIM_REGION}:${SIM_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`,
  claimsTable: claimsTableName('prod'),
  failuresQueue: `${STATE_MACHINE_NAME}-${RESOURCES.failuresQueue}-SIM`,
};

const REFS: Record<string, string> = {
  ...PSEUDO,
  [RESOURCES.stateMachine]: LOCAL_RESOURCES.stateMachineArn,
  [RESOURCES.claimsTable]: LOCAL_RESOURCES.claimsTable,
  [RESOURCES.failuresQueue]: `https://sqs.${SIM_REGION}.amazonaws.com/${SIM_ACCOUNT}/${LOCAL_RESOURCES.failuresQueue}`,
};
const ATTRIBUTES: Record<string, string> = {
  [`${RESOURCES.claimsTable}.Arn`]: `arn:aws:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/${LOCAL_RESOURCES.claimsTable}`,
  [`${RESOURCES.failuresQueue}.Arn`]: `arn:aws:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${LOCAL_RESOURCES.failuresQueue}`,
  [`${RESOURCES.key}.Arn`]: `arn:aws:kms:${SIM_REGION}:${SIM_ACCOUNT}:key/00000000-0000-4000-8000-000000000000`,
};

/** Resolves Ref, Fn::GetAtt, Fn::Sub and Fn::Join against the simulated account's names. */
export function resolve(value: unknown, where = 'value'): any {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolve(v, where));
  const node = value as Record<string, unknown>;
  const known = (table: Record<string, string>, key: string) => table[key] ?? (() => { throw new Error(`${where}: cannot resolve ${key} locally`); })();
  if ('Ref' in node) return known(REFS, String(node.Ref));
  if ('Fn::GetAtt' in node) {
    const att = node['Fn::GetAtt'];
    return known(ATTRIBUTES, Array.isArray(att) ? att.join('.') : String(att));
  }
  if ('Fn::Sub' in node) {
    const sub = node['Fn::Sub'];
    const [text, vars] = Array.isArray(sub) ? [sub[0] as string, resolve(sub[1], where) as Record<string, string>] : [sub as string, {}];
    return text.replace(/\$\{([\w:.]+)\}/g, (_, name: string) => vars[name] ?? (name.includes('.') ? known(ATTRIBUTES, name) : known(REFS, name)));
  }
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, where) as string[]).join(separator);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, where)]));
}

const functionName = (name: string) => `${STATE_MACHINE_NAME}-${name}`;
/** Each function's role as the packaged template names it (the name a DNS role's trust policy gives it, too). */
const roleArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/${functionRoleName(name, 'prod', SIM_REGION)}`;

const asPolicy = (s: Record<string, any>): PolicyStatement => ({
  Effect: s.Effect,
  Action: [s.Action].flat(),
  Resource: [s.Resource].flat(),
  ...(s.Condition ? { Condition: s.Condition } : {}),
});

/** The stack the declarations describe: what `sls package` writes, resolved for the simulated account. */
export function stackFromDeclarations(config: CanaryConfig, declarations: Record<string, FunctionDeclaration> = declareFunctions(config, STATE_MACHINE_NAME)): LocalStack {
  const stack: LocalStack = {};
  for (const [name, fn] of Object.entries(declarations)) {
    stack[name] = {
      name,
      functionName: functionName(name),
      handler: fn.handler,
      runtime: PROVIDER.runtime,
      region: SIM_REGION,
      memorySize: PROVIDER.memorySize,
      timeout: fn.timeout,
      environment: resolve({ ...PROVIDER.environment, ...environmentOf(fn) }, name),
      roleArn: roleArn(name),
      policies: statementsOf(fn).map((s) => asPolicy(resolve(s, name))),
      ...(fn.async ? { async: { maximumRetryAttempts: fn.async.maximumRetryAttempts, failuresQueueArn: ATTRIBUTES[`${RESOURCES.failuresQueue}.Arn`] } } : {}),
      ...(fn.reservedConcurrency ? { reservedConcurrency: fn.reservedConcurrency } : {}),
    };
  }
  return stack;
}

type Template = { Resources: Record<string, { Type: string; Properties: any }> };

/** The stack a packaged template describes (cloudformation-template-update-stack.json). */
export function stackFromTemplate(template: Template, names: string[]): LocalStack {
  const resources = template.Resources;
  const stack: LocalStack = {};
  for (const name of names) {
    const id = lambdaLogicalId(name);
    const fn = resources[id]?.Properties;
    if (!fn) throw new Error(`the template has no ${id}`);
    const roleId = fn.Role?.['Fn::GetAtt']?.[0] as string;
    const role = resources[roleId]?.Properties;
    if (!role) throw new Error(`${id}: its role ${roleId} is not in the template`);
    const invokeConfig = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && r.Properties.FunctionName?.Ref === id)?.Properties;
    stack[name] = {
      name,
      functionName: fn.FunctionName,
      handler: fn.Handler,
      runtime: fn.Runtime,
      region: SIM_REGION,
      memorySize: fn.MemorySize,
      timeout: fn.Timeout,
      environment: resolve(fn.Environment?.Variables ?? {}, id),
      roleArn: roleArn(name),
      policies: (role.Policies ?? []).flatMap((p: any) => [p.PolicyDocument.Statement].flat().map((s: any) => asPolicy(resolve(s, roleId)))),
      ...(invokeConfig
        ? {
            async: {
              maximumRetryAttempts: invokeConfig.MaximumRetryAttempts ?? 2,
              ...(invokeConfig.DestinationConfig?.OnFailure ? { failuresQueueArn: resolve(invokeConfig.DestinationConfig.OnFailure.Destination, id) } : {}),
            },
          }
        : {}),
      ...(fn.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: fn.ReservedConcurrentExecutions } : {}),
    };
  }
  return stack;
}
