import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { DnsRole, Route53Access } from '../access.js';
import { CanaryError, fail } from '../errors.js';
import { sleep } from '../sleep.js';
import { clientFor, DNS_ROLE } from './sts.js';

/**
 * Attempts per Route53 request. The SDK's standard retry strategy treats `Throttling` and
 * `PriorRequestNotComplete` as throttling errors (backoff from 500 ms, doubling, full
 * jitter): 5 attempts wait at most 1 + 2 + 4 + 8 = 15 s, so a task's two or three requests
 * stay inside its 50 s Lambda timeout. What still fails is Route53Throttled, which the state
 * machine retries with its own backoff.
 */
export const ROUTE53_MAX_ATTEMPTS = 5;
/** Route53 in the function's own account, as its own role. */
export const route53 = new Route53Client({ maxAttempts: ROUTE53_MAX_ATTEMPTS });

export type { ResourceRecordSet };
export type { DnsRole, Route53Access };

export interface RecordRef {
  hostedZoneId: string;
  recordName: string; // normalized: lower case with the final dot
  recordType: string;
  /** Absent: the function's own account and credentials. */
  access?: Route53Access;
}

/**
 * The one place a Route53 client is chosen: the function's own for a zone in its account, or one
 * whose credentials come from STS AssumeRole into the zone's account (functions/lib/aws/sts.ts).
 * A role STS will not let us assume fails with a named error (DnsRoleNotAssumable, DnsRoleNotTrusted).
 */
export const route53For = (access: Route53Access | undefined): Route53Client =>
  clientFor('route53', access?.role ? { role: access.role, session: access.session } : undefined, route53, (config) => new Route53Client({ maxAttempts: ROUTE53_MAX_ATTEMPTS, ...config }), DNS_ROLE);

const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete']);

/** Runs one Route53 request (the SDK retries throttling first) and names what still fails. */
async function call<T>(what: string, run: () => Promise<T>, hostedZoneId?: string, access?: Route53Access): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof CanaryError) throw e;
    const name = (e as Error).name;
    if (name === 'NoSuchHostedZone')
      return fail(
        'HostedZoneNotFound',
        access?.role
          ? `hosted zone ${hostedZoneId} does not exist in the account of ${access.role.roleArn} (dnsRoleArn); check hostedZoneId and dnsRoleArn`
          : `hosted zone ${hostedZoneId} does not exist (or this role cannot see it); check hostedZoneId`,
      );
    if (THROTTLED.has(name)) fail('Route53Throttled', `Route53 still throttled ${what} after the SDK's retries: ${name}`);
    throw e;
  }
}

/** Route53 returns names with a final dot and escapes `*` as \052. */
const sameName = (a: string | undefined, b: string) => (a ?? '').replace(/\\052/g, '*').toLowerCase() === b;

/** Every record set of the name and type (all weighted siblings), read in one or more pages. */
export async function readRecordSets(ref: RecordRef): Promise<ResourceRecordSet[]> {
  return call('ListResourceRecordSets', async () => {
    const found: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string; id?: string } = { name: ref.recordName, type: ref.recordType };
    for (;;) {
      const page = await route53For(ref.access).send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: ref.hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: start.type as never,
          StartRecordIdentifier: start.id,
        }),
      );
      const sets = page.ResourceRecordSets ?? [];
      const matching = sets.filter((s) => sameName(s.Name, ref.recordName) && s.Type === ref.recordType);
      found.push(...matching);
      // Pages are sorted by name then type: once one set is past ours, there is nothing more.
      if (!page.IsTruncated || matching.length < sets.length) return found;
      start = { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier };
    }
  }, ref.hostedZoneId, ref.access);
}

/** UPSERTs the given record sets in one change batch: Route53 applies all of it or none. */
export async function upsertRecordSets(ref: Pick<RecordRef, 'hostedZoneId' | 'access'>, sets: ResourceRecordSet[], comment: string): Promise<string> {
  return call('ChangeResourceRecordSets', async () => {
    const out = await route53For(ref.access).send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: ref.hostedZoneId,
        ChangeBatch: { Comment: comment.slice(0, 256), Changes: sets.map((s) => ({ Action: 'UPSERT', ResourceRecordSet: s })) },
      }),
    );
    return out.ChangeInfo!.Id!;
  }, ref.hostedZoneId, ref.access);
}

/** Seconds between GetChange polls, plus up to INSYNC_JITTER_SECONDS of random jitter. */
export const INSYNC_POLL_SECONDS = 1.75;
export const INSYNC_JITTER_SECONDS = 0.5;

/** Long enough for Route53's usual minute, short of the 300 s the state machine gives a task. */
export const MAX_INSYNC_WAIT_SECONDS = 240;

/**
 * Polls GetChange until the change is INSYNC on every Route53 name server. Unlike the SDK's
 * waitUntilResourceRecordSetsChanged, which treats every GetChange error as "keep waiting",
 * an error ends the wait under its own name (AccessDenied stays AccessDenied; throttling the
 * SDK could not absorb is Route53Throttled), and only a change that stays PENDING times out.
 * A change belongs to the zone's account: `access` is the pair's, as for the change itself.
 */
export async function waitForInsync(changeId: string, maxWaitSeconds = MAX_INSYNC_WAIT_SECONDS, access?: Route53Access): Promise<void> {
  const deadline = Date.now() + maxWaitSeconds * 1000;
  for (;;) {
    const out = await call(`GetChange for ${changeId}`, () => route53For(access).send(new GetChangeCommand({ Id: changeId })), undefined, access);
    if (out.ChangeInfo?.Status === 'INSYNC') return;
    const pause = (INSYNC_POLL_SECONDS + Math.random() * INSYNC_JITTER_SECONDS) * 1000;
    if (Date.now() + pause > deadline) fail('Route53ChangeNotInSync', `change ${changeId} was not INSYNC after ${maxWaitSeconds} s`);
    await sleep(pause);
  }
}
