import { describe, expect, it } from 'vitest';
import { CROSS_ACCOUNT_PAIR, CROSS_ACCOUNT_SCENARIOS, mutations, runMutation, SCENARIOS } from '../local/mutations.js';

// Proof that the simulated account enforces each function's packaged environment and role:
// every variable and every IAM action a function is given is removed in turn, and a named
// scenario must fail. (`npm run mutations` prints the same as a table.)

describe('the mutation scenarios', () => {
  it.each(Object.keys(SCENARIOS))('%s, on the stack as packaged', async (name) => {
    await SCENARIOS[name]!({});
  });
  it.each(CROSS_ACCOUNT_SCENARIOS)('%s, with the zone and green in other accounts', async (name) => {
    await SCENARIOS[name]!({ pair: CROSS_ACCOUNT_PAIR });
  });
});

describe('the cross-account grants', () => {
  it("are sts:AssumeRole on each role, one role at a time, for exactly the functions that call through it; each role's trust in each; each call it allows; and the bus policy's forwarder roles", () => {
    const dns = ['preflight', 'shiftTraffic', 'waitForChange', 'promote', 'rollBack', 'safetyNet', 'sweep'];
    const green = ['startCanary', 'preflight', 'judgeGreen', 'scaleService'];
    const assume = Object.entries({ startCanary: ['shop-web-b'], preflight: ['dns', 'shop-web-b'], shiftTraffic: ['dns'], waitForChange: ['dns'], judgeGreen: ['shop-web-b'], scaleService: ['shop-web-b'], promote: ['dns'], rollBack: ['dns'], safetyNet: ['dns'], sweep: ['dns'] });
    expect(mutations({ crossAccount: true }).map((m) => `${m.fn} ${m.removed}`)).toEqual([
      ...assume.flatMap(([fn, roles]) => roles.map((r) => `${fn} sts:AssumeRole on ecs-dns-canary-${r}`)),
      ...dns.map((fn) => `${fn} ecs-dns-canary-dns's trust in its role`),
      ...['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets', 'route53:GetChange'].map((a) => `ecs-dns-canary-dns ${a}`),
      ...green.map((fn) => `${fn} ecs-dns-canary-shop-web-b's trust in its role`),
      ...['ecs:DescribeServices', 'elasticloadbalancing:DescribeTargetGroups', 'cloudwatch:DescribeAlarms', 'elasticloadbalancing:DescribeTargetHealth', 'cloudwatch:GetMetricData', 'ecs:UpdateService'].map((a) => `ecs-dns-canary-shop-web-b ${a}`),
      'busPolicy ecs-dns-canary-prod-forwarders-444455556666 ecs-dns-canary-prod-forwarder-eu-central-1',
    ]);
  });
});

describe('every environment variable and IAM action a function is given is needed', () => {
  it.each([...mutations(), ...mutations({ full: true }), ...mutations({ crossAccount: true })].map((m) => [m.fn, m.removed, m.crossAccount ? ' (zone and green in other accounts)' : '', m] as const))('%s without %s%s: a scenario fails', async (_, __, ___, m) => {
    const result = await runMutation(m);
    expect(result.caughtBy, `removing ${m.removed} from ${m.fn} went unnoticed by every scenario`).toBeDefined();
  });
});
