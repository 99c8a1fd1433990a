/**
 * Token buckets, as AWS throttles its APIs: each bucket holds up to `capacity` tokens (the
 * burst) and refills at `refillPerSecond` (the sustained rate), in (virtual) time. A request
 * takes its tokens from every bucket it draws on, or is throttled and takes none.
 */
export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(readonly spec: BucketSpec, now = Date.now()) {
    this.tokens = spec.capacity;
    this.at = now;
  }

  available(now = Date.now()): number {
    this.tokens = Math.min(this.spec.capacity, this.tokens + ((now - this.at) / 1000) * this.spec.refillPerSecond);
    this.at = now;
    return this.tokens;
  }

  take(n: number): void {
    this.tokens -= n;
  }
}

/** Takes `cost` from each bucket if all of them have it; otherwise takes nothing and returns false. */
export function takeAll(draws: [TokenBucket, number][], now = Date.now()): boolean {
  if (draws.some(([bucket, cost]) => bucket.available(now) < cost)) return false;
  for (const [bucket, cost] of draws) bucket.take(cost);
  return true;
}

/**
 * Route 53, per account. Route 53 Developer Guide, "Throttling for Amazon Route 53 API
 * requests" (docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html):
 * "A request consumes a token from both buckets [account, and its action's] and is throttled
 * if either bucket is empty." ChangeResourceRecordSets, GetChange and ListResourceRecordSets
 * have no rows of their own: they take the per-action default. Change throughput is a third,
 * account-wide bucket counted in record changes: "1 per CREATE, 1 per DELETE, 2 per UPSERT".
 * Throttled: HTTP 400, Code `Throttling`, Message `Rate exceeded`.
 */
export const ROUTE53_LIMITS = {
  /** "All Amazon Route 53 API actions combined (account level) | 50 | 10" */
  account: { capacity: 50, refillPerSecond: 10 },
  /** "Any single API action not listed below (per-action default) | 50 | 10" */
  perAction: { capacity: 50, refillPerSecond: 10 },
  /** "a maximum capacity of 1,500 changes (burst) and refills at 100 changes per second (sustained)" */
  changes: { capacity: 1_500, refillPerSecond: 100 },
} satisfies Record<string, BucketSpec>;

/** Change-throughput tokens a change takes ("2 per UPSERT"). */
export const CHANGE_TOKENS: Record<string, number> = { CREATE: 1, DELETE: 1, UPSERT: 2 };

/**
 * ECS, "Request throttling for the Amazon ECS API" (Amazon ECS API Reference): "Service read
 * actions | DescribeServices, ListServices | 100 | 20", per account and Region.
 * Throttled: HTTP 400, `ThrottlingException`, "Rate exceeded".
 */
export const ECS_DESCRIBE_SERVICES: BucketSpec = { capacity: 100, refillPerSecond: 20 };

/**
 * CloudWatch service quotas (docs.aws.amazon.com/general/latest/gr/cw_region.html): "Rate of
 * DescribeAlarms requests | 9 per second" (no burst documented). Throttled: HTTP 400,
 * `Throttling`, "Rate exceeded".
 */
export const CLOUDWATCH_DESCRIBE_ALARMS: BucketSpec = { capacity: 9, refillPerSecond: 9 };

/**
 * CloudWatch service quotas: "GetMetricData | 50 transactions per second (TPS)" per Region
 * (adjustable in Service Quotas; no burst documented). Throttled: HTTP 400, `Throttling`,
 * "Rate exceeded".
 */
export const CLOUDWATCH_GET_METRIC_DATA: BucketSpec = { capacity: 50, refillPerSecond: 50 };
