import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { route53, route53For } from '../functions/lib/aws/route53.js';
import { sessionName } from '../functions/lib/access.js';
import { SIM_ACCOUNT } from '../local/sim/account.js';
import { OPERATOR_ROLE_ARN } from '../local/sim/sts.js';
import { greenSequence, weightsOf, world } from './helpers.js';

// A pair whose hosted zone lives in another account of the simulated organization: the real ASL,
// the real handlers, each function's own role; STS AssumeRole decided on both sides; every Route53
// call in the DNS account authorized against the role `npx ecs-dns-canary iam` prints.

const DNS_ACCOUNT = '222222222222';
const ROLE = `arn:aws:iam::${DNS_ACCOUNT}:role/ecs-dns-canary-dns`;
const EXTERNAL_ID = 'shop-web-canary-7f3a';
const STEPS = [10, 25, 50, 100];
const ALL_BLUE = { blue: 100, green: 0 };
const ALL_GREEN = { blue: 0, green: 100 };
const crossAccount = (extra: object = {}) => ({ pair: { dnsRoleArn: ROLE, dnsExternalId: EXTERNAL_ID }, ...extra });

describe('a hosted zone in another account', () => {
  it('promotes with every Route53 call made in the DNS account through the role, in sessions named for the pair and execution', async () => {
    const w = world(crossAccount());
    const dns = w.sim.accounts.get(DNS_ACCOUNT)!;
    expect(dns.route53.hasZone(w.pair.hostedZoneId)).toBe(true);
    expect(w.sim.route53.hasZone(w.pair.hostedZoneId)).toBe(false);
    const [result] = await w.runCanary();
    expect(result!.status, `${result!.error}: ${result!.cause}`).toBe('SUCCEEDED');
    expect(greenSequence(w.sim, w.pair)).toEqual(STEPS);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_GREEN);
    // read, change and GetChange all went to the DNS account; none to the stack's own Route53
    const route53 = w.sim.calls.filter((c) => c.service === 'route53' && c.caller);
    expect(new Set(route53.map((c) => c.command))).toEqual(new Set(['ListResourceRecordSets', 'ChangeResourceRecordSets', 'GetChange']));
    expect(route53.every((c) => c.account === DNS_ACCOUNT && !c.error)).toBe(true);
    // each function that calls Route53 assumed the role itself, with the ExternalId, in a session named for the pair and the execution
    const session = sessionName('shop-web', result!.executionArn);
    expect(session).toMatch(/^shop-web--ecs-svc-\d+$/);
    const assumed = w.sim.sts.assumed;
    expect(assumed.every((a) => a.outcome === 'Allowed' && a.roleArn === ROLE && a.externalId === EXTERNAL_ID && a.sessionName === session)).toBe(true);
    expect(new Set(assumed.map((a) => a.caller.split('/')[1]))).toEqual(
      new Set(['preflight', 'shiftTraffic', 'waitForChange', 'promote'].map((fn) => `ecs-dns-canary-prod-${fn}-eu-west-1-lambdaRole`)),
    );
    // credentials are kept per function, role and session: one AssumeRole each, not one per call
    expect(assumed).toHaveLength(4);
    expect(route53.length).toBeGreaterThan(assumed.length * 3);
  });

  it('rolls back through the role when an alarm fires at 50 %: blue 100 / green 0 in the DNS account', async () => {
    const w = world(crossAccount());
    w.whenGreenReaches(50, () => w.sim.cloudwatch.setState('shop-web-5xx-rate', 'ALARM', 'Threshold Crossed'));
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('CanaryRolledBack');
    expect(result!.cause).toMatch(/AlarmFired|shop-web-5xx-rate/);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(greenSequence(w.sim, w.pair)).toEqual([10, 25, 50, 0]);
    expect(w.sim.calls.filter((c) => c.service === 'route53' && c.caller === 'rollBack').every((c) => c.account === DNS_ACCOUNT && !c.error)).toBe(true);
    expect(w.sim.sts.assumed.some((a) => a.caller.includes('-rollBack-') && a.outcome === 'Allowed')).toBe(true);
  });

  it('the safety net restores a stopped run through the role (its claim carries it)', async () => {
    const w = world(crossAccount());
    w.whenGreenReaches(25, () => w.canary.executions[0]!.abort(), 30_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('ABORTED');
    const [net] = await Promise.all(w.canary.safetyNets);
    expect(net).toMatchObject({ action: 'ROLLED_BACK' });
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(w.sim.calls.filter((c) => c.service === 'route53' && c.caller === 'safetyNet').every((c) => c.account === DNS_ACCOUNT && !c.error)).toBe(true);
    expect(w.sim.sts.assumed.some((a) => a.caller.includes('-safetyNet-') && a.outcome === 'Allowed')).toBe(true);
  });
});

