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
