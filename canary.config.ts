import { defineConfig } from './functions/lib/config.js';

/**
 * The pairs this stack manages. Each pair is one DNS name served by two weighted Route53
 * records, one per ECS service; whichever record carries the weight is live (blue). Deploy a
 * new task definition to the idle service and the canary moves traffic to it.
 *
 * Validated by functions/lib/config.ts at `sls package` and in the tests; the README lists
 * every field.
 */
export default defineConfig({
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
});
