import { describe, expect, it } from 'vitest';
import { CROSS_ACCOUNT_PAIR, CROSS_ACCOUNT_SCENARIOS, mutations, runMutation, SCENARIOS } from '../local/mutations.js';

// Proof that the simulated account enforces each function's packaged environment and role:
// every variable and every IAM action a function is given is removed in turn, and a named
// scenario must fail. (`npm run mutations` prints the same as a table.)

describe('the mutation scenarios', () => {
  it.each(Object.keys(SCENARIOS))('%s, on the stack as packaged', async (name) => {
    await SCENARIOS[name]!({});
  });
  it.each(CROSS_ACCOUNT_SCENARIOS)('%s, with the zone in another account', async (name) => {
    await SCENARIOS[name]!({ pair: CROSS_ACCOUNT_PAIR });
  });
});

describe('the cross-account grants', () => {
  it("are sts:AssumeRole on the DNS role for exactly the functions that call Route53, the role's trust in each, and each call it allows", () => {
    const fns = ['preflight', 'shiftTraffic', 'waitForChange', 'promote', 'rollBack', 'safetyNet', 'sweep'];
    expect(mutations({ crossAccount: true }).map((m) => `${m.fn} ${m.removed}`)).toEqual([
      ...fns.map((fn) => `${fn} sts:AssumeRole`),
      ...fns.map((fn) => `${fn} the DNS role's trust in its role`),
      ...['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets', 'route53:GetChange'].map((a) => `dnsRole ${a}`),
    ]);
  });
});

describe('every environment variable and IAM action a function is given is needed', () => {
  it.each([...mutations(), ...mutations({ full: true }), ...mutations({ crossAccount: true })].map((m) => [m.fn, m.removed, m.crossAccount ? ' (zone in another account)' : '', m] as const))('%s without %s%s: a scenario fails', async (_, __, ___, m) => {
    const result = await runMutation(m);
    expect(result.caughtBy, `removing ${m.removed} from ${m.fn} went unnoticed by every scenario`).toBeDefined();
  });
});