describe('bad cross-account configuration is refused before any traffic moves', () => {
  const refused = async (options: object) => {
    const w = world(crossAccount(options));
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(w.route53Writes()).toBe(0);
    expect(weightsOf(w.sim, w.pair)).toEqual(ALL_BLUE);
    expect(w.claim()).toBeUndefined();
    return result!;
  };

  it('a role that does not exist: DnsRoleNotAssumable from Preflight', async () => {
    const result = await refused({ role: () => undefined });
    expect(result.error).toBe('DnsRoleNotAssumable');
    expect(result.cause).toContain(ROLE);
    expect(result.cause).toContain('npx ecs-dns-canary iam');
  });

  it("a trust policy that lacks the stack's role: DnsRoleNotTrusted from Preflight", async () => {
    const result = await refused({
      role: (role: any) => {
        role.trustPolicy.Statement[0].Principal.AWS = role.trustPolicy.Statement[0].Principal.AWS.filter((p: string) => !p.includes('-preflight-'));
        return role;
      },
    });
    expect(result.error).toBe('DnsRoleNotTrusted');
    expect(result.cause).toContain('ecs-dns-canary-prod-preflight-eu-west-1-lambdaRole');
  });

  it('a wrong ExternalId fails the trust policy: DnsRoleNotTrusted', async () => {
    const result = await refused({
      role: (role: any) => {
        role.trustPolicy.Statement[0].Condition.StringEquals['sts:ExternalId'] = ['something-else'];
        return role;
      },
    });
    expect(result.error).toBe('DnsRoleNotTrusted');
    expect(result.cause).toContain('dnsExternalId');
  });

  it("a stack whose function role is not granted sts:AssumeRole on the role: DnsRoleNotAssumable (the caller's side)", async () => {
    const result = await refused({
      mutate: (stack: any) => {
        for (const s of stack.preflight.policies) s.Action = s.Action.filter((a: string) => a !== 'sts:AssumeRole');
      },
    });
    expect(result.error).toBe('DnsRoleNotAssumable');
    expect(result.cause).toContain('no identity-based policy allows the sts:AssumeRole action');
  });

  it('a zone not in the DNS account: HostedZoneNotFound naming the role', async () => {
    const w = world(crossAccount());
    w.sim.accounts.get(DNS_ACCOUNT)!.route53.deleteHostedZone(w.pair.hostedZoneId);
    const [result] = await w.runCanary();
    expect(result!.error).toBe('HostedZoneNotFound');
    expect(result!.cause).toContain(ROLE);
    expect(w.route53Writes()).toBe(0);
  });
});

it('the operator reads the pair through the role too (status), when the trust policy names them', async () => {
  const w = world({ ...crossAccount(), operatorTrust: [`arn:aws:iam::${SIM_ACCOUNT}:role/operator`] });
  const { code, json } = await w.operator('status', 'shop-web', '--json');
  expect(code).toBe(0);
  expect(json.weights).toEqual(ALL_BLUE);
  expect(w.sim.sts.assumed.at(-1)).toMatchObject({ outcome: 'Allowed', caller: expect.stringContaining('assumed-role/operator/'), sessionName: expect.stringMatching(/^shop-web--cli@/) });
});

it('an operator the trust policy does not name is refused with DnsRoleNotTrusted (exit 2)', async () => {
  const w = world(crossAccount());
  const denied = await w.operator('status', 'shop-web', '--json');
  expect(denied.code).toBe(2);
  expect(denied.json.error).toBe('DnsRoleNotTrusted');
});

it("the DNS account's Route53 throttles with its own buckets, not the stack account's", async () => {
  const w = world({ ...crossAccount(), operatorTrust: [OPERATOR_ROLE_ARN] });
  const access = { role: { roleArn: ROLE, externalId: EXTERNAL_ID }, session: 'shop-web--burst' };
  const list = (client: Route53Client) => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: w.pair.hostedZoneId })).catch((e: Error) => e.name);
  await w.clock.run(Promise.all(Array.from({ length: 80 }, () => list(route53For(access)))));
  const throttled = (account?: string) => w.sim.calls.filter((c) => c.service === 'route53' && c.error === 'Throttling' && c.account === account).length;
  expect(throttled(DNS_ACCOUNT)).toBeGreaterThan(0);
  // the stack account's buckets are full: its own calls are answered (this zone is not there)
  const own = await w.clock.run(Promise.all(Array.from({ length: 40 }, () => list(route53))));
  expect(new Set(own)).toEqual(new Set(['NoSuchHostedZone']));
  expect(throttled(undefined)).toBe(0);
});
