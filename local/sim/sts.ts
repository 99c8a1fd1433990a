import type { PolicyDocument } from '../../functions/lib/roles.js';
import type { LocalFunction, PolicyStatement } from '../stack.js';
import { SIM_ACCOUNT } from './constants.js';
import { awsError } from './errors.js';
import { assumeRoleDecision } from './iam.js';
import { Route53Model } from './route53.js';

/**
 * The simulated organization's other accounts and STS. An account other than the stack's own
 * holds its own Route53 state and its IAM roles (a trust policy and a permission policy each).
 * AssumeRole is decided on both sides (the caller's grant and the role's trust policy, with its
 * ExternalId condition) and hands out credentials the SDK signs with; a call signed with them is
 * made as that role, in that account, and authorized against the role's permission policy.
 */
export interface SimRole {
  arn: string;
  trustPolicy: PolicyDocument;
  permissionPolicy: PolicyDocument;
}

export class OtherAccount {
  readonly route53 = new Route53Model();
  readonly roles = new Map<string, SimRole>();
  constructor(readonly id: string) {}

  /** `aws iam create-role` + `put-role-policy` in this account. */
  createRole(role: SimRole): void {
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(role.arn)?.[1];
    if (account !== this.id) throw new Error(`role ${role.arn} is not in account ${this.id}`);
    this.roles.set(role.arn, structuredClone(role));
  }
}

/** Credentials STS handed out: whose they are, until when. */
export interface AssumedSession {
  accessKeyId: string;
  account: OtherAccount;
  role: SimRole;
  sessionName: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session> */
  arn: string;
  expiresAt: number;
  /** The function whose role assumed it (absent: the operator). */
  by?: string;
}

/** One AssumeRole, as CloudTrail in the role's account records it. */
export interface AssumeRoleRecord {
  at: number;
  caller: string;
  roleArn: string;
  sessionName: string;
  externalId?: string;
  outcome: 'Allowed' | 'identity' | 'trust' | 'NoSuchRole';
}

/** The operator in the stack's account (tests, the demo, the CLI): allowed everything by its own policies. */
export const OPERATOR_ROLE_ARN = `arn:aws:iam::${SIM_ACCOUNT}:role/operator`;

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const roleName = (arn: string) => arn.split('/').at(-1)!;

export class StsModel {
  readonly sessions = new Map<string, AssumedSession>();
  readonly assumed: AssumeRoleRecord[] = [];
  private counter = 0;

  constructor(private accounts: Map<string, OtherAccount>) {}

  /** GetCallerIdentity: the function's role session, or the operator. */
  callerIdentity(fn: LocalFunction | undefined) {
    return {
      Account: SIM_ACCOUNT,
      Arn: fn ? `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/${roleName(fn.roleArn)}/${fn.functionName}` : `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/operator/operator`,
      UserId: 'AROASIMULATED:operator',
    };
  }

  async assumeRole(fn: LocalFunction | undefined, input: { RoleArn?: string; RoleSessionName?: string; ExternalId?: string; DurationSeconds?: number }) {
    const roleArn = input.RoleArn ?? '';
    const sessionName = input.RoleSessionName ?? '';
    if (!SESSION_NAME.test(sessionName))
      awsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`);
    const duration = input.DurationSeconds ?? 3600;
    if (duration < 900 || duration > 3600) awsError('ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
    const caller = fn
      ? { principal: `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/${roleName(fn.roleArn)}/${fn.functionName}`, policies: fn.policies as object[] }
      : { principal: `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/operator/operator`, policies: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const accountId = /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
    const account = accountId ? this.accounts.get(accountId) : undefined;
    const role = account?.roles.get(roleArn);
    const record = { at: Date.now(), caller: caller.principal, roleArn, sessionName, ...(input.ExternalId !== undefined ? { externalId: input.ExternalId } : {}) };
    const denied = (why: string) =>
      awsError('AccessDenied', `User: ${caller.principal} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}${why}`, 403);
    if (!account || !role) {
      this.assumed.push({ ...record, outcome: 'NoSuchRole' });
      // STS says no more than this about a role that does not exist.
      return denied('');
    }
    const decision = await assumeRoleDecision(caller, { arn: roleArn, account: account.id, trustPolicy: role.trustPolicy }, input.ExternalId);
    this.assumed.push({ ...record, outcome: decision });
    if (decision === 'identity') return denied(' because no identity-based policy allows the sts:AssumeRole action');
    if (decision === 'trust') return denied(' because no resource-based policy allows the sts:AssumeRole action');
    const accessKeyId = `ASIASIMDNS${String(++this.counter).padStart(10, '0')}`;
    const expiresAt = Date.now() + duration * 1000;
    const arn = `arn:aws:sts::${account.id}:assumed-role/${roleName(roleArn)}/${sessionName}`;
    this.sessions.set(accessKeyId, { accessKeyId, account, role, sessionName, arn, expiresAt, ...(fn ? { by: fn.name } : {}) });
    return {
      Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'simulated', SessionToken: `simulated-${accessKeyId}`, Expiration: new Date(expiresAt) },
      AssumedRoleUser: { Arn: arn, AssumedRoleId: `AROASIMDNS:${sessionName}` },
    };
  }

  /** The session whose credentials signed a request, if STS handed them out here; expired ones fail as AWS fails them. */
  session(accessKeyId: string | undefined): AssumedSession | undefined {
    const session = accessKeyId ? this.sessions.get(accessKeyId) : undefined;
    if (session && Date.now() >= session.expiresAt) awsError('ExpiredToken', 'The security token included in the request is expired', 403);
    return session;
  }

  /** The session as the IAM evaluator sees a caller: the role, its permission policy, its session name. */
  static asCaller(session: AssumedSession): LocalFunction {
    return {
      name: session.by ?? 'operator',
      functionName: session.sessionName,
      handler: '',
      runtime: '',
      region: '',
      memorySize: 0,
      timeout: 0,
      environment: {},
      roleArn: session.role.arn,
      policies: session.role.permissionPolicy.Statement as PolicyStatement[],
    };
  }
}
