import type { CanaryConfig } from './config.js';
import { declareFunctions, functionRoleName, stateMachineName, statementsOf, type CfnValue, type Statement } from './stack.js';

/**
 * The roles a pair's calls assume in other accounts (a pair's `dnsRoleArn` in the zone's account,
 * a service's `roleArn` in the account where it runs): what each must trust and what it must
 * allow, read from the stack's own declarations (functions/lib/stack.ts), so the functions'
 * `sts:AssumeRole` grants and the roles' policies are said once. The CLI prints them
 * (`npx ecs-dns-canary iam <pair>`); the simulated organization creates the roles from them.
 */
export interface RolePolicies {
  roleArn: string;
  /** The account that owns the role (and the zone or the service). */
  account: string;
  /** For `aws iam create-role --assume-role-policy-document`. */
  trustPolicy: PolicyDocument;
  /** For `aws iam put-role-policy --policy-document`. */
  permissionPolicy: PolicyDocument;
  /** The pairs whose zones or services the role serves (a role may serve several). */
  pairs: string[];
  /** What the role is used for: `Route53 (zone Z…)`, `ECS, ELBv2 and CloudWatch of shop/shop-web-b in eu-central-1`. */
  uses: string[];
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

/**
 * `${AWS::Partition}` and `${AWS::Region}` in the stack's statements for a role, as they are where
 * the stack runs (a role is assumed within its partition; a side that names no region runs in the
 * stack's). Nothing else of the stack can be written into another account's policy.
 */
function resolveStackValue(value: CfnValue, partition: string, region: string): string {
  if (typeof value === 'string') return value;
  if ('Fn::Sub' in value && !/\$\{(?!AWS::Partition\}|AWS::Region\})/.test(value['Fn::Sub'])) return value['Fn::Sub'].replaceAll('${AWS::Partition}', partition).replaceAll('${AWS::Region}', region);
  throw new Error(`a grant for a role in another account names a stack value (${JSON.stringify(value)}): it cannot be written into another account's policy`);
}

/** Every role in another account the configuration names, with the pairs it serves and what for. */
function rolesOf(config: CanaryConfig, region: string): Map<string, { externalId?: string; pairs: Set<string>; uses: string[] }> {
  const roles = new Map<string, { externalId?: string; pairs: Set<string>; uses: string[] }>();
  const use = (roleArn: string, externalId: string | undefined, pair: string, what: string) => {
    const role = roles.get(roleArn) ?? { pairs: new Set<string>(), uses: [] };
    if (externalId) role.externalId = externalId;
    role.pairs.add(pair);
    role.uses.push(what);
    roles.set(roleArn, role);
  };
  for (const p of config.pairs) {
    if (p.dnsRoleArn) use(p.dnsRoleArn, p.dnsExternalId, p.name, `Route53 (zone ${p.hostedZoneId} of ${p.name})`);
    for (const s of p.services) if (s.roleArn) use(s.roleArn, s.externalId, p.name, `ECS, ELBv2 and CloudWatch of ${s.cluster}/${s.service} in ${s.region ?? region}`);
  }
  return roles;
}

/**
 * The policies of each role of `pairs` in another account (default: every pair). The trust
 * policy trusts exactly the stack's function roles granted sts:AssumeRole on it (their names as
 * the packaged template gives them), plus `trust`, with the ExternalId as a condition; the
 * permission policy is what those functions call through it (their `inRole` statements), with
 * the same resources and condition keys they would have had in their own account. A role that
 * serves several pairs or sides gets what all of them need.
 */
export function rolePolicies(config: CanaryConfig, where: StackLocation, pairs: string[] = config.pairs.map((p) => p.name)): RolePolicies[] {
  const declarations = declareFunctions(config, stateMachineName(where.stage));
  // The roles `pairs` name; every pair that names a role shapes its policies, not only those asked about.
  const roles = [...rolesOf(config, where.region)].filter(([, role]) => pairs.some((p) => role.pairs.has(p)));
  return roles.map(([roleArn, role]) => {
    const [, partition, account] = ARN.exec(roleArn)!;
    const functions = Object.entries(declarations).filter(([, fn]) => statementsOf(fn).some((s) => s.Action.includes('sts:AssumeRole') && s.Resource.includes(roleArn)));
    const statements: Statement[] = functions.flatMap(([, fn]) => fn.access.flatMap((a) => a.inRole?.[roleArn] ?? []));
    // Each action on each resource once (scaleService's DescribeServices is the readers' too).
    const granted = new Set<string>();
    const unique = statements.flatMap((s) => {
      const key = (action: string, resource: CfnValue) => JSON.stringify([action, resource, s.Condition ?? null]);
      const Action = s.Action.filter((a) => !s.Resource.every((r) => granted.has(key(a, r))));
      for (const a of Action) for (const r of s.Resource) granted.add(key(a, r));
      return Action.length ? [{ ...s, Action }] : [];
    });
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
            ...(role.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': [role.externalId] } } } : {}),
          },
        ],
      },
      permissionPolicy: {
        Version: '2012-10-17',
        Statement: unique.map((s) => ({
          Effect: 'Allow',
          Action: s.Action,
          Resource: s.Resource.map((r) => resolveStackValue(r, partition!, where.region)),
          ...(s.Condition ? { Condition: s.Condition } : {}),
        })),
      },
      pairs: [...role.pairs],
      uses: role.uses,
      functions: functions.map(([name]) => name),
    };
  });
}
