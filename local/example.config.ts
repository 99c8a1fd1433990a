import type { CanaryConfigInput } from '../functions/lib/config.js';

/**
 * The example pair the demo, the tests, the fault matrix and the benchmark run on. It is their
 * own fixture: your pairs in canary.config.ts are validated on their own and never change what
 * these runs expect.
 */
export default {
  pairs: [
    {
      name: 'shop-web',
      hostedZoneId: 'Z0EXAMPLE12345',
      recordName: 'shop.example.com',
      recordType: 'A',
      services: [
        { cluster: 'shop', service: 'shop-web-a', setIdentifier: 'shop-web-a' },
        { cluster: 'shop', service: 'shop-web-b', setIdentifier: 'shop-web-b' },
      ],
      alarms: ['shop-web-5xx-rate', 'shop-web-health'],
      steps: [10, 25, 50, 100],
      bakeSeconds: 120,
      pollSeconds: 30,
      minWaitSeconds: 60,
      executionTimeoutSeconds: 3600,
    },
  ],
} satisfies CanaryConfigInput;

/**
 * The example pair across a simulated organization (the demo's --cross-account, the cross-account
 * mutation scenarios): its zone in account 222222222222, reached through the DNS role there, and
 * green (shop-web-b) in eu-central-1 of account 444455556666, reached through its service role,
 * with an alarm of its own there; its events reach the stack through the forwarder of that place.
 */
export const CROSS_ACCOUNT = {
  dnsRoleArn: 'arn:aws:iam::222222222222:role/ecs-dns-canary-dns',
  dnsExternalId: 'shop-web-canary',
  services: [
    { cluster: 'shop', service: 'shop-web-a', setIdentifier: 'shop-web-a' },
    {
      cluster: 'shop',
      service: 'shop-web-b',
      setIdentifier: 'shop-web-b',
      region: 'eu-central-1',
      roleArn: 'arn:aws:iam::444455556666:role/ecs-dns-canary-shop-web-b',
      externalId: 'shop-web-canary',
      alarms: ['shop-web-b-5xx'],
    },
  ],
} satisfies Partial<CanaryConfigInput['pairs'][number]>;
