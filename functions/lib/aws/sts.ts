import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AssumedRole, SideAccess } from '../access.js';
import { CanaryError, type ErrorName } from '../errors.js';

/**
 * The one place credentials for another account are made: STS AssumeRole into the role (with its
 * ExternalId when it asks for one), for a session named after the pair and the run. Clients made
 * here are kept per function, role, session, service and region; the credentials of a session
 * are shared by its clients and renewed RENEW_BEFORE_MS before they expire.
 */

/** What a refused AssumeRole is called, by what the role is for (config field, error names). */
export interface RoleUse {
  /** The config fields that name the role and its ExternalId: `dnsRoleArn`/`dnsExternalId`, `roleArn`/`externalId`. */
  field: string;
  externalIdField: string;
  notTrusted: ErrorName;
  notAssumable: ErrorName;
}

export const DNS_ROLE: RoleUse = { field: 'dnsRoleArn', externalIdField: 'dnsExternalId', notTrusted: 'DnsRoleNotTrusted', notAssumable: 'DnsRoleNotAssumable' };
export const SERVICE_ROLE: RoleUse = { field: 'roleArn', externalIdField: 'externalId', notTrusted: 'ServiceRoleNotTrusted', notAssumable: 'ServiceRoleNotAssumable' };

const clients = new Map<string, unknown>();
/** A warm container serves few executions at a time: beyond this many clients (or sessions) the oldest goes. */
const MAX_CLIENTS = 32;

/** As a new Lambda container starts: no client, no credentials kept (each local world is a fresh deployment). */
export const forgetAssumedRoles = (): void => (clients.clear(), providers.clear());

/**
 * STS refusing AssumeRole, by name. IAM says which side refused when it can ("because no
 * resource-based policy allows": the role's trust policy; "no identity-based policy": this
 * function's own grant); a role that does not exist is refused like a grant that is missing.
 */
function refusal(e: Error, role: AssumedRole, use: RoleUse): Error {
  if (!/AccessDenied|InvalidClientTokenId|ExpiredToken|RegionDisabled|ValidationError/.test(e.name)) return e;
  const fix = `\`npx ecs-dns-canary iam <pair>\` prints the trust and permission policies ${role.roleArn} needs`;
  if (/resource-based policy/.test(e.message))
    return new CanaryError(use.notTrusted, `the trust policy of ${role.roleArn} does not let this function's role assume it${role.externalId ? ` with the configured ${use.externalIdField}` : ''}: ${e.message}. ${fix}`);
  return new CanaryError(
    use.notAssumable,
    `cannot assume ${role.roleArn} (${use.field}): the role does not exist, this function's role may not assume it (deploy the stack with this ${use.field}), or its trust policy does not allow it: ${e.name}: ${e.message}. ${fix}`,
  );
}

/** Credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;
const providers = new Map<string, AwsCredentialIdentityProvider>();

/**
 * Credentials of `role` for `session`, shared by every client of the session (ECS, ELBv2 and
 * CloudWatch of one side: one AssumeRole, not one per service); a refusal is a named error (RoleUse).
 */
function assumedCredentials(key: string, role: AssumedRole, session: string, use: RoleUse): AwsCredentialIdentityProvider {
  let shared = providers.get(key);
  if (shared) return shared;
  const provider = fromTemporaryCredentials({
    params: { RoleArn: role.roleArn, RoleSessionName: session, ...(role.externalId ? { ExternalId: role.externalId } : {}), DurationSeconds: 3600 },
  });
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  shared = async (properties) => {
    if (current && (!current.expiration || current.expiration.getTime() - Date.now() > RENEW_BEFORE_MS)) return current;
    pending ??= provider(properties)
      .then((credentials) => (current = credentials))
      .catch((e: Error) => {
        throw refusal(e, role, use);
      })
      .finally(() => (pending = undefined));
    return pending;
  };
  providers.set(key, shared);
  return shared;
}

/**
 * The client for `access`: `home` (the function's own, in its region) when the access names
 * neither a region nor a role; else one made by `make` in that region, as that role.
 */
export function clientFor<C>(service: string, access: SideAccess | undefined, home: C, make: (config: { region?: string; credentials?: AwsCredentialIdentityProvider }) => C, use: RoleUse = SERVICE_ROLE): C {
  if (!access || (!access.region && !access.role)) return home;
  const role = access.role;
  // The function name keeps each function's credentials its own where functions share a process (the local runner); on Lambda it is constant.
  const session = JSON.stringify([process.env.AWS_LAMBDA_FUNCTION_NAME ?? '', role?.roleArn ?? '', role?.externalId ?? '', role ? access.session : '', use.field]);
  const key = JSON.stringify([session, service, access.region ?? '']);
  let client = clients.get(key) as C | undefined;
  if (!client) {
    client = make({ ...(access.region ? { region: access.region } : {}), ...(role ? { credentials: assumedCredentials(session, role, access.session, use) } : {}) });
    clients.set(key, client);
    if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value!);
    if (providers.size > MAX_CLIENTS) providers.delete(providers.keys().next().value!);
  }
  return client;
}
