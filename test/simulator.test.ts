import { describe, expect, it } from 'vitest';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { evaluate } from '../local/sim/cloudwatch.js';
import { SimulatedAccount } from '../local/sim/account.js';
import { VirtualClock } from '../local/virtual-time.js';

const ZONE = 'Z0SIMTEST';
const weighted = (id: string, weight: number, extra: Partial<ResourceRecordSet> = {}): ResourceRecordSet => ({
  Name: 'app.example.com.',
  Type: 'A',
  SetIdentifier: id,
  Weight: weight,
  TTL: 60,
  ResourceRecords: [{ Value: '10.0.0.1' }],
  ...extra,
});

function account() {
  const sim = new SimulatedAccount();
  sim.route53.createHostedZone({ Id: ZONE, Name: 'example.com' });
  const change = (...changes: [string, ResourceRecordSet][]) =>
    sim.route53.changeResourceRecordSets({ HostedZoneId: ZONE, ChangeBatch: { Changes: changes.map(([Action, ResourceRecordSet]) => ({ Action: Action as never, ResourceRecordSet })) } });
  return { sim, change };
}

describe('the simulated Route53 rejects what Route53 rejects', () => {
  it.each<[string, [string, ResourceRecordSet][], string]>([
    ['a weight above 255', [['CREATE', weighted('a', 256)]], 'InvalidInput'],
    ['a negative weight', [['CREATE', weighted('a', -1)]], 'InvalidInput'],
    ['a weighted record without SetIdentifier', [['CREATE', { ...weighted('a', 1), SetIdentifier: undefined }]], 'InvalidInput'],
    ['a record outside the zone', [['CREATE', { ...weighted('a', 1), Name: 'app.other.org.' }]], 'InvalidChangeBatch'],
    ['mixed TTLs on weighted non-alias records', [['CREATE', weighted('a', 1)], ['CREATE', weighted('b', 1, { TTL: 300 })]], 'InvalidChangeBatch'],
    ['two changes of one record in a batch', [['CREATE', weighted('a', 1)], ['UPSERT', weighted('a', 2)]], 'InvalidChangeBatch'],
    ['an alias with a TTL', [['CREATE', { ...weighted('a', 1), ResourceRecords: undefined, AliasTarget: { HostedZoneId: 'Z1', DNSName: 'lb.', EvaluateTargetHealth: false } }]], 'InvalidInput'],
  ])('%s', (_, changes, error) => {
    const { sim, change } = account();
    expect(() => change(...changes)).toThrow(expect.objectContaining({ name: error }));
    expect(sim.route53.recordSets(ZONE).filter((r) => r.Type === 'A')).toEqual([]);
  });

  it('CREATE of an existing record fails, and the whole batch with it (atomic)', () => {
    const { sim, change } = account();
    change(['CREATE', weighted('a', 1)]);
    expect(() => change(['UPSERT', weighted('b', 5)], ['CREATE', weighted('a', 9)])).toThrow(expect.objectContaining({ name: 'InvalidChangeBatch' }));
    expect(sim.route53.weights(ZONE, 'app.example.com', 'A')).toEqual({ a: 1 });
  });

  it('a missing zone is NoSuchHostedZone (404)', () => {
    const { sim } = account();
    expect(() => sim.route53.listResourceRecordSets({ HostedZoneId: 'ZMISSING' })).toThrow(expect.objectContaining({ name: 'NoSuchHostedZone', $metadata: expect.objectContaining({ httpStatusCode: 404 }) }));
  });

  it('a change is PENDING until insyncDelayMs has passed, then INSYNC', async () => {
    const clock = VirtualClock.install(0);
    try {
      const { sim, change } = account();
      const { ChangeInfo } = change(['CREATE', weighted('a', 1)]);
      expect(sim.route53.getChange({ Id: ChangeInfo.Id }).ChangeInfo.Status).toBe('PENDING');
      await clock.advance(sim.route53.insyncDelayMs);
      expect(sim.route53.getChange({ Id: ChangeInfo.Id }).ChangeInfo.Status).toBe('INSYNC');
    } finally {
      clock.uninstall();
    }
  });

  it('lists record sets from StartRecordName/Type in Route53 order, with pagination', () => {
    const { sim, change } = account();
    change(['CREATE', weighted('a', 1)], ['CREATE', weighted('b', 0)], ['CREATE', { ...weighted('x', 1), Name: 'zzz.example.com.' }]);
    const page = sim.route53.listResourceRecordSets({ HostedZoneId: ZONE, StartRecordName: 'app.example.com', StartRecordType: 'A', MaxItems: 1 as never });
    expect(page.ResourceRecordSets.map((r) => r.SetIdentifier)).toEqual(['a']);
    expect(page).toMatchObject({ IsTruncated: true, NextRecordName: 'app.example.com.', NextRecordType: 'A', NextRecordIdentifier: 'b' });
  });
});

describe('composite alarm rules', () => {
  const states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> = { a: 'ALARM', b: 'OK', c: 'INSUFFICIENT_DATA' };
  it.each([
    ['ALARM("a")', 'ALARM'],
    ['ALARM("b")', 'OK'],
    ['ALARM("a") AND ALARM("b")', 'OK'],
    ['ALARM("a") AND NOT ALARM("b")', 'ALARM'],
    ['ALARM("b") OR INSUFFICIENT_DATA("c")', 'ALARM'],
    ['(ALARM("b") OR OK("b")) AND FALSE', 'OK'],
    ['ALARM("b") OR ALARM("b") AND TRUE', 'OK'],
  ])('%s is %s', (rule, expected) => expect(evaluate(rule, (n) => states[n]!)).toBe(expected));
  it('rejects a malformed rule', () => expect(() => evaluate('ALARM("a") AND', () => 'OK')).toThrow(/malformed/));
});

describe('fault injection', () => {
  it('fails the next N matching calls, then lets them through', () => {
    const sim = new SimulatedAccount();
    sim.inject({ service: 'route53', command: 'GetChange', error: 'Throttling', times: 2 });
    const failing = (sim as unknown as { maybeFail(s: string, c: string): void }).maybeFail.bind(sim);
    expect(() => failing('route53', 'GetChange')).toThrow('injected Throttling');
    expect(() => failing('route53', 'ListResourceRecordSets')).not.toThrow();
    expect(() => failing('route53', 'GetChange')).toThrow();
    expect(() => failing('route53', 'GetChange')).not.toThrow();
  });
});
