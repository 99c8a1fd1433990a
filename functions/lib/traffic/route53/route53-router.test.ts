import { describe, expect, it } from 'vitest';
import { world } from '../../../../test/helpers.js';
import { route53Reader, route53Router } from './route53-router.js';

const ref = (w: ReturnType<typeof world>) => ({
  hostedZoneId: w.pair.hostedZoneId,
  recordName: w.pair.recordName,
  recordType: w.pair.recordType,
  blueSetIdentifier: w.pair.services[0].setIdentifier,
  greenSetIdentifier: w.pair.services[1].setIdentifier,
});

describe('the Route53 traffic router (two weighted records of one name)', () => {
  it('reads the weights, sets both in one change batch keeping every other field, and waits until INSYNC', async () => {
    const w = world();
    const router = route53Router(ref(w));
    const before = w.sim.route53.recordSets(w.pair.hostedZoneId).filter((r) => r.SetIdentifier);
    expect(await w.clock.run(router.read())).toEqual({ blue: 100, green: 0 });
    const { from, changeId } = await w.clock.run(router.set({ blue: 75, green: 25 }, [{ blue: 100, green: 0 }], 'test'));
    expect(from).toEqual({ blue: 100, green: 0 });
    expect(w.sim.route53.applied.at(-1)!.changes).toHaveLength(2);
    await w.clock.run(router.waitApplied(changeId!));
    const after = w.sim.route53.recordSets(w.pair.hostedZoneId).filter((r) => r.SetIdentifier);
    expect(after.map(({ Weight: _, ...rest }) => rest)).toEqual(before.map(({ Weight: _, ...rest }) => rest));
    expect(await w.clock.run(route53Reader(ref(w)).read())).toEqual({ blue: 75, green: 25 });
  });

  it('drift guard: weights other than expected fail with WeightsChangedOutside and write nothing', async () => {
    const w = world();
    w.setWeights(60, 40);
    const writes = w.route53Writes();
    await expect(w.clock.run(route53Router(ref(w)).set({ blue: 75, green: 25 }, [{ blue: 100, green: 0 }], 'test'))).rejects.toMatchObject({ name: 'WeightsChangedOutside' });
    expect(w.route53Writes()).toBe(writes);
  });

  it("writes nothing when the weights already are the target; 'any' is the rollback's guard", async () => {
    const w = world();
    const writes = w.route53Writes();
    expect(await w.clock.run(route53Router(ref(w)).set({ blue: 100, green: 0 }, 'any', 'test'))).toEqual({ from: { blue: 100, green: 0 }, changeId: null });
    w.setWeights(60, 40);
    expect((await w.clock.run(route53Router(ref(w)).set({ blue: 100, green: 0 }, 'any', 'test'))).changeId).not.toBeNull();
    expect(w.route53Writes()).toBe(writes + 1); // the rollback's; setWeights is the operator's, outside the SDK
  });

  it('clients may cache for the floor when the records have no TTL (alias records)', async () => {
    const w = world();
    expect(await w.clock.run(route53Router(ref(w)).cacheSeconds(45))).toBe(45);
  });

  it('clients may cache for the TTL when it is above the floor', async () => {
    const w = world({ seed: { alias: false, ttl: 300 } });
    expect(await w.clock.run(route53Router(ref(w)).cacheSeconds(45))).toBe(300);
  });
});
