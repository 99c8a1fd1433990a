import type { CanaryConfig } from './config.js';
import { declareFunctions, functionRoleName, stateMachineName, statementsOf, type CfnValue, type Statement } from './stack.js';

/**
 * The role a pair's Route53 calls assume in the zone's account (`dnsRoleArn`): what it must trust
 * and what it must allow, read from the stack's own declarations (functions/lib/stack.ts), so the
 * functions' `sts:AssumeRole` grants and the role's policies are said once. The CLI prints them
 * (`npx ecs-dns-canary iam <pair>`); the simulated organization creates the role from them.
 */
export interface DnsRolePolicies {
  roleArn: string;
  /** The account that owns the role (and the zones). */
  account: string;
  /** For `aws iam create-role --assume-role-policy-document`. */
  trustPolicy: PolicyDocument;
  /** For `aws iam put-role-policy --policy-document`. */
  permissionPolicy: PolicyDocument;
  /** The pairs whose zones the role serves (a role may serve several pairs). */
  pairs: string[];
  /** The stack's functions that assume it. */
  functions: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow';
  Principal?: { AWS: string[] };
  Action: string[];
  Resource?: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface StackLocation {
  /** The account the stack is deployed in. */
  account: string;
  region: string;
  stage: string;
  /** More principals the role trusts: operators who run `npx ecs-dns-canary status` on the pair. */
  trust?: string[];
}

const ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//;

/** `${AWS::Partition}` in the stack's Route53 statements, for a role of that partition (a role is assumed within its partition). */
function resolvePartition(value: CfnValue, partition: string): string {
  if (typeof value === 'string') return value;
  if ('Fn::Sub' in value && !/\$\{(?!AWS::Partition\})/.test(value['Fn::Sub'])) return value['Fn::Sub'].replaceAll('${AWS::Partition}', partition);
  throw new Error(`a Route53 grant for a DNS role names a stack value (${JSON.stringify(value)}): it cannot be written into another account's policy`);
}

/**
 * The policies of each DNS role of `pairs` (default: every pair that names one). The trust policy
 * trusts exactly the stack's function roles granted sts:AssumeRole on it (their names as the
 * packaged template gives them), plus `trust`, with the pairs' ExternalId as a condition; the
 * permission policy is the Route53 statements those functions would have had for the role's
 * zones in their own account, with the same condition keys.
 */
export function dnsRolePolicies(config: CanaryConfig, where: StackLocation, pairs: string[] = config.pairs.map((p) => p.name)): DnsRolePolicies[] {
  const declarations = declareFunctions(config, stateMachineName(where.stage));
  const roles = [...new Set(config.pairs.filter((p) => pairs.includes(p.name) && p.dnsRoleArn).map((p) => p.dnsRoleArn!))];
  return roles.map((roleArn) => {
    const [, partition, account] = ARN.exec(roleArn)!;
    const served = config.pairs.filter((p) => p.dnsRoleArn === roleArn);
    const externalId = served.find((p) => p.dnsExternalId)?.dnsExternalId;
    const functions = Object.entries(declarations).filter(([, fn]) => statementsOf(fn).some((s) => s.Action.includes('sts:AssumeRole') && s.Resource.includes(roleArn)));
    const statements: Statement[] = functions.flatMap(([, fn]) => fn.access.flatMap((a) => a.inDnsAccount?.[roleArn] ?? []));
    const unique = statements.filter((s, i) => statements.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
    const principals = [
      ...functions.map(([name]) => `arn:${partition}:iam::${where.account}:role/${functionRoleName(name, where.stage, where.region)}`),
      ...(where.trust ?? []),
    ];
    return {
      roleArn,
      account: account!,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EcsDnsCanary',
            Effect: 'Allow',
            Principal: { AWS: [...new Set(principals)] },
            Action: ['sts:AssumeRole'],
            ...(externalId ? { Condition: { StringEquals: { 'sts:ExternalId': [externalId] } } } : {}),
          },
        ],
      },
      permissionPolicy: {
        Version: '2012-10-17',
        Statement: unique.map((s) => ({
          Effect: 'Allow',
          Action: s.Action,
          Resource: s.Resource.map((r) => resolvePartition(r, partition!)),
          ...(s.Condition ? { Condition: s.Condition } : {}),
        })),
      },
      pairs: served.map((p) => p.name),
      functions: functions.map(([name]) => name),
    };
  });
}
