import { expect, it } from 'vitest';
import { greenSequence, weightsOf, world } from './helpers.js';

it('smoke', async () => {
  const w = world();
  const [result] = await w.runCanary();
  console.log(result!.status, result!.error, result!.cause, result!.transitions, greenSequence(w.sim, w.pair), w.clock.elapsedMs() / 1000);
  expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 0, green: 100 });
});
