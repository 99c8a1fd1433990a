import { describe, expect, it } from 'vitest';
import shipped from '../local/example.config.js';
import { analysisOf, checkServicesAt, findPairByService, parseConfig } from '../functions/lib/config.js';
import { normalizedRecordName } from '../functions/lib/stack.js';
import { examplePair } from './helpers.js';

const withPair = (patch: Record<string, unknown>) => ({ pairs: [{ ...examplePair(), ...patch }] });
const errorOf = (input: unknown) => {
  try {
    parseConfig(input);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected InvalidConfig');
};

describe('configuration', () => {
  it('the example pair is valid, with defaults and a normalized record name', () => {
    const config = parseConfig(shipped);
    expect(config.pairs).toHaveLength(1);
    expect(config.pairs[0]!.recordName).toBe('shop.example.com.');
    const minimal = parseConfig(withPair({ bakeSeconds: undefined, pollSeconds: undefined, minWaitSeconds: undefined, executionTimeoutSeconds: undefined }));
    expect(minimal.pairs[0]).toMatchObject({ bakeSeconds: 300, pollSeconds: 30, minWaitSeconds: 60, executionTimeoutSeconds: 14_400 });
  });

  it.each([
    [{ steps: [10, 50] }, 'pairs[0].steps: the last step must be 100'],
    [{ steps: { canary: 100 } }, 'pairs[0].steps'],
    [{ hostedZoneId: 'not-a-zone' }, 'pairs[0].hostedZoneId: hostedZoneId must look like'],
    [{ recordName: 'not a name' }, 'pairs[0].recordName'],
    [{ recordType: 'MX' }, 'pairs[0].recordType'],
    [{ name: 'Shop Web' }, 'pairs[0].name'],
    [{ pollSeconds: 0 }, 'pairs[0].pollSeconds'],
    [{ bakeSeconds: -1 }, 'pairs[0].bakeSeconds'],
    [{ alarms: ['a', 'a'] }, 'pairs[0].alarms: alarm names must be unique'],
    [{ executionTimeoutSeconds: 300 }, 'pairs[0].executionTimeoutSeconds: must be at least 720 s'],
    [{ surprise: true }, 'surprise'],
    [{ bakeSeconds: 86_400, pollSeconds: 1, executionTimeoutSeconds: 86_400 }, 'pairs[0].pollSeconds: 345600 checks of green in all'],
    [{ services: [examplePair().services[0], examplePair().services[0]] }, 'pairs[0].services: the two services must differ'],
    [{ services: [examplePair().services[0]] }, 'pairs[0].services'],
    [{ services: [{ ...examplePair().services[0], alarms: ['shop-web-5xx-rate'] }, examplePair().services[1]] }, "pairs[0].services: alarm shop-web-5xx-rate of shop-web-a is also the pair's"],
    [{ analysis: { alpha: 0.5 } }, 'pairs[0].analysis.alpha'],
    [{ analysis: { mode: 'shadow' } }, 'pairs[0].analysis.mode'],
    [{ analysis: { maxBakeSeconds: 60 } }, 'pairs[0].analysis: maxBakeSeconds (60) must be at least bakeSeconds (120)'],
    [{ analysis: { onInconclusive: 'approval' } }, "pairs[0].analysis: onInconclusive 'approval' needs approval"],
    [{ analysis: { metrics: [{ name: 'resets', value: { namespace: 'AWS/NetworkELB', metricName: 'TCP_Target_Reset_Count', stat: 'p999' }, maxRatio: 2 }] } }, 'pairs[0].analysis.metrics[0]'],
    [{ analysis: { metrics: [{ name: 'x', errors: { namespace: 'N', metricName: 'E' }, requests: { namespace: 'N', metricName: 'R' } }, { name: 'x', value: { namespace: 'N', metricName: 'V' }, maxRatio: 2 }] } }, 'pairs[0].analysis: analysis.metrics names must be unique'],
  ])('%j fails with InvalidConfig naming the field', (patch, message) => {
    const error = errorOf(withPair(patch));
    expect(error.name).toBe('InvalidConfig');
    expect(error.message).toContain(message);
  });

  it('analysis: on by default with every default, false turns it off, a service may name its own alarms', () => {
    const [on] = parseConfig(withPair({})).pairs;
    expect(analysisOf(on!)).toMatchObject({ mode: 'enforce', alpha: 0.01, errorRatio: 1.5, settleSeconds: 150, minRequests: 300, minShareOfWeight: 0.5, onInconclusive: 'rollback', latency: { ratio: 1.5, floorMs: 50, minutes: 3 } });
    expect(analysisOf(parseConfig(withPair({ analysis: false })).pairs[0]!)).toBe(false);
    expect(analysisOf(parseConfig(withPair({ analysis: { mode: 'observe', latency: false } })).pairs[0]!)).toMatchObject({ mode: 'observe', latency: false, alpha: 0.01 });
    const own = parseConfig(withPair({ services: [{ ...examplePair().services[0], alarms: ['a-errors'] }, examplePair().services[1]] })).pairs[0]!;
    expect(own.services.map((s) => s.alarms)).toEqual([['a-errors'], []]);
  });

  it('a service, record or name used by two pairs is refused', () => {
    const a = examplePair();
    const b = { ...examplePair(), name: 'other' };
    const error = errorOf({ pairs: [a, b] });
    expect(error.message).toContain('pairs[1].recordName: record shop.example.com. A is already used by pair shop-web');
    expect(error.message).toContain('pairs[1].services[0]: service shop/shop-web-a is already used by pair shop-web');
  });

  it('no pairs at all is refused', () => expect(errorOf({ pairs: [] }).message).toContain('pairs: declare at least one pair'));

  it('finds the pair and side of a service', () => {
    const config = parseConfig(shipped);
    expect(findPairByService(config, 'shop', 'shop-web-b')).toMatchObject({ index: 1, pair: { name: 'shop-web' } });
    expect(findPairByService(config, 'shop', 'other')).toBeUndefined();
  });
});

describe('one owner per service, where it really runs', () => {
  const HOME = { account: '123456789012', region: 'eu-west-1' };
  const blue = { cluster: 'shop', service: 'shop-web-a', setIdentifier: 'shop-web-a' };
  const green = { cluster: 'shop', service: 'shop-web-b', setIdentifier: 'shop-web-b' };
  const billing = (service: Record<string, unknown>) => ({
    ...examplePair(),
    name: 'billing',
    recordName: 'billing.example.com',
    alarms: [],
    services: [service, { cluster: 'billing', service: 'billing-b', setIdentifier: 'billing-b' }],
  });
  const twoPairs = (service: Record<string, unknown>) => parseConfig({ pairs: [{ ...examplePair(), services: [blue, green] }, billing(service)] });
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    return undefined;
  };

  it("refuses a service that names the stack's region in one pair and no region in another: the same service", () => {
    const config = twoPairs({ ...blue, region: 'eu-west-1' });
    const error = refusal(() => checkServicesAt(config, HOME));
    expect(error?.name).toBe('InvalidConfig');
    expect(error?.message).toContain('service shop/shop-web-a in eu-west-1 of 123456789012 is both shop-web.services[0] and billing.services[0]');
    // ... and a function placing an event of it refuses it rather than picking the first pair
    const where = { place: HOME, home: HOME };
    expect(refusal(() => findPairByService(config, 'billing', 'billing-b', where))?.name).toBe('InvalidConfig');
  });

  it('refuses it inside one pair too, and a role in the stack\'s own account with no role', () => {
    const inPair = parseConfig({ pairs: [{ ...examplePair(), services: [blue, { ...blue, setIdentifier: 'shop-web-b', region: 'eu-west-1' }] }] });
    expect(refusal(() => checkServicesAt(inPair, HOME))?.message).toContain('is both shop-web.services[0] and shop-web.services[1]');
    const ownRole = twoPairs({ ...blue, roleArn: 'arn:aws:iam::123456789012:role/shop' });
    expect(refusal(() => checkServicesAt(ownRole, HOME))?.name).toBe('InvalidConfig');
    // `sls package` knows the region but not the account: that one only the functions refuse
    expect(refusal(() => checkServicesAt(ownRole, { account: '', region: 'eu-west-1' }))).toBeUndefined();
  });

  it('accepts the same names where they are different services: another region, another account', () => {
    for (const place of [{ region: 'eu-central-1' }, { roleArn: 'arn:aws:iam::444455556666:role/shop' }]) {
      const config = twoPairs({ ...blue, ...place });
      expect(refusal(() => checkServicesAt(config, HOME))).toBeUndefined();
      expect(findPairByService(config, 'shop', 'shop-web-a', { place: HOME, home: HOME })).toMatchObject({ pair: { name: 'shop-web' }, index: 0 });
    }
    // the stack in eu-central-1: the service naming eu-central-1 is now the stack's, and claimed twice
    expect(refusal(() => checkServicesAt(twoPairs({ ...blue, region: 'eu-central-1' }), { ...HOME, region: 'eu-central-1' }))?.name).toBe('InvalidConfig');
  });
});

describe('record names as IAM compares them (route53:ChangeResourceRecordSetsNormalizedRecordNames)', () => {
  it.each([
    ['shop.example.com.', 'shop.example.com'],
    ['Shop.Example.COM', 'shop.example.com'],
    ['*.example.com', '\\052.example.com'],
    ['\\052.example.com.', '\\052.example.com'],
    ['my_app-1.example.com', 'my_app-1.example.com'],
    ['a@b.example.com', 'a\\100b.example.com'],
  ])('%s -> %s', (name, normalized) => expect(normalizedRecordName(name)).toBe(normalized));
});
