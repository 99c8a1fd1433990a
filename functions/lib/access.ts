/**
 * How a pair's calls reach what lives outside the stack's own account and region (no SDK here:
 * plans, claims and the CLI name it; functions/lib/aws/sts.ts turns it into clients).
 */

/** A role in another account that the pair's calls assume (config `dnsRoleArn`, or a service's `roleArn`), with the ExternalId its trust policy asks for. */
export interface AssumedRole {
  roleArn: string;
  externalId?: string;
}

/** A pair's hosted zone in another account: the role there that its Route53 calls assume (config `dnsRoleArn`, `dnsExternalId`). */
export type DnsRole = AssumedRole;

/**
 * How a pair's Route53 calls are made: with the function's own credentials, or, when the zone is
 * in another account, as `role` assumed for a session named `session` (sessionName: CloudTrail
 * in the zone's account then says which pair and which execution).
 */
export interface Route53Access {
  role?: DnsRole;
  session: string;
}

/**
 * How a side's ECS, ELBv2 and CloudWatch calls are made: in its `region` (absent: the stack's),
 * as `role` when the side is in another account (config `services[].region`, `roleArn`, `externalId`).
 */
export interface SideAccess {
  region?: string;
  role?: AssumedRole;
  session: string;
}

/**
 * Things to read (alarm names, metric queries, target groups), gathered by the place they are read
 * in (the access's region and role): one read per place, a single one when both sides run in the
 * stack's, none for a place with nothing to read.
 */
export function byPlace<T>(groups: { items: readonly T[]; access?: SideAccess | undefined }[]): { items: T[]; access?: SideAccess }[] {
  const places = new Map<string, { items: T[]; access?: SideAccess }>();
  for (const g of groups) {
    const key = JSON.stringify([g.access?.region ?? '', g.access?.role?.roleArn ?? '']);
    const place = places.get(key) ?? { items: [], ...(g.access ? { access: g.access } : {}) };
    place.items.push(...g.items);
    places.set(key, place);
  }
  return [...places.values()].filter((p) => p.items.length);
}

/** STS RoleSessionName: 2 to 64 characters of letters, digits and +=,.@_- */
const SESSION_MAX = 64;

/**
 * The STS session name for a pair's calls by `who` (an execution's ARN or name, or `cli@user`):
 * `<pair>--<rest>`, where an execution named for its pair (`shop-web--ecs-svc-4000000000000000003`)
 * gives its deployment part. Characters STS refuses become `-`; too long, the end is kept (the
 * deployment id's distinctive digits).
 */
export function sessionName(pair: string, who: string): string {
  const name = who.split(':').at(-1)!;
  const rest = (name.startsWith(`${pair}--`) ? name.slice(pair.length + 2) : name).replace(/[^\w+=,.@-]/g, '-');
  const head = `${pair}--`.replace(/[^\w+=,.@-]/g, '-').slice(0, SESSION_MAX - 8);
  return `${head}${rest.slice(-(SESSION_MAX - head.length))}`.padEnd(2, '-');
}
