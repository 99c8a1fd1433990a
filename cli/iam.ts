/**
 * `npx ecs-dns-canary iam <pair>`: each role a pair's calls assume in another account (its zone's
 * dnsRoleArn, its services' roleArn), as two policies ready for `aws iam create-role` and
 * `aws iam put-role-policy` (or your own IaC), read from the stack's declarations
 * (functions/lib/roles.ts).
 */
import type { CanaryConfig, PairConfig } from '../functions/lib/config.js';
import { rolePolicies, type RolePolicies } from '../functions/lib/roles.js';
import { fail } from '../functions/lib/errors.js';
import { stateMachineName } from '../functions/lib/stack.js';

export interface IamOptions {
  stage: string;
  /** The stack's region (its function roles are named after it). */
  region: string | undefined;
  /** The stack's account; default: the operator's (STS GetCallerIdentity). */
  account: string | undefined;
  /** More principals to trust (operators), repeatable. */
  trust: string[];
}

/** What `--json` prints: `{"roles":[{"roleArn","account","trustPolicy","permissionPolicy"}]}`. */
export interface IamOutput {
  roles: Pick<RolePolicies, 'roleArn' | 'account' | 'trustPolicy' | 'permissionPolicy'>[];
}

const PRINCIPAL = /^(arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/:-]+|\d{12})$/;

/** The stack's account as the operator's credentials see it. */
export async function callerAccount(): Promise<string> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const { Account } = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  return Account!;
}

export async function iamPolicies(config: CanaryConfig, pair: PairConfig, options: IamOptions): Promise<{ output: IamOutput; roles: RolePolicies[] }> {
  const bad = options.trust.filter((t) => !PRINCIPAL.test(t));
  if (bad.length) fail('UsageError', `--trust takes an IAM principal ARN (arn:aws:iam::111122223333:role/name) or an account id, got ${bad.join(', ')}`);
  if (options.account !== undefined && !/^\d{12}$/.test(options.account)) fail('UsageError', `--account takes a 12-digit account id, got ${options.account}`);
  if (!pair.dnsRoleArn && !pair.services.some((s) => s.roleArn)) return { output: { roles: [] }, roles: [] };
  if (!options.region) fail('UsageError', "iam needs the stack's region (its function roles are named after it): --region or AWS_REGION");
  const account = options.account ?? (await callerAccount());
  const roles = rolePolicies(config, { account, region: options.region!, stage: options.stage, trust: options.trust }, [pair.name]);
  return { output: { roles: roles.map(({ roleArn, account, trustPolicy, permissionPolicy }) => ({ roleArn, account, trustPolicy, permissionPolicy })) }, roles };
}

/** The role's name and path, as `aws iam create-role` takes them. */
function nameAndPath(roleArn: string): { name: string; path: string } {
  const rest = roleArn.split(':role/')[1]!;
  const name = rest.split('/').at(-1)!;
  return { name, path: `/${rest.slice(0, -name.length)}` };
}

export function formatIam(pair: PairConfig, roles: RolePolicies[], options: Pick<IamOptions, 'stage' | 'region'>): string[] {
  if (roles.length === 0)
    return [`${pair.name}: its zone ${pair.hostedZoneId} and its services are reached with the stack's own roles (no dnsRoleArn, no service roleArn): no role to create in another account`];
  return roles.flatMap((r) => {
    const { name, path } = nameAndPath(r.roleArn);
    const others = r.pairs.filter((p) => p !== pair.name);
    const externalId = r.trustPolicy.Statement[0]?.Condition?.StringEquals?.['sts:ExternalId']?.[0];
    return [
      `${pair.name}: ${r.roleArn} for ${r.uses.join('; ')}`,
      `  in account ${r.account}, assumed by ${r.functions.join(', ')} of ${stateMachineName(options.stage)} (${options.region})${externalId ? ` with ExternalId ${externalId}` : ''}`,
      ...(others.length ? [`  the role serves ${others.join(', ')} too: its permission policy covers every pair that names it`] : []),
      '',
      `Trust policy (in account ${r.account}: aws iam create-role --role-name ${name}${path !== '/' ? ` --path ${path}` : ''} --assume-role-policy-document file://trust.json):`,
      JSON.stringify(r.trustPolicy, null, 2),
      '',
      `Permission policy (aws iam put-role-policy --role-name ${name} --policy-name ecs-dns-canary --policy-document file://permissions.json):`,
      JSON.stringify(r.permissionPolicy, null, 2),
    ];
  });
}
